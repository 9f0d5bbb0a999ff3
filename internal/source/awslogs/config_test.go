package awslogs

import (
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/source"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for none
	}{
		{"minimal", func(*Config) {}, ""},
		{"no groups", func(c *Config) { c.LogGroups = nil }, "log_groups: required"},
		{"bad group", func(c *Config) { c.LogGroups = []string{"has space"} }, `"has space" is not a log group name`},
		{"group twice", func(c *Config) { c.LogGroups = []string{"a", "a"} }, `"a" is listed twice`},
		{"bad region", func(c *Config) { c.Regions = []string{"east"} }, `regions: "east" is not a region`},
		{"bad prefix", func(c *Config) { c.LogStreamPrefix = "a:b" }, "log_stream_prefix: stream names cannot contain"},
		{"remove streams", func(c *Config) { c.RemoveLogStreams = true }, "remove_log_streams: not supported"},
		{"bad date", func(c *Config) { c.OnlyLogsAfter = "2024/01/01" }, "only_logs_after: invalid date"},
		{"short interval", func(c *Config) { c.Interval = config.Duration(time.Millisecond) }, "interval: must be at least 1s"},
		{"short forget", func(c *Config) { c.ForgetAfter = config.Duration(time.Second) }, "forget_after: must be at least 1m0s"},
		{"negative batch", func(c *Config) { c.BatchSize = -1 }, "batch_size: must not be negative"},
		{"keys without secret", func(c *Config) { c.AWS.AccessKeyID = "AKID" }, "access_key_id and secret_access_key go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.LogGroups = []string{"/aws/lambda/app"}
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	c := Config{LogGroups: []string{"g"}}
	if err := c.Validate(); err != nil || c.Interval.Std() != DefaultInterval || c.ForgetAfter.Std() != DefaultForgetAfter ||
		c.BatchSize != DefaultBatchSize {
		t.Errorf("zero config: %v, %+v", err, c)
	}
}

// The wiring takes the interval between passes from source.Scheduled.
var _ source.Scheduled = (*Source)(nil)
