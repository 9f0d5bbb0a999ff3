package awssqs

import (
	"context"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

// TestReadmeExample keeps the README's configuration example valid: it must
// parse, decode strictly into the source's Config, validate, mean what the
// README says, and (pointed at the fakes) read a queue.
func TestReadmeExample(t *testing.T) {
	e := newEnv(t)
	sc := configtest.ExampleFromREADME(t, "README.md").Sources[0]
	c := DefaultConfig()
	if err := sc.Decode(&c); err != nil {
		t.Fatalf("the README example does not decode: %v", err)
	}
	if sc.Type != "aws-sqs" || sc.Name != "trail-events" || c.LogType != "cloudtrail" || c.MaxReceives != 5 ||
		c.DeadLetterQueue != "cloudtrail-events-dlq" || c.VisibilityTimeout.Std() != 5*time.Minute ||
		c.Discard.Field != "eventName" || c.OnlyLogsAfter != "2024-05-01" || c.AWS.ExternalID.Reveal() != "none" {
		t.Errorf("README example decoded to %s %q: %+v", sc.Type, sc.Name, c)
	}

	// The same settings, pointed at the fakes, read a queue.
	e.sqs.CreateQueue("cloudtrail-events", 0)
	e.sqs.CreateQueue("cloudtrail-events-dlq", 0)
	e.s3.put(t, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz", trail(4, "ListBuckets"))
	e.s3.put(t, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/y.json.gz", trail(3, "CreateUser"))
	e.sqs.Send("cloudtrail-events", s3Event("AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz",
		"AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/y.json.gz"))
	c.Queue = "cloudtrail-events"
	c.AWS, c.S3Endpoint, c.WaitTime = e.cfg.AWS, e.cfg.S3Endpoint, e.cfg.WaitTime
	s, err := New(c, Settings{Name: sc.Name, Once: true})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	col := &collector{}
	if err := s.Run(context.Background(), col.emit); err != nil {
		t.Fatal(err)
	}
	if n := len(col.all()); n != 3 || s.Stats().Skipped != 4 {
		t.Errorf("read %d events (%d discarded), want 3 (4)", n, s.Stats().Skipped)
	}
}
