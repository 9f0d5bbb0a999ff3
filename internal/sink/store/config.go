package storesink

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/store"
)

// Config is the store output's section of the configuration file.
type Config struct {
	// Path is the database file. Empty means <data_dir>/alerts.db, which the
	// service fills in before opening it.
	Path config.Path `yaml:"path"`
	// Retention deletes alerts older than this, by alert timestamp (default
	// 90d); 0 keeps them.
	Retention Duration `yaml:"retention"`
	// MaxSize deletes the oldest alerts while the database uses more than this
	// (default 0: no cap). At least 1MiB when set.
	MaxSize config.ByteSize `yaml:"max_size"`
	// MinLevel, MaxLevel, RuleIDs, Groups and ExcludeGroups select the alerts
	// stored, as sink.Filter describes (default: all).
	MinLevel      int      `yaml:"min_level"`
	MaxLevel      int      `yaml:"max_level"`
	RuleIDs       []string `yaml:"rule_ids"`
	Groups        []string `yaml:"groups"`
	ExcludeGroups []string `yaml:"exclude_groups"`
}

// DefaultRetention is how long alerts are kept unless configured otherwise.
const DefaultRetention = 90 * 24 * time.Hour

// DefaultFile is the database's name in the data directory when path is empty.
const DefaultFile = "alerts.db"

// DefaultConfig returns the defaults, to be overlaid with the configured values.
func DefaultConfig() Config {
	return Config{Retention: Duration(DefaultRetention)}
}

// Filter returns the alert selection the configuration describes.
func (c *Config) Filter() sink.Filter {
	return sink.Filter{
		MinLevel:      c.MinLevel,
		MaxLevel:      c.MaxLevel,
		RuleIDs:       c.RuleIDs,
		Groups:        c.Groups,
		ExcludeGroups: c.ExcludeGroups,
	}
}

// StoreOptions returns the store.Options the configuration asks for.
func (c *Config) StoreOptions() store.Options {
	return store.Options{Retention: time.Duration(c.Retention), MaxSize: int64(c.MaxSize)}
}

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if p := string(c.Path); p != "" {
		switch {
		case strings.HasSuffix(p, "/") || strings.HasSuffix(p, string(filepath.Separator)),
			filepath.Base(p) == "." || filepath.Base(p) == "..":
			bad("path", "must name a file, not a directory")
		case strings.ContainsAny(p, "?#"):
			bad("path", "must not contain '?' or '#'")
		}
	}
	if c.Retention < 0 {
		bad("retention", "must not be negative")
	} else if c.Retention > 0 && time.Duration(c.Retention) < time.Hour {
		bad("retention", "must be at least 1h (or 0 to keep alerts), got %s", c.Retention)
	}
	if c.MaxSize < 0 {
		bad("max_size", "must not be negative")
	} else if c.MaxSize > 0 && c.MaxSize < 1<<20 {
		bad("max_size", "must be at least 1MiB (or 0 for no cap), got %s", c.MaxSize)
	}
	for _, l := range []struct {
		field string
		v     int
	}{{"min_level", c.MinLevel}, {"max_level", c.MaxLevel}} {
		if l.v < 0 || l.v > 16 {
			bad(l.field, "must be between 0 and 16, got %d", l.v)
		}
	}
	if c.MaxLevel > 0 && c.MinLevel > c.MaxLevel {
		bad("max_level", "must not be below min_level (%d)", c.MinLevel)
	}
	return errors.Join(errs...)
}

// Duration is a time.Duration that may also be written in days: "90d",
// "1d12h", as well as Go's "2160h" or "30m". 0 is allowed bare.
type Duration time.Duration

// ParseDuration reads a duration with an optional leading day count.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "0":
		return 0, nil
	case "":
		return 0, errors.New("empty duration: want a number of days such as 90d, or a duration such as 2160h")
	}
	var days int64
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("invalid duration %q: want a number of days such as 90d, or a duration such as 2160h", s)
		}
		days, s = n, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: want a number of days such as 90d, or a duration such as 2160h", s)
		}
		rest = d
	}
	return Duration(time.Duration(days)*24*time.Hour + rest), nil
}

// String writes whole days as "90d" and anything else as time.Duration does.
func (d Duration) String() string {
	day := 24 * time.Hour
	if d != 0 && time.Duration(d)%day == 0 {
		return strconv.FormatInt(int64(time.Duration(d)/day), 10) + "d"
	}
	return time.Duration(d).String()
}

// UnmarshalYAML parses a duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: invalid duration %q: want days such as 90d or a duration such as 2160h", n.Line, n.Value)}}
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration in the form UnmarshalYAML reads.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
