package azurela

import (
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

func TestValidate(t *testing.T) {
	base := func() Config {
		c := DefaultConfig()
		c.Azure.TenantID, c.Azure.ClientID, c.Azure.ClientSecret = testTenant, testClient, "s"
		c.Workspace, c.Query = ws1, "AzureActivity"
		return c
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for none
	}{
		{"defaults", func(*Config) {}, ""},
		{"workspaces", func(c *Config) { c.Workspaces = []string{ws2} }, ""},
		{"only workspaces", func(c *Config) { c.Workspace, c.Workspaces = "", []string{ws1, ws2} }, ""},
		{"no workspace", func(c *Config) { c.Workspace = "" }, "workspace: required"},
		{"bad workspace", func(c *Config) { c.Workspace = "my-workspace" }, `workspace: "my-workspace" is not a workspace id`},
		{"bad listed workspace", func(c *Config) { c.Workspaces = []string{ws2, "x"} }, `workspaces[1]: "x" is not`},
		{"twice", func(c *Config) { c.Workspaces = []string{strings.ToUpper(ws1)} }, "listed twice"},
		{"no query", func(c *Config) { c.Query = " " }, "query: required"},
		{"offset days", func(c *Config) { c.TimeOffset = "7d" }, ""},
		{"offset hours", func(c *Config) { c.TimeOffset = "12h" }, ""},
		{"bad offset", func(c *Config) { c.TimeOffset = "yesterday" }, "time_offset: invalid offset"},
		{"http endpoint", func(c *Config) { c.Endpoint = "http://127.0.0.1:1/v1" }, "endpoint: must be an https"},
		{"short interval", func(c *Config) { c.Interval = config.Duration(time.Millisecond) }, "interval: must be at least 1s"},
		{"long server timeout", func(c *Config) { c.ServerTimeout = config.Duration(time.Hour) }, "server_timeout"},
		{"negative overlap", func(c *Config) { c.Overlap = -1 }, "overlap: must not be negative"},
		{"no secret", func(c *Config) { c.Azure.ClientSecret = ""; c.Azure.Auth = "client_secret" }, "client_secret: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if got, _ := ParseOffset("2d"); got != 48*time.Hour {
		t.Errorf("2d = %v", got)
	}
	c := base()
	if c.endpoint() != "https://api.loganalytics.io/v1" {
		t.Errorf("default endpoint %s", c.endpoint())
	}
	c.Azure.Cloud = "usgov"
	if c.endpoint() != "https://api.loganalytics.us/v1" {
		t.Errorf("usgov endpoint %s", c.endpoint())
	}
}

// TestReadmeExample keeps the README's configuration example valid: it must
// parse, decode strictly into Config, validate, mean what the README says, and
// start a source that reads rows.
func TestReadmeExample(t *testing.T) {
	t.Setenv("LA_CLIENT_SECRET", testSecret)
	sc := configtest.ExampleFromREADME(t, "README.md").Sources[0]
	if sc.Type != "azure-log-analytics" {
		t.Fatalf("the README example's first source has type %q", sc.Type)
	}
	c := DefaultConfig()
	if err := sc.Decode(&c); err != nil {
		t.Fatalf("the README example does not decode: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if sc.Name != "signins" || c.Workspace != ws1 || c.Tag != "entra-signin-failures" || c.TimeOffset != "1d" ||
		c.Interval.Std() != 5*time.Minute || c.Azure.ClientSecret.Reveal() != testSecret || c.Azure.TenantID != testTenant ||
		c.Azure.ClientID != testClient || !strings.HasPrefix(c.Query, "SigninLogs") {
		t.Errorf("README example decoded to name %q, %+v", sc.Name, c)
	}

	// The decoded configuration reads rows through the fakes.
	e := newEnv(t)
	e.addRows(ws1, "r", 3, noon.Add(-time.Hour), time.Minute)
	c.Azure.AuthorityHost, c.Endpoint = e.cfg.Azure.AuthorityHost, e.cfg.Endpoint
	s, err := New(c, e.settings(sc.Name, nil))
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	col := &collector{}
	mustRunPass(t, s, col)
	if n := len(col.take()); n != 3 {
		t.Errorf("read %d events, want 3", n)
	}
	if calls := e.la.Calls(); len(calls) != 1 || calls[0].Query != `SigninLogs | where ResultType != "0"` {
		t.Errorf("calls %+v", calls)
	}
}
