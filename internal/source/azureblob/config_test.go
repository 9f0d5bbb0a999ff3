package azureblob

import (
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

func TestValidate(t *testing.T) {
	ok := func(c *Config) { c.AccountName, c.AccountKey, c.Container = "acct", "a2V5", "logs" }
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for none
	}{
		{"shared key", ok, ""},
		{"connection string", func(c *Config) { c.ConnectionString, c.Container = "x", "logs" }, ""},
		{"entra", func(c *Config) {
			c.AccountName, c.Container, c.Azure.TenantID, c.Azure.ClientID, c.Azure.ClientSecret = "a", "*", "t", "c", "s"
		}, ""},
		{"managed identity", func(c *Config) { c.AccountName, c.Container = "a", "logs" }, ""},
		{"no container", func(c *Config) { ok(c); c.Container = "" }, "container: is required"},
		{"no account", func(c *Config) { ok(c); c.AccountName = "" }, "account_name: is required"},
		{"key and string", func(c *Config) { ok(c); c.ConnectionString = "x" }, "not both"},
		{"key and entra", func(c *Config) { ok(c); c.Azure.TenantID = "t" }, "keep one"},
		{"entra incomplete", func(c *Config) { c.AccountName, c.Container, c.Azure.ClientSecret = "a", "l", "s" }, "tenant_id"},
		{"content type", func(c *Config) { ok(c); c.ContentType = "csv" }, "content_type: want json_file"},
		{"tag", func(c *Config) { ok(c); c.Tag = `a"b` }, "tag: must be UTF-8 without quotes"},
		{"date", func(c *Config) { ok(c); c.OnlyLogsAfter = "yesterday" }, "only_logs_after: invalid date"},
		{"wazuh date", func(c *Config) { ok(c); c.OnlyLogsAfter = "2024-jan-31" }, ""},
		{"endpoint", func(c *Config) { ok(c); c.Endpoint = "127.0.0.1:10000" }, "endpoint: must be"},
		{"interval", func(c *Config) { ok(c); c.Interval = config.Duration(time.Millisecond) }, "interval: must be at least 1s"},
		{"workers", func(c *Config) { ok(c); c.Workers = 100 }, "workers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
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
	c := Config{AccountName: "a", AccountKey: "k", Container: "c"}
	if err := c.Validate(); err != nil || c.Interval.Std() != DefaultInterval || c.ContentType != JSONFile ||
		c.Workers != DefaultWorkers || c.RereadWindow.Std() != DefaultRereadWindow {
		t.Errorf("zero config: %v, %+v", err, c)
	}
}
