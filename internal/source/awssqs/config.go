package awssqs

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/decode/awsevent"
	"github.com/skywatch-dev/skywatch/internal/source/awss3"
)

// SecurityLake is the log type of Amazon Security Lake's Parquet (OCSF)
// objects.
const SecurityLake = "security_lake"

// Config is the aws-sqs source's configuration.
type Config struct {
	// Queue is the queue's URL, or its name (resolved with GetQueueUrl in the
	// credentials' account and region) (required).
	Queue string `yaml:"queue"`
	// LogType says what the notified objects hold: any aws-s3 log type
	// (cloudtrail, vpcflow, custom, security_hub, ...) or security_lake
	// (required).
	LogType string `yaml:"log_type"`
	// MaxReceives is how many times a message is received before it is moved
	// aside instead of read again (default 5).
	MaxReceives int `yaml:"max_receives"`
	// DeadLetterQueue (URL or name) receives the messages moved aside; without
	// it they are deleted.
	DeadLetterQueue string `yaml:"dead_letter_queue"`
	// VisibilityTimeout is how long a received message stays hidden from other
	// consumers; it is extended while its objects are being read (default 5m).
	VisibilityTimeout config.Duration `yaml:"visibility_timeout"`
	// WaitTime is the long-polling wait of one receive, up to 20s (default 20s).
	WaitTime config.Duration `yaml:"wait_time"`
	// MaxMessages is how many messages one receive asks for, 1 to 10 (default 10).
	MaxMessages int `yaml:"max_messages"`
	// Workers is how many messages are read at once (default 4).
	Workers int `yaml:"workers"`
	// Discard drops events whose field matches a regular expression, as aws-s3's.
	// For security_lake the field is a path in the OCSF row (class_name,
	// api.operation, ...); for the other types it is inside the record.
	Discard awss3.Discard `yaml:"discard"`
	// AccountAlias fills log_info.aws_account_alias.
	AccountAlias string `yaml:"account_alias"`
	// OnlyLogsAfter skips objects whose notification is older than this day
	// (2024-01-31, Wazuh's 2024-JAN-31) or time (RFC 3339); their messages are
	// deleted.
	OnlyLogsAfter string `yaml:"only_logs_after"`
	// AWS holds the credentials, region and endpoint keys (region, profile,
	// role_arn, external_id, endpoint, ...). Region and endpoint are the queue's;
	// path_style applies to the objects' reads.
	AWS awsclient.Config `yaml:",inline"`
	// S3Endpoint overrides the S3 endpoint the objects are read from
	// (S3-compatible stores, tests). Objects are read in the region their
	// notification names.
	S3Endpoint string `yaml:"s3_endpoint"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxReceives:       5,
		VisibilityTimeout: config.Duration(5 * time.Minute),
		WaitTime:          config.Duration(20 * time.Second),
		MaxMessages:       10,
		Workers:           4,
	}
}

// LogTypes are the accepted log_type values.
func LogTypes() []string { return append(awsevent.LogTypes(), SecurityLake) }

// Validate checks the configuration and reports every problem.
func (c *Config) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Queue == "" {
		fail("queue", "required (a queue URL or name)")
	} else if err := checkQueue(c.Queue); err != nil {
		fail("queue", "%v", err)
	}
	if c.DeadLetterQueue != "" {
		if err := checkQueue(c.DeadLetterQueue); err != nil {
			fail("dead_letter_queue", "%v", err)
		} else if c.DeadLetterQueue == c.Queue {
			fail("dead_letter_queue", "must not be the queue itself")
		}
	}
	known := false
	for _, t := range LogTypes() {
		known = known || c.LogType == t
	}
	if !known {
		fail("log_type", "%q is not one of %s", c.LogType, strings.Join(LogTypes(), ", "))
	}
	if c.MaxReceives < 1 {
		fail("max_receives", "must be at least 1")
	}
	if v := c.VisibilityTimeout.Std(); v < time.Second || v > 12*time.Hour || v%time.Second != 0 {
		fail("visibility_timeout", "must be whole seconds between 1s and 12h")
	}
	if w := c.WaitTime.Std(); w < 0 || w > 20*time.Second || w%time.Second != 0 {
		fail("wait_time", "must be whole seconds between 0s and 20s")
	}
	if c.MaxMessages < 1 || c.MaxMessages > 10 {
		fail("max_messages", "must be between 1 and 10")
	}
	if c.Workers < 1 {
		fail("workers", "must be at least 1")
	}
	if (c.Discard.Field == "") != (c.Discard.Regex == "") {
		fail("discard", "field and regex go together")
	}
	if c.Discard.Regex != "" {
		if _, err := regexp.Compile(c.Discard.Regex); err != nil {
			fail("discard.regex", "%v", err)
		}
	}
	if _, err := awsclient.ParseDate(c.OnlyLogsAfter); err != nil {
		fail("only_logs_after", "%v", err)
	}
	if err := c.AWS.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}(\.fifo)?$`)

// checkQueue accepts a queue URL or a queue name.
func checkQueue(q string) error {
	if strings.HasPrefix(q, "https://") || strings.HasPrefix(q, "http://") {
		if strings.Count(strings.TrimRight(q, "/"), "/") < 4 {
			return fmt.Errorf("%q is not a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/name", q)
		}
		return nil
	}
	if !queueNameRE.MatchString(q) {
		return fmt.Errorf("%q is neither a queue URL nor a queue name (up to 80 letters, digits, - and _)", q)
	}
	return nil
}
