package opensearch

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// Product names the server family; it is the output's type and decides the
// template's field types (flat_object or flattened).
type Product string

// The products this package speaks to.
const (
	OpenSearch    Product = "opensearch"
	Elasticsearch Product = "elasticsearch"
)

// Config is the opensearch and elasticsearch outputs' section of the
// configuration file.
type Config struct {
	// URL is the server's base URL, e.g. https://search.example.com:9200
	// (required). Bulk requests go to <url>/_bulk, the template to
	// <url>/_index_template/<name>.
	URL string `yaml:"url"`
	// Index is the index alerts are written to. %Y, %m and %d are replaced by
	// the alert timestamp's UTC year, month and day (default
	// skywatch-alerts-%Y.%m.%d). Ignored when DataStream is set.
	Index string `yaml:"index"`
	// DataStream, when set, writes to this data stream instead of Index.
	DataStream string `yaml:"data_stream"`
	// Action is the bulk operation: create (default) or index. Data streams
	// take create only.
	Action string `yaml:"action"`
	// TimestampField names the field added to every document holding the alert
	// timestamp in RFC 3339 UTC (default @timestamp); "" adds none. Data streams
	// need @timestamp.
	TimestampField string `yaml:"timestamp_field"`

	// Username and Password select basic authentication.
	Username string        `yaml:"username"`
	Password config.Secret `yaml:"password"`
	// APIKey is sent as "Authorization: ApiKey <api_key>" (the base64 "encoded"
	// value the create API key call returns).
	APIKey config.Secret `yaml:"api_key"`
	// BearerToken is sent as "Authorization: Bearer <token>".
	BearerToken config.Secret `yaml:"bearer_token"`
	// Headers are added to every request, e.g. VictoriaLogs' VL-Msg-Field.
	Headers map[string]config.Secret `yaml:"headers"`
	// TLS configures https connections.
	TLS TLSConfig `yaml:"tls"`

	// Compress gzips request bodies (default false).
	Compress bool `yaml:"compress"`
	// BulkMaxBytes and BulkMaxDocs bound one bulk request (defaults 5MiB and
	// 1000); a single larger alert is sent alone.
	BulkMaxBytes config.ByteSize `yaml:"bulk_max_bytes"`
	BulkMaxDocs  int             `yaml:"bulk_max_docs"`
	// Concurrency is how many bulk requests a flush has in flight (default 1).
	Concurrency int `yaml:"concurrency"`
	// MaxBuffered bounds the alerts held while the server is unreachable; past
	// it Write refuses alerts, which leaves them to their sources (default 64MiB).
	MaxBuffered config.ByteSize `yaml:"max_buffered"`
	// Timeout bounds one HTTP request (default 30s).
	Timeout config.Duration `yaml:"timeout"`
	// RetryAttempts, RetryInitial and RetryMax shape the retries within one
	// Flush (defaults 5, 200ms, 30s); the pipeline retries failed flushes again.
	RetryAttempts int             `yaml:"retry_attempts"`
	RetryInitial  config.Duration `yaml:"retry_initial"`
	RetryMax      config.Duration `yaml:"retry_max"`

	// InstallTemplate puts the index template on start, retrying until it
	// succeeds (default true).
	InstallTemplate bool `yaml:"install_template"`
	// TemplateName is the template's name (default skywatch-alerts).
	TemplateName string `yaml:"template_name"`

	// DeadLetterDir is where alerts the server refuses for good (mapping
	// errors) are kept, in <name>.jsonl (default <data_dir>/dead-letter).
	DeadLetterDir config.Path `yaml:"dead_letter_dir"`

	// Selection chooses the alerts written (default: all).
	sink.Selection `yaml:",inline"`
}

