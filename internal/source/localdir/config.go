package localdir

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/decode/awsevent"
)

// Log types the local source understands.
const (
	LogTypeAuto       = "auto"
	LogTypeCloudTrail = "cloudtrail"
	LogTypeJSON       = "json"
	LogTypeGCP        = "gcp"
)

// Config is the "local" source's configuration.
type Config struct {
	// Path is a file or a folder of files.
	Path config.Path `yaml:"path"`
	// LogType says how to read files and wrap records: auto (CloudTrail documents
	// become AWS events, anything else is passed as it is), json (as is), gcp
	// (wrapped like Wazuh's Pub/Sub module), or one of the AWS log types of
	// awsevent.LogTypes (cloudtrail, config, vpcflow, guardduty, waf, custom, alb,
	// clb, nlb, server_access, security_hub): each file is read as an S3 object of
	// that type, with its path relative to Path as the object key.
	LogType string `yaml:"log_type"`
	// Location overrides the events' location (default per log type: Wazuh-AWS,
	// Wazuh-GCloud, or "local").
	Location string `yaml:"location"`
	// AccountAlias fills log_info.aws_account_alias of AWS events.
	AccountAlias string `yaml:"account_alias"`
	// Bucket fills log_info.s3bucket of AWS events: the bucket the files were
	// copied from (empty by default).
	Bucket string `yaml:"bucket"`
	// Recursive descends into sub-folders (default true).
	Recursive bool `yaml:"recursive"`
	// Parallel is how many files are read at once (default: one per CPU).
	Parallel int `yaml:"parallel"`
	// BatchSize is the number of events per batch handed to the pipeline (default 256).
	BatchSize int `yaml:"batch_size"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{LogType: LogTypeAuto, Recursive: true, Parallel: runtime.GOMAXPROCS(0), BatchSize: 256}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, config.FieldError{Field: "path", Msg: "required"})
	}
	switch c.LogType {
	case "", LogTypeAuto, LogTypeJSON, LogTypeGCP:
	default:
		if !isAWSLogType(c.LogType) {
			errs = append(errs, config.FieldError{Field: "log_type", Msg: fmt.Sprintf("unknown log type %q (want auto, json, gcp or one of %s)",
				c.LogType, strings.Join(awsevent.LogTypes(), ", "))})
		}
	}
	if c.Parallel < 0 {
		errs = append(errs, config.FieldError{Field: "parallel", Msg: "must not be negative"})
	}
	if c.BatchSize < 0 {
		errs = append(errs, config.FieldError{Field: "batch_size", Msg: "must not be negative"})
	}
	if c.LogType == "" {
		c.LogType = LogTypeAuto
	}
	if c.Parallel == 0 {
		c.Parallel = runtime.GOMAXPROCS(0)
	}
	if c.BatchSize == 0 {
		c.BatchSize = 256
	}
	return errors.Join(errs...)
}

// isAWSLogType reports the log types read through awsevent.ObjectReader.
func isAWSLogType(t string) bool {
	for _, a := range awsevent.LogTypes() {
		if t == a {
			return true
		}
	}
	return false
}
