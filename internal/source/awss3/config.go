package awss3

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/decode/awsevent"
)

// Config is the aws-s3 source's configuration.
type Config struct {
	// Bucket is the bucket to read (required).
	Bucket string `yaml:"bucket"`
	// LogType says what the bucket holds: cloudtrail, config, vpcflow, guardduty,
	// waf, custom, alb, clb, nlb, server_access or security_hub (required).
	LogType string `yaml:"log_type"`
	// Path is a key prefix the logs are under (Wazuh's path); leading and trailing
	// slashes are ignored.
	Path string `yaml:"path"`
	// PathSuffix is the part Wazuh inserts after AWSLogs/ (path_suffix).
	PathSuffix string `yaml:"path_suffix"`
	// Accounts limits the accounts read; empty means every account found.
	Accounts []string `yaml:"accounts"`
	// Regions limits the regions read; empty means every region found in the bucket.
	Regions []string `yaml:"regions"`
	// OrganizationID names an organization trail's folder (AWSLogs/<org-id>/...);
	// folders named o-... are found without it.
	OrganizationID string `yaml:"organization_id"`
	// OnlyLogsAfter is the first day read, YYYY-MM-DD (default: today, UTC).
	OnlyLogsAfter string `yaml:"only_logs_after"`
	// Interval is the time between polls in service mode (default 5m).
	Interval config.Duration `yaml:"interval"`
	// RereadWindow is how long after a day ends its folder is still listed, so that
	// objects delivered late, or with keys that sort before ones already read, are
	// still read exactly once (default 6h).
	RereadWindow config.Duration `yaml:"reread_window"`
	// Workers is how many objects are downloaded and read at once (default 4).
	Workers int `yaml:"workers"`
	// Discard drops events whose field matches a regular expression.
	Discard Discard `yaml:"discard"`
	// RemoveFromBucket deletes each object once its alerts are durable.
	RemoveFromBucket bool `yaml:"remove_from_bucket"`
	// AccountAlias fills log_info.aws_account_alias.
	AccountAlias string `yaml:"account_alias"`
	// MaxAttempts is how many times an object that fails to read is tried within a
	// poll before it is left for the next one (default 3).
	MaxAttempts int `yaml:"max_attempts"`
	// AWS holds the credentials, region and endpoint keys (region, profile, role_arn,
	// external_id, role_session_duration, endpoint, path_style, ...).
	AWS awsclient.Config `yaml:",inline"`
}

// Discard is the discard option: events whose Field (dotted, inside the record, as
// Wazuh's discard_regex field) matches Regex, from its start, are dropped.
type Discard struct {
	Field string `yaml:"field"`
	Regex string `yaml:"regex"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Interval:     config.Duration(5 * time.Minute),
		RereadWindow: config.Duration(6 * time.Hour),
		Workers:      4,
		MaxAttempts:  3,
	}
}

var dayFormat = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Bucket == "" {
		fail("bucket", "required")
	}
	known := false
	for _, t := range awsevent.LogTypes() {
		if c.LogType == t {
			known = true
		}
	}
	if !known {
		fail("log_type", "%q is not one of %s", c.LogType, strings.Join(awsevent.LogTypes(), ", "))
	}
	if c.OnlyLogsAfter != "" {
		if _, err := time.Parse("2006-01-02", c.OnlyLogsAfter); err != nil || !dayFormat.MatchString(c.OnlyLogsAfter) {
			fail("only_logs_after", "%q is not a YYYY-MM-DD date", c.OnlyLogsAfter)
		}
	}
	if c.Interval.Std() <= 0 {
		fail("interval", "must be positive")
	}
	if c.RereadWindow.Std() < 0 {
		fail("reread_window", "must not be negative")
	}
	if c.Workers < 1 {
		fail("workers", "must be at least 1")
	}
	if c.MaxAttempts < 1 {
		fail("max_attempts", "must be at least 1")
	}
	if (c.Discard.Field == "") != (c.Discard.Regex == "") {
		fail("discard", "field and regex go together")
	}
	if c.Discard.Regex != "" {
		if _, err := regexp.Compile(c.Discard.Regex); err != nil {
			fail("discard.regex", "%v", err)
		}
	}
	for _, a := range c.Accounts {
		if !regexp.MustCompile(`^\d{12}$`).MatchString(a) {
			fail("accounts", "%q is not a 12-digit account id", a)
		}
	}
	if err := c.AWS.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
