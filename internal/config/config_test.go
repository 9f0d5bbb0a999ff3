package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// errorLines splits a returned error into its lines, one problem each.
func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// checkErrors fails unless err consists of exactly the wanted lines, in order.
func checkErrors(t testing.TB, err error, want []string) {
	t.Helper()
	got := errorLines(err)
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\ngot:\n%s\nwant:\n%s", len(got), len(want), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("error %d:\ngot:  %s\nwant: %s", i, got[i], want[i])
		}
	}
}

func TestParseDefaults(t *testing.T) {
	for name, text := range map[string]string{
		"empty":         "",
		"comments only": "# nothing configured yet\n",
		"empty mapping": "{}\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := config.Parse("c.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			def := config.Default()
			if cfg.DataDir != def.DataDir || len(cfg.Rules) != 1 || cfg.Rules[0] != config.Builtin || cfg.Engine != def.Engine {
				t.Errorf("got %+v, want the defaults %+v", cfg, def)
			}
			if cfg.ManagerName == "" {
				t.Error("manager_name was not defaulted to the host name")
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("defaults do not validate: %v", err)
			}
		})
	}
}

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("full.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := config.EngineConfig{LogAlertLevel: 5, MemorySize: 1024, MaxFields: 256, MaxEventBytes: 64 << 10, Workers: 2}
	if cfg.Engine != want {
		t.Errorf("engine = %+v, want %+v", cfg.Engine, want)
	}
	if cfg.DataDir != "./var" || cfg.ManagerName != "sw-manager" || cfg.API.Listen != "127.0.0.1:8080" {
		t.Errorf("top-level values wrong: %+v", cfg)
	}
	if got := strings.Join(cfg.Rules, ","); got != "builtin,./rules/custom" {
		t.Errorf("rules = %s", got)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Name != "demo" || cfg.Sources[0].Type != "local" || cfg.Sources[0].Line != 17 {
		t.Errorf("sources = %+v", cfg.Sources)
	}
	outs := []struct{ name, typ string }{{"file", "file"}, {"hooks", "webhook"}}
	if len(cfg.Outputs) != len(outs) {
		t.Fatalf("outputs = %+v", cfg.Outputs)
	}
	for i, o := range outs {
		if cfg.Outputs[i].Name != o.name || cfg.Outputs[i].Type != o.typ || cfg.Outputs[i].Index != i {
			t.Errorf("outputs[%d] = %+v, want name %q type %q", i, cfg.Outputs[i], o.name, o.typ)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Setenv("SKYWATCH_TEST_UNSET", "")
	os.Unsetenv("SKYWATCH_TEST_UNSET")
	tests := []struct {
		name string
		text string
		want []string
	}{{
		name: "typo at top level",
		text: "data_dir: ./var\noutptus:\n  - type: file\n",
		want: []string{`c.yaml:2: unknown key "outptus" (did you mean "outputs"?)`},
	}, {
		name: "unknown key without suggestion",
		text: "colour: blue\n",
		want: []string{`c.yaml:1: unknown key "colour"`},
	}, {
		name: "unknown key in engine",
		text: "engine:\n  workers: 2\n  wrokers: 3\n",
		want: []string{`c.yaml:3: engine: unknown key "wrokers" (did you mean "workers"?)`},
	}, {
		name: "bad type",
		text: "engine:\n  workers: many\n",
		want: []string{"c.yaml:2: cannot unmarshal !!str `many` into int"},
	}, {
		name: "bad size",
		text: "engine:\n  max_event_bytes: 12 parsecs\n",
		want: []string{`c.yaml:2: invalid size "12 parsecs": want an integer with an optional unit such as KiB, MB or GiB`},
	}, {
		name: "rules is not a list",
		text: "rules: builtin\n",
		want: []string{"c.yaml:1: cannot unmarshal !!str `builtin` into []string"},
	}, {
		name: "missing environment variable",
		text: "data_dir: ./var\nmanager_name: ${SKYWATCH_TEST_UNSET}\n",
		want: []string{"c.yaml:2: environment variable SKYWATCH_TEST_UNSET is not set (write ${SKYWATCH_TEST_UNSET:-default} to give a default)"},
	}, {
		name: "missing environment variable inside a component",
		text: "sources:\n  - name: a\n    type: x\n    bucket: ${SKYWATCH_TEST_UNSET}\n",
		want: []string{"c.yaml:4: environment variable SKYWATCH_TEST_UNSET is not set (write ${SKYWATCH_TEST_UNSET:-default} to give a default)"},
	}, {
		name: "unterminated reference",
		text: "manager_name: ${HOME\n",
		want: []string{`c.yaml:1: unterminated "${" in "${HOME"`},
	}, {
		name: "bad variable name",
		text: "manager_name: ${9LIVES}\n",
		want: []string{"c.yaml:1: invalid reference ${9LIVES}: want ${NAME}, ${NAME:-default} or ${file:/path}"},
	}, {
		name: "nested reference",
		text: "manager_name: ${A:-${B}}\n",
		want: []string{"c.yaml:1: invalid reference ${A:-${B}: nested references are not supported"},
	}, {
		name: "missing secret file",
		text: "\n\nmanager_name: ${file:/nonexistent/skywatch/secret}\n",
		want: []string{"c.yaml:3: read secret file: open /nonexistent/skywatch/secret: no such file or directory"},
	}, {
		name: "secret is a directory",
		text: "manager_name: ${file:/}\n",
		want: []string{"c.yaml:1: read secret file /: not a regular file"},
	}, {
		name: "syntax error",
		text: "data_dir: ./var\nrules: [builtin\n",
		want: []string{"c.yaml:2: did not find expected ',' or ']'"},
	}, {
		name: "syntax error on the first line",
		text: "data_dir: [a\n",
		want: []string{"c.yaml:1: did not find expected ',' or ']'"},
	}, {
		name: "scanner error",
		text: "data_dir: ./var\nrules: a: b\n",
		want: []string{"c.yaml:2: mapping values are not allowed in this context"},
	}, {
		name: "bad block indentation",
		text: "engine:\n  workers: 1\n memory_size: 3\n",
		want: []string{"c.yaml:3: did not find expected key"},
	}, {
		name: "duplicate key",
		text: "data_dir: a\nrules: [builtin]\ndata_dir: b\n",
		want: []string{`c.yaml:3: mapping key "data_dir" already defined at line 1`},
	}, {
		name: "two documents",
		text: "data_dir: a\n---\ndata_dir: b\n",
		want: []string{"c.yaml:2: only one YAML document is allowed"},
	}, {
		name: "not a mapping",
		text: "- data_dir\n",
		want: []string{"c.yaml:1: the configuration must be a mapping of keys to values"},
	}, {
		name: "sources not a list",
		text: "sources:\n  demo: {type: local}\n",
		want: []string{"c.yaml:2: sources: must be a list"},
	}, {
		name: "source entry not a mapping",
		text: "sources:\n  - local\n",
		want: []string{"c.yaml:2: sources[0]: must be a mapping with at least a type"},
	}, {
		name: "name is not a string",
		text: "outputs:\n  - type: file\n    name: [a, b]\n",
		want: []string{"c.yaml:3: outputs[0]: cannot unmarshal !!seq into string"},
	}, {
		name: "every error is reported, in line order",
		text: "engine:\n  workers: many\n  colour: red\nmanager_name: ${SKYWATCH_TEST_UNSET}\noutptus: []\n",
		want: []string{
			"c.yaml:2: cannot unmarshal !!str `many` into int",
			`c.yaml:3: engine: unknown key "colour"`,
			"c.yaml:4: environment variable SKYWATCH_TEST_UNSET is not set (write ${SKYWATCH_TEST_UNSET:-default} to give a default)",
			`c.yaml:5: unknown key "outptus" (did you mean "outputs"?)`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("c.yaml", []byte(tt.text))
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			checkErrors(t, err, tt.want)
			var ce *config.Error
			if !errors.As(err, &ce) || ce.File != "c.yaml" || ce.Line == 0 {
				t.Errorf("error is not a positioned *config.Error: %#v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{{
		name: "valid",
		text: "sources:\n  - name: a\n    type: local\n  - name: b.c-d_e\n    type: local\noutputs:\n  - type: file\n  - type: file\n",
	}, {
		name: "duplicate source names",
		text: "sources:\n  - name: demo\n    type: local\n  - type: aws-s3\n    name: demo\n",
		want: []string{`c.yaml:5: sources[1] (demo): name: "demo" is already used by the source at line 2`},
	}, {
		name: "missing name and type",
		text: "sources:\n  - path: ./logs\n",
		want: []string{"c.yaml:2: sources[0]: type: required", "c.yaml:2: sources[0]: name: required"},
	}, {
		name: "empty type",
		text: "outputs:\n  - path: x\n    type: \"\"\n",
		want: []string{"c.yaml:3: outputs[0]: type: required"},
	}, {
		name: "bad source name",
		text: "sources:\n  - name: my trail\n    type: aws-s3\n",
		want: []string{`c.yaml:2: sources[0] (my trail): name: "my trail" must start with a letter or digit and contain only letters, digits, '_', '.' and '-'`},
	}, {
		name: "duplicate output names",
		text: "outputs:\n  - type: file\n    name: main\n  - type: webhook\n    name: main\n",
		want: []string{`c.yaml:5: outputs[1] (main): name: "main" is already used by the output at line 3`},
	}, {
		name: "engine ranges",
		text: "engine:\n  log_alert_level: 17\n  memory_size: 0\n  max_fields: -1\n  max_event_bytes: 0\n  workers: -2\n",
		want: []string{
			"c.yaml:2: engine.log_alert_level: must be between 0 and 16, got 17",
			"c.yaml:3: engine.memory_size: must be positive, got 0",
			"c.yaml:4: engine.max_fields: must be positive, got -1",
			"c.yaml:5: engine.max_event_bytes: must be positive, got 0",
			"c.yaml:6: engine.workers: must be 0 (one per CPU) or more, got -2",
		},
	}, {
		name: "empty rules and data_dir",
		text: "data_dir: \"\"\nrules: [builtin, \"\"]\n",
		want: []string{"c.yaml:1: data_dir: must not be empty", "c.yaml:2: rules[1]: must not be empty"},
	}, {
		name: "no rules",
		text: "rules: []\n",
		want: []string{"c.yaml:1: rules: must list at least one file or folder (builtin is the embedded ruleset)"},
	}, {
		name: "bad listen address",
		text: "api:\n  listen: localhost\n",
		want: []string{"c.yaml:2: api.listen: want host:port: address localhost: missing port in address"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("c.yaml", []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			checkErrors(t, cfg.Validate(), tt.want)
		})
	}
}

func TestOutputDefaultNames(t *testing.T) {
	cfg, err := config.Parse("c.yaml", []byte("outputs:\n  - type: file\n  - type: webhook\n  - type: file\n  - type: syslog\n    name: siem\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"file-0", "webhook", "file-2", "siem"}
	for i, w := range want {
		if got := cfg.Outputs[i].Name; got != w {
			t.Errorf("outputs[%d].Name = %q, want %q", i, got, w)
		}
	}
}

func TestLoadResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "etc")
	if err := os.Mkdir(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "token"), []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := "data_dir: var\nrules: [builtin, rules/custom, /abs/rules]\nmanager_name: ${file:token}\n" +
		"outputs:\n  - type: file\n    path: alerts/alerts.json\n    bucket: b\n"
	path := filepath.Join(cfgDir, "skywatch.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ what, got, want string }{
		{"data_dir", cfg.DataDir, filepath.Join(cfgDir, "var")},
		{"rules[0]", cfg.Rules[0], "builtin"},
		{"rules[1]", cfg.Rules[1], filepath.Join(cfgDir, "rules/custom")},
		{"rules[2]", cfg.Rules[2], "/abs/rules"},
		{"secret relative to the config", cfg.ManagerName, "s3cr3t"},
		{"base dir", cfg.BaseDir, cfgDir},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	out := defaultTestComponent()
	if err := cfg.Outputs[0].Decode(&out); err != nil {
		t.Fatal(err)
	}
	if want := config.Path(filepath.Join(cfgDir, "alerts/alerts.json")); out.Path != want {
		t.Errorf("component path = %q, want %q", out.Path, want)
	}

	parsed, err := config.Parse(path, []byte(text[:strings.Index(text, "manager_name")]))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.DataDir != "var" {
		t.Errorf("Parse resolved data_dir to %q; it should leave paths as written", parsed.DataDir)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "load config") {
		t.Errorf("missing file: got %v, want a load config error", err)
	}
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("outptus: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path)
	checkErrors(t, err, []string{path + `:1: unknown key "outptus" (did you mean "outputs"?)`})
}

func TestValidateWithoutFile(t *testing.T) {
	cfg := config.Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cfg.Engine.Workers = -1
	cfg.Sources = []config.SourceConfig{{Type: "local"}}
	checkErrors(t, cfg.Validate(), []string{
		"engine.workers: must be 0 (one per CPU) or more, got -1",
		"sources[0] (local): name: required",
	})
}

type apiTestSection struct {
	Listen   string          `yaml:"listen"`
	CertFile config.Path     `yaml:"cert_file"`
	Timeout  config.Duration `yaml:"timeout"`
}

func (a *apiTestSection) Validate() error {
	if a.Timeout < 0 {
		return config.FieldError{Field: "timeout", Msg: "must not be negative"}
	}
	return nil
}

// The api section is kept whole for the API package to decode strictly, with
// positions; the service section has defaults.
func TestAPIAndServiceSections(t *testing.T) {
	text := "data_dir: ./var\napi:\n  listen: 127.0.0.1:9000\n  cert_file: tls/cert.pem\n  timeout: -1s\nservice:\n  shutdown_timeout: 5s\n"
	cfg, err := config.Parse("svc.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.API.Listen != "127.0.0.1:9000" || cfg.Service.ShutdownTimeout.Std() != 5*time.Second || cfg.Service.ProgressInterval.Std() != 30*time.Second {
		t.Fatalf("api %+v service %+v", cfg.API.Listen, cfg.Service)
	}
	var a apiTestSection
	err = cfg.API.Decode(&a)
	if err == nil || !strings.Contains(err.Error(), "svc.yaml:5") || !strings.Contains(err.Error(), "api: timeout") {
		t.Fatalf("Decode error = %v; want the timeout line named", err)
	}
	cfg2, err := config.Parse("svc.yaml", []byte("api:\n  listen: 127.0.0.1:9000\n  bogus: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg2.API.Decode(&a); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown api key accepted: %v", err)
	}
	empty, _ := config.Parse("e.yaml", []byte("data_dir: ./var\n"))
	if empty.API.Listen != "" || empty.API.Decode(&apiTestSection{}) != nil {
		t.Fatal("absent api section must decode to defaults")
	}
}
