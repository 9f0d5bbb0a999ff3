package suppress

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// Config is the `suppress` key of an output's section. Outputs hold it as a
// field named Suppress with the tag `yaml:"suppress"`; the wiring wraps the
// output with New when Enabled.
type Config struct {
	// Window is how long after an alert goes out others with the same key are
	// counted instead of sent; 0 turns suppression off (default).
	Window config.Duration `yaml:"window"`
	// Key lists what makes alerts "the same": rule_id always, plus any of
	// principal, srcip, provider, account, region, location and level
	// (default [rule_id, principal, srcip]).
	Key []string `yaml:"key"`
	// MaxKeys bounds the keys remembered at once; when a new key would pass
	// it, the oldest window is closed early and its follow-up sent (default
	// 10000).
	MaxKeys int `yaml:"max_keys"`
}

// DefaultConfig returns the defaults: suppression off, and when a window is
// set, keyed by rule, principal and source address.
func DefaultConfig() Config {
	return Config{Key: []string{"rule_id", "principal", "srcip"}, MaxKeys: 10000}
}

// Enabled reports whether the configuration asks for suppression.
func (c *Config) Enabled() bool { return c.Window > 0 }

// Validate returns a config.FieldError for each bad key, named as it is
// written inside an output ("suppress.window"), since that is the only place
// the section appears.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: "suppress." + field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Window < 0 {
		bad("window", "must not be negative")
	}
	if c.MaxKeys < 1 {
		bad("max_keys", "must be at least 1, got %d", c.MaxKeys)
	}
	seen := map[string]bool{}
	for i, k := range c.Key {
		switch {
		case fieldOf(k) == nil:
			bad("key["+strconv.Itoa(i)+"]", "unknown field %q: want one of %s", k, strings.Join(fieldNames(), ", "))
		case seen[k]:
			bad("key["+strconv.Itoa(i)+"]", "%q is listed twice", k)
		}
		seen[k] = true
	}
	return errors.Join(errs...)
}

// field reads one part of a suppression key.
type field struct {
	name string
	get  func(r *sink.Record, s *alert.Summary) string
}

var fields = []field{
	{"rule_id", func(r *sink.Record, _ *alert.Summary) string { return r.RuleID }},
	{"level", func(r *sink.Record, _ *alert.Summary) string { return strconv.Itoa(r.Level) }},
	{"principal", func(_ *sink.Record, s *alert.Summary) string { return s.Principal }},
	{"srcip", func(_ *sink.Record, s *alert.Summary) string { return s.SrcIP }},
	{"provider", func(_ *sink.Record, s *alert.Summary) string { return s.Provider }},
	{"account", func(_ *sink.Record, s *alert.Summary) string { return s.Account }},
	{"region", func(_ *sink.Record, s *alert.Summary) string { return s.Region }},
	{"location", func(_ *sink.Record, s *alert.Summary) string { return s.Location }},
}

func fieldOf(name string) *field {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i]
		}
	}
	return nil
}

func fieldNames() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.name
	}
	return out
}

// keyFields returns the fields of the key, rule_id first whether listed or not.
func (c *Config) keyFields() []field {
	out := []field{fields[0]}
	for _, k := range c.Key {
		if f := fieldOf(k); f != nil && f.name != "rule_id" && !slices.ContainsFunc(out, func(x field) bool { return x.name == k }) {
			out = append(out, *f)
		}
	}
	return out
}

// windowString formats the window for follow-ups: "10m" rather than "10m0s".
func windowString(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