// TLSConfig holds the options of https connections.
type TLSConfig struct {
	// CAFile is a PEM bundle of the authorities to trust instead of the
	// system's.
	CAFile config.Path `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key (PEM).
	CertFile config.Path `yaml:"cert_file"`
	KeyFile  config.Path `yaml:"key_file"`
	// ServerName overrides the name the server certificate is checked against.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify turns certificate checks off. Never in production.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

func (t TLSConfig) isZero() bool { return t == TLSConfig{} }

// DefaultConfig returns the defaults, to be overlaid with the configured values.
func DefaultConfig() Config {
	return Config{
		Index:           "skywatch-alerts-%Y.%m.%d",
		Action:          "create",
		TimestampField:  "@timestamp",
		BulkMaxBytes:    5 << 20,
		BulkMaxDocs:     1000,
		Concurrency:     1,
		MaxBuffered:     64 << 20,
		Timeout:         config.Duration(30 * time.Second),
		RetryAttempts:   5,
		RetryInitial:    config.Duration(200 * time.Millisecond),
		RetryMax:        config.Duration(30 * time.Second),
		InstallTemplate: true,
		TemplateName:    "skywatch-alerts",
	}
}

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	https := false
	if c.URL == "" {
		bad("url", "required")
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url", "must be an http:// or https:// URL with a host, e.g. https://localhost:9200")
	} else {
		https = u.Scheme == "https"
		switch {
		case u.User != nil:
			bad("url", "must not hold credentials: use username and password")
		case u.RawQuery != "" || u.Fragment != "":
			bad("url", "must not have a query or fragment")
		}
	}
	if c.DataStream != "" {
		if msg := checkIndexName(c.DataStream); msg != "" {
			bad("data_stream", "%s", msg)
		}
		if c.Action != "create" {
			bad("action", "must be create when writing to a data stream")
		}
		if c.TimestampField != "@timestamp" {
			bad("timestamp_field", "must be @timestamp when writing to a data stream")
		}
	} else if _, err := parseIndexPattern(c.Index); err != nil {
		bad("index", "%v", err)
	}
	if c.Action != "create" && c.Action != "index" {
		bad("action", "must be create or index, got %q", c.Action)
	}
	switch c.TimestampField {
	case "timestamp", "rule", "agent", "manager", "id", "previous_output", "full_log", "decoder", "data", "location":
		bad("timestamp_field", "%q is a field of the alert already", c.TimestampField)
	default:
		if strings.ContainsAny(c.TimestampField, "\"\\") || strings.ContainsFunc(c.TimestampField, unicode.IsControl) {
			bad("timestamp_field", "must not contain quotes, backslashes or control characters")
		}
	}
	auth := 0
	if c.Username != "" || c.Password != "" {
		auth++
		if c.Username == "" {
			bad("username", "required with password")
		}
		if c.Password == "" {
			bad("password", "required with username")
		}
	}
	if c.APIKey != "" {
		auth++
	}
	if c.BearerToken != "" {
		auth++
	}
	if auth > 1 {
		bad("api_key", "set only one of username/password, api_key and bearer_token")
	}
	for name, v := range c.Headers {
		switch canon := http.CanonicalHeaderKey(name); {
		case name == "" || strings.ContainsAny(name, " \t\r\n:"):
			bad("headers", "invalid header name %q", name)
		case canon == "Content-Type" || canon == "Content-Encoding" || canon == "Content-Length" || canon == "Host":
			bad("headers", "%s is set by the output", canon)
		case canon == "Authorization" && auth > 0:
			bad("headers", "Authorization conflicts with username, api_key or bearer_token")
		case strings.ContainsAny(v.Reveal(), "\r\n"):
			bad("headers", "the value of %s must be one line", name)
		}
	}
	if !c.TLS.isZero() && !https && c.URL != "" {
		bad("tls", "needs an https:// url")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls.key_file", "cert_file and key_file go together")
	}
	if c.BulkMaxBytes < 1024 {
		bad("bulk_max_bytes", "must be at least 1KiB")
	}
	if c.BulkMaxDocs < 1 {
		bad("bulk_max_docs", "must be at least 1")
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		bad("concurrency", "must be between 1 and 64")
	}
	if c.MaxBuffered < c.BulkMaxBytes {
		bad("max_buffered", "must be at least bulk_max_bytes (%s)", c.BulkMaxBytes)
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	if c.RetryAttempts < 1 {
		bad("retry_attempts", "must be at least 1")
	}
	if c.RetryInitial <= 0 {
		bad("retry_initial", "must be positive")
	}
	if c.RetryMax < c.RetryInitial {
		bad("retry_max", "must not be below retry_initial (%s)", c.RetryInitial)
	}
	if c.InstallTemplate {
		if msg := checkIndexName(c.TemplateName); msg != "" {
			bad("template_name", "%s", msg)
		}
	}
	errs = append(errs, c.Selection.Validate())
	return errors.Join(errs...)
}

// checkIndexName applies the server's rules for index, data stream and
// template names, so a bad name is reported at start, not as a failure of
// every bulk item. It returns "" for a good name.
func checkIndexName(s string) string {
	switch {
	case s == "":
		return "required"
	case s == "." || s == "..":
		return "must not be . or .."
	case len(s) > 255:
		return "must be at most 255 bytes"
	case strings.ContainsAny(s[:1], "-_+"):
		return "must not start with -, _ or +"
	case strings.ToLower(s) != s:
		return "must be lowercase"
	case strings.ContainsAny(s, "\\/*?\"<>| ,#:"):
		return `must not contain \ / * ? " < > | space , # or :`
	}
	return ""
}
