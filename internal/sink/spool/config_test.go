package spool

import (
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

// host is how a remote output embeds the spool's section; other keys are the
// output's own.
type host struct {
	Spool Config         `yaml:"spool"`
	Rest  map[string]any `yaml:",inline"`
}

func (h *host) Validate() error { return h.Spool.Validate() }

func decodeHost(t *testing.T, text string) (Config, error) {
	t.Helper()
	cfg, err := config.Parse("skywatch.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := host{Spool: DefaultConfig()}
	err = cfg.Outputs[0].Decode(&h)
	return h.Spool, err
}

func TestReadmeExample(t *testing.T) {
	cfg := configtest.ExampleFromREADME(t, "README.md")
	h := host{Spool: DefaultConfig()}
	if err := cfg.Outputs[0].Decode(&h); err != nil {
		t.Fatal(err)
	}
	c := h.Spool
	if !c.Enabled || c.Dir != "./var/spool/siem" || c.MaxBytes != 2<<30 || c.SegmentBytes != 64<<20 || c.Batch != 500 ||
		c.RetryInitial.Std() != time.Second || c.RetryMax.Std() != time.Minute || c.BlockTimeout != 0 ||
		c.DrainTimeout.Std() != 5*time.Second {
		t.Errorf("README example decoded to %+v", c)
	}
	c.Dir = config.Path(t.TempDir())
	s, err := New(newRemote(), c, Options{Name: "siem"})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigDecode(t *testing.T) {
	const head = "outputs:\n  - type: opensearch\n    url: http://127.0.0.1:9200\n"
	tests := []struct {
		name  string
		body  string
		want  string // the error, or "" for none
		check func(Config) bool
	}{
		{name: "defaults", body: "", check: func(c Config) bool {
			return c.Enabled && c.MaxBytes == 1<<30 && c.SegmentBytes == 64<<20 && c.Batch == 500 &&
				c.DrainTimeout.Std() == 5*time.Second && c.BlockTimeout == 0 && c.Dir == ""
		}},
		{name: "off", body: "    spool:\n      enabled: false\n", check: func(c Config) bool { return !c.Enabled }},
		{name: "sizes", body: "    spool:\n      max_bytes: 10MiB\n      segment_bytes: 1MiB\n      block_timeout: 30s\n",
			check: func(c Config) bool {
				return c.MaxBytes == 10<<20 && c.SegmentBytes == 1<<20 && c.BlockTimeout.Std() == 30*time.Second
			}},
		{name: "unknown key", body: "    spool:\n      max_byte: 1GiB\n",
			want: `skywatch.yaml:5: outputs[0] (opensearch): spool: unknown key "max_byte" (did you mean "max_bytes"?)`},
		{name: "segment above max", body: "    spool:\n      max_bytes: 1MiB\n      segment_bytes: 2MiB\n",
			want: "skywatch.yaml:5: outputs[0] (opensearch): spool.max_bytes: must be at least segment_bytes (2MiB), got 1MiB"},
		{name: "tiny segment", body: "    spool:\n      segment_bytes: 100\n",
			want: "skywatch.yaml:5: outputs[0] (opensearch): spool.segment_bytes: must be at least 4KiB, got 100"},
		{name: "batch", body: "    spool:\n      batch: 0\n",
			want: "skywatch.yaml:5: outputs[0] (opensearch): spool.batch: must be between 1 and 100000, got 0"},
		{name: "retry", body: "    spool:\n      retry_initial: 1m\n      retry_max: 1s\n",
			want: "skywatch.yaml:6: outputs[0] (opensearch): spool.retry_max: must not be below retry_initial (1m0s), got 1s"},
		{name: "negative", body: "    spool:\n      block_timeout: -1s\n      drain_timeout: -1s\n",
			want: "skywatch.yaml:5: outputs[0] (opensearch): spool.block_timeout: must not be negative\n" +
				"skywatch.yaml:6: outputs[0] (opensearch): spool.drain_timeout: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := decodeHost(t, head+tt.body)
			if tt.want != "" {
				if err == nil || err.Error() != tt.want {
					t.Fatalf("got error %v\nwant %s", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("decoded %+v", c)
			}
		})
	}
	if err := (&Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "spool.segment_bytes") {
		t.Errorf("the zero Config validated: %v", err)
	}
}
