package file

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// Config is the file output's section of the configuration file.
type Config struct {
	// Path is the live file alerts are appended to, e.g. ./var/alerts/alerts.json
	// (required). Its directory is created when missing.
	Path config.Path `yaml:"path"`
	// RotateDaily starts a new file at the first write after local midnight
	// (default true).
	RotateDaily bool `yaml:"rotate_daily"`
	// MaxSize starts a new file before one would grow past this size; 0 turns
	// size rotation off (default 1GiB).
	MaxSize config.ByteSize `yaml:"max_size"`
	// Compress gzips rotated files in the background (default true).
	Compress bool `yaml:"compress"`
	// MaxFiles is how many rotated files to keep, oldest deleted first; 0 keeps
	// all (default 0).
	MaxFiles int `yaml:"max_files"`
	// Selection chooses the alerts written (default: all).
	sink.Selection `yaml:",inline"`
	// Mode is the permission of files this output creates, in octal (default
	// 0640). Existing files keep theirs.
	Mode FileMode `yaml:"mode"`
}

// DefaultConfig returns the defaults, to be overlaid with the configured values.
func DefaultConfig() Config {
	return Config{
		RotateDaily: true,
		MaxSize:     1 << 30,
		Compress:    true,
		Mode:        0o640,
	}
}

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch p := string(c.Path); {
	case p == "":
		bad("path", "required")
	case strings.HasSuffix(p, "/") || strings.HasSuffix(p, string(filepath.Separator)):
		bad("path", "must name a file, not a directory")
	case filepath.Base(p) == "." || filepath.Base(p) == "..":
		bad("path", "must name a file, not a directory")
	}
	if c.MaxSize < 0 {
		bad("max_size", "must not be negative")
	}
	if c.MaxFiles < 0 {
		bad("max_files", "must be 0 (keep all) or more")
	}
	errs = append(errs, c.Selection.Validate())
	if c.Mode&^0o777 != 0 {
		bad("mode", "must be permission bits between 0600 and 0777, got %s", c.Mode)
	} else if c.Mode&0o600 != 0o600 {
		bad("mode", "must let the owner read and write (0600), got %s", c.Mode)
	}
	return errors.Join(errs...)
}

// FileMode is a permission written in octal, with or without a leading 0 or 0o
// ("0640", "640" and "0o640" are the same).
type FileMode os.FileMode

// String formats the mode as 0640.
func (m FileMode) String() string { return fmt.Sprintf("%#o", uint32(m)) }

// UnmarshalYAML reads the mode's digits as octal whatever YAML thinks they are:
// YAML 1.2 would read 0640 as decimal 640.
func (m *FileMode) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	v, err := strconv.ParseUint(s, 8, 32)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: invalid mode %q: want octal permission bits such as 0640", n.Line, n.Value)}}
	}
	*m = FileMode(v)
	return nil
}

// MarshalYAML writes the mode as a quoted octal string.
func (m FileMode) MarshalYAML() (any, error) { return m.String(), nil }
