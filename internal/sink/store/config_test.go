package storesink_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
	storesink "github.com/skywatch-dev/skywatch/internal/sink/store"
)

func decodeOutput(t *testing.T, text string) (storesink.Config, error) {
	t.Helper()
	cfg, err := config.Parse("skywatch.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sc := storesink.DefaultConfig()
	return sc, cfg.Outputs[0].Decode(&sc)
}

func TestReadmeExample(t *testing.T) {
	cfg := configtest.ExampleFromREADME(t, "README.md")
	sc := storesink.DefaultConfig()
	if err := cfg.Outputs[0].Decode(&sc); err != nil {
		t.Fatal(err)
	}
	if cfg.Outputs[0].Type != "store" || sc.Path != "./var/alerts.db" || time.Duration(sc.Retention) != 90*24*time.Hour ||
		sc.MaxSize != 20<<30 || sc.MinLevel != 3 || sc.MaxLevel != 0 {
		t.Fatalf("README example decoded to %+v", sc)
	}
	if f := sc.Filter(); f.MinLevel != 3 || f.IsZero() {
		t.Errorf("filter %+v", f)
	}
	sc.Path = config.Path(filepath.Join(t.TempDir(), "var", "alerts.db"))
	s, err := storesink.Open(sc, nil)
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(string(sc.Path))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestConfigDecode(t *testing.T) {
	const head = "outputs:\n  - type: store\n"
	day := 24 * time.Hour
	tests := []struct {
		name  string
		body  string
		want  string // the error, or "" for none
		check func(storesink.Config) bool
	}{
		{name: "defaults", body: "    min_level: 0\n", check: func(c storesink.Config) bool {
			o := c.StoreOptions()
			return c.Path == "" && o.Retention == 90*day && o.MaxSize == 0
		}},
		{name: "days", body: "    retention: 30d\n", check: func(c storesink.Config) bool { return time.Duration(c.Retention) == 30*day }},
		{name: "hours", body: "    retention: 2160h\n", check: func(c storesink.Config) bool { return time.Duration(c.Retention) == 90*day }},
		{name: "days and hours", body: "    retention: 1d12h\n", check: func(c storesink.Config) bool { return time.Duration(c.Retention) == 36*time.Hour }},
		{name: "keep forever", body: "    retention: 0\n", check: func(c storesink.Config) bool { return c.Retention == 0 && c.StoreOptions().Retention == 0 }},
		{name: "size", body: "    max_size: 500MiB\n", check: func(c storesink.Config) bool { return c.StoreOptions().MaxSize == 500<<20 }},
		{name: "bad retention", body: "    retention: forever\n", want: `skywatch.yaml:3: outputs[0] (store): invalid duration "forever": want days such as 90d or a duration such as 2160h`},
		{name: "negative days", body: "    retention: -5d\n", want: `skywatch.yaml:3: outputs[0] (store): invalid duration "-5d": want days such as 90d or a duration such as 2160h`},
		{name: "negative duration", body: "    retention: -5h\n", want: "skywatch.yaml:3: outputs[0] (store): retention: must not be negative"},
		{name: "short retention", body: "    retention: 30m\n", want: "skywatch.yaml:3: outputs[0] (store): retention: must be at least 1h (or 0 to keep alerts), got 30m0s"},
		{name: "tiny size", body: "    max_size: 64KiB\n", want: "skywatch.yaml:3: outputs[0] (store): max_size: must be at least 1MiB (or 0 for no cap), got 64KiB"},
		{name: "levels", body: "    min_level: 9\n    max_level: 4\n", want: "skywatch.yaml:4: outputs[0] (store): max_level: must not be below min_level (9)"},
		{name: "directory path", body: "    path: ./var/\n", want: "skywatch.yaml:3: outputs[0] (store): path: must name a file, not a directory"},
		{name: "unknown key", body: "    retension: 30d\n", want: `skywatch.yaml:3: outputs[0] (store): unknown key "retension" (did you mean "retention"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := decodeOutput(t, head+tt.body)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			if tt.check != nil && !tt.check(sc) {
				t.Errorf("decoded %+v", sc)
			}
			var ce *config.Error
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("error is not a *config.Error: %#v", err)
			}
		})
	}
}

func TestDurationText(t *testing.T) {
	for in, want := range map[string]string{"90d": "90d", "2160h": "90d", "1d12h": "36h0m0s", "0": "0s", "45m": "45m0s"} {
		d, err := storesink.ParseDuration(in)
		if err != nil || d.String() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	for _, bad := range []string{"", "d", "5x", "1.5d", "99999999d", "3d-"} {
		if _, err := storesink.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}
