package awslogs

import (
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
	"github.com/skywatch-dev/skywatch/internal/config"
)

// Config is the "aws-cloudwatch-logs" source's configuration.
type Config struct {
	// AWS holds the credential and endpoint keys shared by the AWS sources
	// (region, profile, role_arn, external_id, endpoint, sts_endpoint, ...),
	// written flat in the source's section.
	AWS awsclient.Config `yaml:",inline"`
	// LogGroups are the log groups to read (required).
	LogGroups []string `yaml:"log_groups"`
	// Regions are the regions the log groups are read in, one client each
	// (default: the region of the credentials, see AWS.Region).
	Regions []string `yaml:"regions"`
	// OnlyLogsAfter is the oldest event time read from a stream seen for the
	// first time: 2024-01-31, Wazuh's 2024-JAN-31 or an RFC 3339 time (default:
	// 00:00 UTC of the day the group is first read, as Wazuh).
	OnlyLogsAfter string `yaml:"only_logs_after"`
	// Interval is the time between two passes in service mode (default 5m).
	Interval config.Duration `yaml:"interval"`
	// LogStreamPrefix limits the streams read to those whose name starts with it.
	LogStreamPrefix string `yaml:"log_stream_prefix"`
	// RemoveLogStreams is Wazuh's option to delete streams after reading them. It
	// is refused: see the README.
	RemoveLogStreams bool `yaml:"remove_log_streams"`
	// ForgetAfter is how long the position of a stream that no longer exists is
	// kept (default 24h).
	ForgetAfter config.Duration `yaml:"forget_after"`
	// BatchSize is the number of events per batch handed to the pipeline
	// (default 500; a batch also ends at 4 MiB).
	BatchSize int `yaml:"batch_size"`
}

// Defaults.
const (
	DefaultInterval    = 5 * time.Minute
	DefaultForgetAfter = 24 * time.Hour
	DefaultBatchSize   = 500
)

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Interval: config.Duration(DefaultInterval), ForgetAfter: config.Duration(DefaultForgetAfter),
		BatchSize: DefaultBatchSize}
}

var groupRE = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	var errs []error
	if err := c.AWS.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.LogGroups) == 0 {
		errs = append(errs, config.FieldError{Field: "log_groups", Msg: "required"})
	}
	errs = append(errs, awsclient.ValidateNames("log_groups", c.LogGroups, groupRE, "a log group name (letters, digits and . - _ / #)")...)
	errs = append(errs, awsclient.ValidateRegions(c.Regions)...)
	if strings.ContainsAny(c.LogStreamPrefix, ":*") {
		errs = append(errs, config.FieldError{Field: "log_stream_prefix", Msg: "stream names cannot contain : or *"})
	}
	if c.RemoveLogStreams {
		errs = append(errs, config.FieldError{Field: "remove_log_streams",
			Msg: "not supported: deleting a stream after reading it loses the events written to it meanwhile; set a retention period on the log group instead"})
	}
	if _, err := awsclient.ParseDate(c.OnlyLogsAfter); err != nil {
		errs = append(errs, config.FieldError{Field: "only_logs_after", Msg: err.Error()})
	}
	errs = append(errs, positive(&c.Interval, DefaultInterval, time.Second, "interval"),
		positive(&c.ForgetAfter, DefaultForgetAfter, time.Minute, "forget_after"))
	switch {
	case c.BatchSize < 0:
		errs = append(errs, config.FieldError{Field: "batch_size", Msg: "must not be negative"})
	case c.BatchSize == 0:
		c.BatchSize = DefaultBatchSize
	}
	return errors.Join(errs...)
}

// positive defaults a zero duration and checks a set one against its minimum.
func positive(d *config.Duration, def, least time.Duration, field string) error {
	switch {
	case *d == 0:
		*d = config.Duration(def)
	case d.Std() < least:
		return config.FieldError{Field: field, Msg: "must be at least " + least.String()}
	}
	return nil
}
