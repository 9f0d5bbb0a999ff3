package azureblob

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/azureclient"
	"github.com/skywatch-dev/skywatch/internal/config"
)

// Content types (Config.ContentType), as Wazuh's storage module names them.
const (
	// JSONFile blobs hold records: a {"records":[...]} document (NSG and VNet
	// flow logs, diagnostic logs before November 2018) or JSON Lines (diagnostic
	// and activity logs since). One event per record.
	JSONFile = "json_file"
	// JSONInline blobs hold one JSON object per line, sent with the tags spliced in.
	JSONInline = "json_inline"
	// Text blobs hold lines of text, each sent with a tag prefix.
	Text = "text"
)

// Config is the "azure-blob" source's configuration.
type Config struct {
	// Azure holds the Microsoft Entra ID credential keys (tenant_id, client_id,
	// client_secret, certificate_file, auth, cloud, authority_host), written flat
	// in the source's section. They are used when neither account_key nor
	// connection_string is set.
	Azure azureclient.Config `yaml:",inline"`
	// AccountName is the storage account.
	AccountName string `yaml:"account_name"`
	// AccountKey is the account's shared key; use ${ENV} or ${file:...}.
	AccountKey config.Secret `yaml:"account_key"`
	// ConnectionString is a storage connection string (it carries the account,
	// its key or SAS, and the endpoint).
	ConnectionString config.Secret `yaml:"connection_string"`
	// Endpoint is the blob service URL, for emulators and private endpoints
	// (default https://<account_name>.blob.<cloud's storage suffix>/). Azurite:
	// http://127.0.0.1:10000/devstoreaccount1.
	Endpoint string `yaml:"endpoint"`
	// Container is the container read, or "*" for every container of the account.
	Container string `yaml:"container"`
	// ContentType is json_file (default), json_inline or text.
	ContentType string `yaml:"content_type"`
	// Path is the blob name prefix read (e.g. "insights-logs-auditlogs/" or
	// "resourceId=/SUBSCRIPTIONS/.../").
	Path string `yaml:"path"`
	// Blobs keeps only blobs whose name contains this text (Wazuh's extension
	// filter, e.g. ".json").
	Blobs string `yaml:"blobs"`
	// Tag is sent as azure_storage_tag with every event.
	Tag string `yaml:"tag"`
	// OnlyLogsAfter is where the first run starts: blobs of earlier days (by their
	// y=/m=/d= folders, else by last modification) are not read. 2024-01-31,
	// 2024-JAN-31 or an RFC 3339 time; default 00:00 UTC of the first run's day.
	OnlyLogsAfter string `yaml:"only_logs_after"`
	// RereadWindow is how long after a day ends its folder is still listed for
	// blobs that arrive or grow late (default 24h); blobs outside day folders
	// are remembered for as long after they were last modified.
	RereadWindow config.Duration `yaml:"reread_window"`
	// Workers is how many blobs are read at a time (default 4).
	Workers int `yaml:"workers"`
	// MaxRetries is how many times the SDK retries a failed request (default 3).
	MaxRetries int `yaml:"max_retries"`
	// Interval is the time between passes in service mode (default 5m).
	Interval config.Duration `yaml:"interval"`
}

// Defaults.
const (
	DefaultInterval     = 5 * time.Minute
	DefaultRereadWindow = 24 * time.Hour
	DefaultWorkers      = 4
	DefaultMaxRetries   = 3
)

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{ContentType: JSONFile, Interval: config.Duration(DefaultInterval),
		RereadWindow: config.Duration(DefaultRereadWindow), Workers: DefaultWorkers, MaxRetries: DefaultMaxRetries}
}

// usesEntra reports whether authentication goes through Microsoft Entra ID.
func (c *Config) usesEntra() bool {
	return c.AccountKey.Reveal() == "" && c.ConnectionString.Reveal() == ""
}

// entraKeysSet reports whether any Entra credential key is set.
func (c *Config) entraKeysSet() bool {
	a := c.Azure
	return a.TenantID != "" || a.ClientID != "" || a.ClientSecret.Reveal() != "" || a.CertificateFile != "" || a.Auth != ""
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.ConnectionString.Reveal() != "" && c.AccountKey.Reveal() != "":
		fail("connection_string", "set either connection_string or account_key, not both")
	case !c.usesEntra() && c.entraKeysSet():
		fail("account_key", "shared key or connection string authentication is set together with Entra ID keys (tenant_id, client_id, client_secret, certificate_file, auth): keep one")
	case c.usesEntra():
		if err := c.Azure.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ConnectionString.Reveal() == "" && c.AccountName == "" && c.Endpoint == "" {
		fail("account_name", "is required (or connection_string, or endpoint)")
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail("endpoint", "must be an http:// or https:// URL")
		}
	}
	if c.Container == "" {
		fail("container", "is required (a container name, or * for all)")
	}
	switch c.ContentType {
	case "":
		c.ContentType = JSONFile
	case JSONFile, JSONInline, Text:
	default:
		fail("content_type", "want json_file, json_inline or text, got %q", c.ContentType)
	}
	if err := validTag(c.Tag); err != nil {
		fail("tag", "%v", err)
	}
	if _, err := parseDate(c.OnlyLogsAfter); err != nil {
		fail("only_logs_after", "%v", err)
	}
	switch d := c.RereadWindow.Std(); {
	case d == 0:
		c.RereadWindow = config.Duration(DefaultRereadWindow)
	case d < 0:
		fail("reread_window", "must not be negative")
	}
	switch {
	case c.Workers == 0:
		c.Workers = DefaultWorkers
	case c.Workers < 0 || c.Workers > 64:
		fail("workers", "must be between 1 and 64")
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		fail("max_retries", "must not be negative")
	}
	switch d := c.Interval.Std(); {
	case d == 0:
		c.Interval = config.Duration(DefaultInterval)
	case d < time.Second:
		fail("interval", "must be at least 1s")
	}
	return errors.Join(errs...)
}

// parseDate reads only_logs_after: 2006-01-02, Wazuh's 2006-JAN-02 (any case)
// or an RFC 3339 time (in UTC). The empty string gives the zero time.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if len(s) == 11 {
		if t, err := time.Parse("2006-Jan-02", s[:5]+strings.ToUpper(s[5:6])+strings.ToLower(s[6:8])+s[8:]); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("invalid date %q: want 2024-01-31, 2024-JAN-31 or an RFC 3339 time", s)
}

// validTag checks that a tag can be written between quotes as it is: Wazuh's
// module splices it into JSON text unescaped.
func validTag(tag string) error {
	if !utf8.ValidString(tag) || strings.ContainsFunc(tag, func(r rune) bool { return r < 0x20 || r == '"' || r == '\\' || r == 0x7f }) {
		return errors.New("must be UTF-8 without quotes, backslashes or control characters")
	}
	return nil
}
