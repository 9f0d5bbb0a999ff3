package file_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink/file"
)

// decodeOutput parses a configuration and decodes its first output as the file
// output would be configured.
func decodeOutput(t *testing.T, text string) (file.Config, error) {
	t.Helper()
	cfg, err := config.Parse("skywatch.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fc := file.DefaultConfig()
	return fc, cfg.Outputs[0].Decode(&fc)
}

func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Configuration\n\n```yaml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no yaml example under ## Configuration")
	}
	fc, err := decodeOutput(t, string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if fc.Path != "./var/alerts/alerts.json" || fc.MaxSize != 1<<30 || fc.MaxFiles != 30 || fc.Mode != 0o640 ||
		fc.MinLevel != 3 || len(fc.ExcludeGroups) != 1 || !fc.Compress || !fc.RotateDaily {
		t.Errorf("README example decoded to %+v", fc)
	}

	dir := t.TempDir()
	fc.Path = config.Path(filepath.Join(dir, "alerts.json"))
	s, err := file.New(fc, file.Options{})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigDecode(t *testing.T) {
	const head = "outputs:\n  - type: file\n"
	tests := []struct {
		name  string
		body  string
		want  string // the error, or "" for none
		check func(file.Config) bool
	}{
		{name: "defaults", body: "    path: a.json\n", check: func(c file.Config) bool {
			d := file.DefaultConfig()
			return c.RotateDaily == d.RotateDaily && c.MaxSize == 1<<30 && c.Compress && c.MaxFiles == 0 && c.Mode == 0o640
		}},
		{name: "mode forms", body: "    path: a.json\n    mode: 0600\n", check: func(c file.Config) bool { return c.Mode == 0o600 }},
		{name: "mode without zero", body: "    path: a.json\n    mode: 644\n", check: func(c file.Config) bool { return c.Mode == 0o644 }},
		{name: "mode 0o", body: "    path: a.json\n    mode: 0o660\n", check: func(c file.Config) bool { return c.Mode == 0o660 }},
		{name: "size off", body: "    path: a.json\n    max_size: 0\n    compress: false\n", check: func(c file.Config) bool { return c.MaxSize == 0 && !c.Compress }},
		{name: "missing path", body: "    compress: false\n", want: "skywatch.yaml:2: outputs[0] (file): path: required"},
		{name: "unknown key", body: "    path: a.json\n    max_szie: 1GiB\n", want: `skywatch.yaml:4: outputs[0] (file): unknown key "max_szie" (did you mean "max_size"?)`},
		{name: "bad size", body: "    path: a.json\n    max_size: lots\n", want: `skywatch.yaml:4: outputs[0] (file): invalid size "lots": want an integer with an optional unit such as KiB, MB or GiB`},
		{name: "bad mode", body: "    path: a.json\n    mode: rw-r-----\n", want: `skywatch.yaml:4: outputs[0] (file): invalid mode "rw-r-----": want octal permission bits such as 0640`},
		{name: "mode not writable by owner", body: "    path: a.json\n    mode: 0444\n", want: "skywatch.yaml:4: outputs[0] (file): mode: must let the owner read and write (0600), got 0444"},
		{name: "mode too wide", body: "    path: a.json\n    mode: 4755\n", want: "skywatch.yaml:4: outputs[0] (file): mode: must be permission bits between 0600 and 0777, got 04755"},
		{name: "levels", body: "    path: a.json\n    min_level: 9\n    max_level: 4\n", want: "skywatch.yaml:5: outputs[0] (file): max_level: must not be below min_level (9)"},
		{name: "level range", body: "    path: a.json\n    min_level: 20\n", want: "skywatch.yaml:4: outputs[0] (file): min_level: must be between 0 and 16, got 20"},
		{name: "negative max_files", body: "    path: a.json\n    max_files: -1\n", want: "skywatch.yaml:4: outputs[0] (file): max_files: must be 0 (keep all) or more"},
		{name: "directory path", body: "    path: ./var/\n", want: "skywatch.yaml:3: outputs[0] (file): path: must name a file, not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc, err := decodeOutput(t, head+tt.body)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			if tt.check != nil && !tt.check(fc) {
				t.Errorf("decoded %+v", fc)
			}
			var ce *config.Error
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("error is not a *config.Error: %#v", err)
			}
		})
	}
}
