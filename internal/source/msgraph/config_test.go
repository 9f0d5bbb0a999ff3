package msgraph

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/skywatch-dev/skywatch/internal/config"
)

func TestValidate(t *testing.T) {
	base := func() Config {
		c := DefaultConfig()
		c.Azure.TenantID, c.Azure.ClientID, c.Azure.ClientSecret = "t", "c", "s"
		return c
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"defaults", func(*Config) {}, ""},
		{"unknown resource without time_field", func(c *Config) { c.Resources = []Resource{{Resource: "deviceManagement/auditEvents"}} }, "time_field is required"},
		{"unknown resource with time_field", func(c *Config) {
			c.Resources = []Resource{{Resource: "deviceManagement/auditEvents", TimeField: "activityDateTime"}}
		}, ""},
		{"twice", func(c *Config) {
			c.Resources = []Resource{{Resource: "auditLogs/signIns"}, {Resource: "/auditLogs/signIns/"}}
		}, "listed twice"},
		{"same path, other filter", func(c *Config) {
			c.Resources = []Resource{{Resource: "auditLogs/signIns"}, {Resource: "auditLogs/signIns", Filter: "appId eq 'x'"}}
		}, ""},
		{"query in path", func(c *Config) { c.Resources = []Resource{{Resource: "auditLogs/signIns?$top=5"}} }, "want a collection path"},
		{"bad format", func(c *Config) { c.Resources = []Resource{{Resource: "auditLogs/signIns", Format: "xml"}} }, "format must be"},
		{"http endpoint", func(c *Config) { c.Endpoint = "http://graph.example" }, "endpoint: must be an https"},
		{"bad date", func(c *Config) { c.OnlyLogsAfter = "yesterday" }, "only_logs_after: invalid date"},
		{"page size", func(c *Config) { c.PageSize = 5000 }, "page_size: must be between"},
		{"short window", func(c *Config) { c.MaxWindow = config.Duration(time.Second) }, "max_window: must be at least"},
		{"negative lookback", func(c *Config) { c.Lookback = config.Duration(-time.Minute) }, "lookback: must not be negative"},
		{"credentials", func(c *Config) { c.Azure.TenantID = "" }, "tenant_id and client_id are required"},
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
	c := base()
	if err := c.Validate(); err != nil || len(c.Resources) != 4 || c.Resources[1].TimeField != "createdDateTime" ||
		c.Resources[2].Format != FormatMSGraph || c.Resources[0].Format != FormatAzureADGraph || c.Resources[3].TimeField != "detectedDateTime" {
		t.Errorf("default resources: %v %+v", err, c.Resources)
	}
	c = base()
	c.Azure.Cloud = "usgov"
	_ = c.Validate()
	if c.graphBase() != "https://graph.microsoft.us" {
		t.Errorf("usgov graph base %s", c.graphBase())
	}
}

func TestResourceYAML(t *testing.T) {
	var rs []Resource
	src := "- auditLogs/signIns\n- resource: security/alerts_v2\n  filter: severity eq 'high'\n  tag: alerts\n"
	if err := yaml.Unmarshal([]byte(src), &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Resource != "auditLogs/signIns" || rs[1].Filter != "severity eq 'high'" || rs[1].Tag != "alerts" {
		t.Errorf("decoded %+v", rs)
	}
	if err := yaml.Unmarshal([]byte("- resource: x\n  filtre: y\n"), &rs); err == nil || !strings.Contains(err.Error(), `unknown resource key "filtre"`) {
		t.Errorf("unknown key: %v", err)
	}
}
