package gcs

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/gcpclient"
)

// Log types: what a bucket holds.
const (
	// AccessLogs are Cloud Storage usage (and storage) logs: CSV objects named
	// <prefix>_usage_YYYY_MM_DD_HH_MM_SS_<id>_v0, written flat under path.
	AccessLogs = "access_logs"
	// LoggingExport is a Cloud Logging sink to Cloud Storage: JSON-lines
	// LogEntries under <log id>/YYYY/MM/DD/HH:00:00_HH:59:59_S<n>.json.
	LoggingExport = "logging_export"
)

// Config is the gcs source's configuration.
type Config struct {
	// Bucket is the bucket to read (required).
	Bucket string `yaml:"bucket"`
	// LogType is access_logs or logging_export (required).
	LogType string `yaml:"log_type"`
	// Path is the object name prefix the logs are under: a folder (leading and
	// trailing slashes are ignored). For logging_export it may name one log,
	// e.g. cloudaudit.googleapis.com/activity.
	Path string `yaml:"path"`
	// OnlyLogsAfter is the first day read, YYYY-MM-DD, by the date in the object
	// names (default: today, UTC).
	OnlyLogsAfter string `yaml:"only_logs_after"`
	// Interval is the time between polls in service mode (default 5m).
	Interval config.Duration `yaml:"interval"`
	// RereadWindow is how long after a day ends its objects are still listed,
	// so that late objects are read (default 6h; Cloud Logging may take 2-3
	// hours to write an hour's file).
	RereadWindow config.Duration `yaml:"reread_window"`
	// RemoveFromBucket deletes each object once its alerts are durable
	// (Wazuh's remove_from_bucket); Delete is the same switch.
	RemoveFromBucket bool `yaml:"remove_from_bucket"`
	Delete           bool `yaml:"delete"`
	// Workers is how many objects are read at once (default 4).
	Workers int `yaml:"workers"`
	// MaxAttempts is how many times an object whose download breaks is read
	// within a poll before it is left for the next poll (default 3).
	MaxAttempts int `yaml:"max_attempts"`
	// GCP holds the credential keys (credentials_file, project_id, endpoint),
	// written flat in the section. project_id is not needed to read a bucket.
	GCP gcpclient.Config `yaml:",inline"`
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

// remove reports whether objects are deleted after reading.
func (c *Config) remove() bool { return c.RemoveFromBucket || c.Delete }

var dayFormat = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Validate checks the configuration. gcpclient.Config.Validate is not called:
// its one rule (project_id required) does not apply, bucket names are global.
func (c *Config) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Bucket == "" {
		fail("bucket", "is required")
	}
	if c.LogType != AccessLogs && c.LogType != LoggingExport {
		fail("log_type", "%q is not %s or %s", c.LogType, AccessLogs, LoggingExport)
	}
	if c.OnlyLogsAfter != "" {
		if _, err := time.Parse("2006-01-02", c.OnlyLogsAfter); err != nil || !dayFormat.MatchString(c.OnlyLogsAfter) {
			fail("only_logs_after", "%q is not a YYYY-MM-DD date", c.OnlyLogsAfter)
		}
	}
	if c.Interval.Std() < time.Second {
		fail("interval", "must be at least 1s")
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
	return errors.Join(errs...)
}
