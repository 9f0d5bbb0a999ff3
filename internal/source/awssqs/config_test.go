package awssqs

import (
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

func TestConfigDefaults(t *testing.T) {
	c := DefaultConfig()
	c.Queue, c.LogType = "q", "security_lake"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxReceives != 5 || c.VisibilityTimeout.Std() != 5*time.Minute || c.WaitTime.Std() != 20*time.Second || c.MaxMessages != 10 || c.Workers != 4 {
		t.Errorf("defaults %+v", c)
	}
	c.Queue = "https://sqs.eu-west-1.amazonaws.com/111122223333/events.fifo"
	c.OnlyLogsAfter = "2024-05-01T10:00:00+02:00"
	if err := c.Validate(); err != nil {
		t.Errorf("queue URL and RFC 3339 date: %v", err)
	}
}

// TestConfigErrors: every problem is reported at once, each with its field.
func TestConfigErrors(t *testing.T) {
	c := DefaultConfig()
	c.Queue, c.DeadLetterQueue, c.LogType = "bad name!", "bad name!", "parquet"
	c.MaxReceives, c.MaxMessages, c.Workers = 0, 11, 0
	c.VisibilityTimeout, c.WaitTime = config.Duration(1500*time.Millisecond), config.Duration(21*time.Second)
	c.Discard.Field, c.OnlyLogsAfter = "eventName", "yesterday"
	c.AWS.AccessKeyID = "AKID"
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, field := range []string{"queue:", "dead_letter_queue:", "log_type:", "max_receives:", "max_messages:", "workers:",
		"visibility_timeout:", "wait_time:", "discard:", "only_logs_after:", "secret_access_key:"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("no %s error in:\n%v", field, err)
		}
	}
	c = DefaultConfig()
	c.Queue, c.DeadLetterQueue, c.LogType = "q", "q", "cloudtrail"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "must not be the queue itself") {
		t.Errorf("dead-letter queue = queue: %v", err)
	}
}
