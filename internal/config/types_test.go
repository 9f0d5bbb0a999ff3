package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/skywatch-dev/skywatch/internal/config"
)

func TestSecretNeverPrinted(t *testing.T) {
	const value = "hunter2-s3cr3t"
	s := config.Secret(value)
	type holder struct {
		User     string
		Password config.Secret `json:"password" yaml:"password"`
		Ptr      *config.Secret
	}
	h := holder{User: "u", Password: s, Ptr: &s}

	outputs := map[string]func() string{
		"%v":            func() string { return fmt.Sprintf("%v", s) },
		"%s":            func() string { return fmt.Sprintf("%s", s) },
		"%q":            func() string { return fmt.Sprintf("%q", s) },
		"%x":            func() string { return fmt.Sprintf("%x", s) },
		"%#v":           func() string { return fmt.Sprintf("%#v", s) },
		"%d (bad verb)": func() string { return fmt.Sprintf("%d", s) },
		"struct %+v":    func() string { return fmt.Sprintf("%+v", h) },
		"struct %#v":    func() string { return fmt.Sprintf("%#v", h) },
		"Sprint":        func() string { return fmt.Sprint(s, h) },
		"json": func() string {
			b, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		},
		"yaml": func() string {
			b, err := yaml.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		},
		"slog text": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("msg", "secret", s, "holder", h, "ptr", &s)
			return buf.String()
		},
		"slog json": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("msg", "secret", s, "holder", h, slog.Any("any", s))
			return buf.String()
		},
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			got := out()
			if strings.Contains(got, value) || strings.Contains(got, fmt.Sprintf("%x", value)) {
				t.Errorf("secret leaked: %s", got)
			}
			if !strings.Contains(got, "redacted") && !strings.Contains(got, fmt.Sprintf("%x", "[redacted]")) {
				t.Errorf("no redaction marker in %s", got)
			}
		})
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q, want %q", s.Reveal(), value)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "10m", want: 10 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "90s", want: 90 * time.Second},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "0", want: 0},
		{in: "10", wantErr: true},
		{in: "ten minutes", wantErr: true},
		{in: "[1m]", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v struct {
				D config.Duration `yaml:"d"`
			}
			err := yaml.Unmarshal([]byte("d: "+tt.in), &v)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && v.D.Std() != tt.want {
				t.Errorf("got %v, want %v", v.D, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), "line 1") {
				t.Errorf("error has no position: %v", err)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    config.ByteSize
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: "64KiB", want: 64 << 10},
		{in: "64kib", want: 64 << 10},
		{in: "100MB", want: 100_000_000},
		{in: "1GiB", want: 1 << 30},
		{in: "1 GiB", want: 1 << 30},
		{in: "1.5KiB", want: 1536},
		{in: "2TiB", want: 2 << 40},
		{in: "10B", want: 10},
		{in: "1_000", want: 1000},
		{in: "-1", wantErr: true},
		{in: "1.2.3MB", wantErr: true},
		{in: "MB", wantErr: true},
		{in: "12 parsecs", wantErr: true},
		{in: "9999999999TiB", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
		{in: "1e3", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := config.ParseByteSize(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestByteSizeRoundTrip(t *testing.T) {
	for _, v := range []config.ByteSize{0, 1, 1000, 1 << 10, 3 << 20, 1 << 30, 5 << 40, 1<<30 + 1} {
		t.Run(v.String(), func(t *testing.T) {
			out, err := yaml.Marshal(struct {
				S config.ByteSize `yaml:"s"`
			}{v})
			if err != nil {
				t.Fatal(err)
			}
			var back struct {
				S config.ByteSize `yaml:"s"`
			}
			if err := yaml.Unmarshal(out, &back); err != nil {
				t.Fatal(err)
			}
			if back.S != v {
				t.Errorf("%d → %q → %d", v, out, back.S)
			}
		})
	}
}
