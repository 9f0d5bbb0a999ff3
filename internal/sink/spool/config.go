package spool

import (
	"errors"
	"fmt"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// Config is the `spool:` section of a remote output. Its Validate names fields
// as written in the output's section ("spool.max_bytes"), because the spool is
// always configured inside one.
type Config struct {
	// Enabled puts the spool in front of the output (default true).
	Enabled bool `yaml:"enabled"`
	// Dir holds the spool's files. Empty means <data_dir>/spool/<output name>,
	// which the wiring fills in; New refuses an empty Dir.
	Dir config.Path `yaml:"dir"`
	// MaxBytes bounds the undelivered data; Write waits for delivery to free
	// space beyond it (default 1GiB).
	MaxBytes config.ByteSize `yaml:"max_bytes"`
	// SegmentBytes is the size at which a new segment file is started; a
	// segment is deleted once everything in it is delivered (default 64MiB).
	SegmentBytes config.ByteSize `yaml:"segment_bytes"`
	// Batch is the most records handed to the output per Write+Flush
	// (default 500).
	Batch int `yaml:"batch"`
	// RetryInitial and RetryMax bound the backoff between failed deliveries,
	// which are retried forever (defaults 1s and 1m).
	RetryInitial config.Duration `yaml:"retry_initial"`
	RetryMax     config.Duration `yaml:"retry_max"`
	// BlockTimeout is how long a Write waits for space when the spool is full
	// before returning ErrFull, so the pipeline retries it and eventually
	// leaves the batch unacknowledged; 0 waits as long as the caller's context
	// allows (default 0).
	BlockTimeout config.Duration `yaml:"block_timeout"`
	// DrainTimeout is how long Close lets delivery continue before stopping it;
	// what is left stays on disk for the next start (default 5s).
	DrainTimeout config.Duration `yaml:"drain_timeout"`
}

// DefaultConfig returns the defaults, to be overlaid with the configured values.
func DefaultConfig() Config {
	return Config{
		Enabled:      true,
		MaxBytes:     1 << 30,
		SegmentBytes: 64 << 20,
		Batch:        500,
		RetryInitial: config.Duration(time.Second),
		RetryMax:     config.Duration(time.Minute),
		DrainTimeout: config.Duration(5 * time.Second),
	}
}

// Limits on the values, chosen so that a segment holds at least a few records
// and the spool at least one segment.
const (
	minSegmentBytes = 4 << 10
	maxBatch        = 100000
)

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: "spool." + field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.SegmentBytes < minSegmentBytes {
		bad("segment_bytes", "must be at least %s, got %s", config.ByteSize(minSegmentBytes), c.SegmentBytes)
	}
	if c.MaxBytes < c.SegmentBytes {
		bad("max_bytes", "must be at least segment_bytes (%s), got %s", c.SegmentBytes, c.MaxBytes)
	}
	if c.Batch < 1 || c.Batch > maxBatch {
		bad("batch", "must be between 1 and %d, got %d", maxBatch, c.Batch)
	}
	if c.RetryInitial <= 0 {
		bad("retry_initial", "must be positive, got %s", c.RetryInitial)
	}
	if c.RetryMax < c.RetryInitial {
		bad("retry_max", "must not be below retry_initial (%s), got %s", c.RetryInitial, c.RetryMax)
	}
	if c.BlockTimeout < 0 {
		bad("block_timeout", "must not be negative")
	}
	if c.DrainTimeout < 0 {
		bad("drain_timeout", "must not be negative")
	}
	return errors.Join(errs...)
}
