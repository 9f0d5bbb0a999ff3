package awsinspector

import (
	"bytes"
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
		{"defaults", func(*Config) {}, ""},
		{"regions", func(c *Config) { c.Regions = []string{"us-east-1", "ap-southeast-2", "us-gov-west-1"} }, ""},
		{"bad region", func(c *Config) { c.Regions = []string{"US_EAST"} }, `regions: "US_EAST" is not a region`},
		{"region twice", func(c *Config) { c.Regions = []string{"eu-west-1", "eu-west-1"} }, "listed twice"},
		{"bad date", func(c *Config) { c.OnlyLogsAfter = "yesterday" }, "only_logs_after: invalid date"},
		{"short interval", func(c *Config) { c.Interval = config.Duration(time.Millisecond) }, "interval: must be at least 1s"},
		{"external id without role", func(c *Config) { c.AWS.ExternalID = "x" }, "external_id: needs role_arn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
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
	c := Config{}
	if err := c.Validate(); err != nil || c.Interval.Std() != DefaultInterval {
		t.Errorf("zero config: %v, interval %v", err, c.Interval)
	}
}

func TestWrapFinding(t *testing.T) {
	raw := []byte(`{"findingArn": "arn:x", "source": "old", "updatedAt": 1.700000000123E9,
		"createdAt": 1700000000, "severity": "MEDIUM", "nested": {"vendorCreatedAt": 1.6E9}, "odd": "x\u00e9"}`)
	var b bytes.Buffer
	arn, ms, err := wrapFinding(&b, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"integration":"aws","aws":{"findingArn":"arn:x","updatedAt":"2023-11-14T22:13:20Z",` +
		`"createdAt":"2023-11-14T22:13:20Z","severity":"MEDIUM","nested":{"vendorCreatedAt":1.6E9},"odd":"x\u00e9",` +
		`"source":"inspector2"}}`
	if arn != "arn:x" || ms != 1700000000123 || b.String() != want {
		t.Errorf("got %s %d\n%s\nwant\n%s", arn, ms, b.String(), want)
	}
	for _, bad := range []string{`[]`, `{"findingArn":"a"}`, `{"updatedAt":1}`, `{"findingArn":"a","updatedAt":1`} {
		b.Reset()
		if _, _, err := wrapFinding(&b, []byte(bad)); err == nil {
			t.Errorf("wrapFinding(%s) accepted", bad)
		}
	}
}

// The wiring takes the interval between passes from source.Scheduled.
var _ source.Scheduled = (*Source)(nil)
