package awsinspector

import (
	"errors"
	"time"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
	"github.com/skywatch-dev/skywatch/internal/config"
)

// Config is the "aws-inspector" source's configuration.
type Config struct {
	// AWS holds the credential and endpoint keys shared by the AWS sources
	// (region, profile, role_arn, external_id, endpoint, sts_endpoint, ...),
	// written flat in the source's section.
	AWS awsclient.Config `yaml:",inline"`
	// Regions are the regions whose findings are read, one client each (default:
	// the region of the credentials, see AWS.Region).
	Regions []string `yaml:"regions"`
	// OnlyLogsAfter is the oldest updatedAt read on the first run: 2024-01-31,
	// Wazuh's 2024-JAN-31 or an RFC 3339 time (default: 00:00 UTC of the day of
	// the first run, as Wazuh).
	OnlyLogsAfter string `yaml:"only_logs_after"`
	// Interval is the time between two passes in service mode (default 10m).
	Interval config.Duration `yaml:"interval"`
}

// DefaultInterval is the time between passes when interval is not set.
const DefaultInterval = 10 * time.Minute

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Interval: config.Duration(DefaultInterval)}
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	var errs []error
	if err := c.AWS.Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, awsclient.ValidateRegions(c.Regions)...)
	if _, err := awsclient.ParseDate(c.OnlyLogsAfter); err != nil {
		errs = append(errs, config.FieldError{Field: "only_logs_after", Msg: err.Error()})
	}
	switch d := c.Interval.Std(); {
	case d == 0:
		c.Interval = config.Duration(DefaultInterval)
	case d < time.Second:
		errs = append(errs, config.FieldError{Field: "interval", Msg: "must be at least 1s"})
	}
	return errors.Join(errs...)
}
