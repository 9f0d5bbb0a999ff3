package config

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

const redacted = "[redacted]"

// Secret is a string that must not end up in logs or dumps: every way of printing
// or encoding it (fmt verbs, slog, JSON, YAML, text) yields "[redacted]". Call
// Reveal where the value is actually needed. Keep Secrets in exported fields: fmt
// prints unexported fields without calling their methods.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", so %#v does not show the value either.
func (s Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb, including %x and %q, which would
// otherwise format the underlying string.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes slog print "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes the secret as "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes the secret as "[redacted]" for text-based encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML encodes the secret as "[redacted]".
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// Duration is a time.Duration written the way time.ParseDuration reads it
// ("90s", "10m", "1h30m"). A bare number other than 0 is refused, since its unit
// would be a guess.
type Duration time.Duration

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats the duration as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses a duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeErrorf(n, "a duration must be a single value such as 90s or 1h30m")
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return typeErrorf(n, "invalid duration %q: want a number with a unit such as 90s, 10m or 1h30m", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration in the form UnmarshalYAML reads.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ByteSize is a number of bytes, written as a plain integer or with a unit:
// B, KB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB (powers of 1024), in any
// letter case, optionally after a space; "1.5GiB" is allowed and rounded down.
type ByteSize int64

// byteUnit returns the multiplier of a lowercased size unit.
func byteUnit(u string) (float64, bool) {
	switch u {
	case "", "b":
		return 1, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	case "kib":
		return 1 << 10, true
	case "mib":
		return 1 << 20, true
	case "gib":
		return 1 << 30, true
	case "tib":
		return 1 << 40, true
	}
	return 0, false
}

// ParseByteSize reads a size such as "64KiB", "100MB" or "1048576".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '_') {
		i++
	}
	num, unit := strings.ReplaceAll(s[:i], "_", ""), strings.ToLower(strings.TrimSpace(s[i:]))
	mult, ok := byteUnit(unit)
	if num == "" || !ok {
		return 0, fmt.Errorf("invalid size %q: want an integer with an optional unit such as KiB, MB or GiB", s)
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil {
		if n > math.MaxInt64/int64(mult) {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		return ByteSize(n * int64(mult)), nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: want an integer with an optional unit such as KiB, MB or GiB", s)
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return ByteSize(v), nil
}

// String formats the size with the largest binary unit that divides it exactly.
func (b ByteSize) String() string {
	units := []struct {
		name string
		size ByteSize
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if b != 0 && b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// UnmarshalYAML parses a size scalar.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeErrorf(n, "a size must be a single value such as 64KiB or 100MB")
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return typeErrorf(n, "%v", err)
	}
	*b = v
	return nil
}

// MarshalYAML writes the size in the form UnmarshalYAML reads.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// Path is a file system path in a component's configuration. When the
// configuration came from Load, Decode turns a relative Path into one relative
// to the configuration file's directory.
type Path string

// typeErrorf returns the error kind the yaml decoder collects (instead of
// aborting on), positioned at n.
func typeErrorf(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}
