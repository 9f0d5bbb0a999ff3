package api_test

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/skywatch-dev/skywatch/internal/api"
	"github.com/skywatch-dev/skywatch/internal/config"
)

// decodeAPI decodes the api section of a configuration strictly over the
// defaults, as the service does.
func decodeAPI(text string) (api.Config, error) {
	var doc struct {
		DataDir string     `yaml:"data_dir"`
		API     api.Config `yaml:"api"`
	}
	doc.API = api.DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return doc.API, err
	}
	return doc.API, doc.API.Validate()
}

func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../docs/api/README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Configuration\n\n```yaml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("docs/api/README.md has no yaml example under ## Configuration")
	}
	c, err := decodeAPI(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	// Apart from listen and the TLS files, the example shows the defaults.
	d := api.DefaultConfig()
	d.Listen, d.CertFile, d.KeyFile = "127.0.0.1:8080", "/etc/skywatch/api.crt", "/etc/skywatch/api.key"
	d.CORSOrigins = []string{}
	if c.TokensPath("/data") != "/data/api-tokens.json" || !c.TLS() {
		t.Errorf("tokens path %s, TLS %v", c.TokensPath("/data"), c.TLS())
	}
	c.CORSOrigins = []string{}
	if !equalConfig(c, d) {
		t.Errorf("README example decodes to\n%+v\nwant\n%+v", c, d)
	}
}

func equalConfig(a, b api.Config) bool {
	return a.Listen == b.Listen && a.CertFile == b.CertFile && a.KeyFile == b.KeyFile && a.TokensFile == b.TokensFile &&
		a.MaxBody == b.MaxBody && a.LogtestMaxBody == b.LogtestMaxBody && a.LogtestMaxEvents == b.LogtestMaxEvents &&
		a.LogtestRate == b.LogtestRate && a.LogtestBurst == b.LogtestBurst && a.MaxHeaderBytes == b.MaxHeaderBytes &&
		a.ReadHeaderTimeout == b.ReadHeaderTimeout && a.ReadTimeout == b.ReadTimeout && a.WriteTimeout == b.WriteTimeout &&
		a.IdleTimeout == b.IdleTimeout && a.RequestTimeout == b.RequestTimeout && a.ShutdownTimeout == b.ShutdownTimeout &&
		len(a.CORSOrigins) == len(b.CORSOrigins)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct{ body, want string }{
		{"listen: 127.0.0.1:8080\ntokens_file: /etc/sw/tokens.json\n", ""},
		{"listen: :8443\ncors_origins: [https://soc.example.com, 'http://localhost:3000']\n", ""},
		{"max_body: 1MiB\n", "listen: required"},
		{"listen: localhost\n", "listen: want host:port"},
		{"listen: 'localhost:'\n", "listen: want host:port: missing port"},
		{"listen: :1\ncert_file: a.pem\n", "key_file: cert_file and key_file go together"},
		{"listen: :1\nkey_file: a.pem\n", "cert_file: cert_file and key_file go together"},
		{"listen: :1\nmax_body: 0\n", "max_body: must be positive"},
		{"listen: :1\nlogtest_max_events: 200\n", "logtest_burst: must be at least logtest_max_events (200)"},
		{"listen: :1\nlogtest_rate: 0\n", "logtest_rate: must be positive"},
		{"listen: :1\nread_timeout: 0s\n", "read_timeout: must be positive"},
		{"listen: :1\nrequest_timeout: 2m\n", "request_timeout: must be below write_timeout (1m0s)"},
		{"listen: :1\ncors_origins: ['*']\n", `cors_origins[0]: "*" is not allowed`},
		{"listen: :1\ncors_origins: [https://a.example/path]\n", "cors_origins[0]: \"https://a.example/path\" is not an origin"},
		{"listen: :1\ncors_origins: [soc.example.com]\n", "cors_origins[0]:"},
		{"listen: :1\nmax_bodyy: 1MiB\n", "field max_bodyy not found"},
		{"listen: :1\nread_timeout: 30\n", "invalid duration"},
	}
	for _, tt := range tests {
		c, err := decodeAPI("api:\n" + indent(tt.body))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.body, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: error %v, want %q", tt.body, err, tt.want)
		}
		if tt.want == "" && c.ReadTimeout.Std() != 30*time.Second {
			t.Errorf("%q: defaults lost: %+v", tt.body, c)
		}
		if err != nil && strings.Contains(tt.want, ":") && !strings.HasPrefix(tt.want, "field") && !strings.Contains(tt.want, "invalid") {
			var fe config.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("%q: %T is not a config.FieldError", tt.body, err)
			}
		}
	}
	if _, err := api.New(api.Config{}, api.Options{}); err == nil {
		t.Error("New with an empty Config: no error")
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}
