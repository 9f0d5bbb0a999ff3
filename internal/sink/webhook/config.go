package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
)

// Body formats.
const (
	// FormatSingle posts one alert per request, the alert's JSON as the body.
	FormatSingle = "single"
	// FormatArray posts up to batch_size alerts as one JSON array.
	FormatArray = "array"
	// FormatNDJSON posts up to batch_size alerts, one JSON object per line.
	FormatNDJSON = "ndjson"
)

// Config is the webhook output's section of the configuration file.
type Config struct {
	// URL is the endpoint alerts are POSTed to (required). It is a secret:
	// such URLs often carry a token.
	URL config.Secret `yaml:"url"`
	// Headers are sent with every request; values are secrets (API keys).
	Headers map[string]config.Secret `yaml:"headers"`
	// Format is single (default), array or ndjson.
	Format string `yaml:"format"`
	// BatchSize is the most alerts one array or ndjson request carries
	// (default 100).
	BatchSize int `yaml:"batch_size"`
	// HMACKey, when set, signs each request (X-Skywatch-Signature).
	HMACKey config.Secret `yaml:"hmac_key"`
	// Suppress holds repeats of the same alert back (off by default).
	Suppress suppress.Config `yaml:"suppress"`

	notify.Delivery `yaml:",inline"`
	sink.Selection  `yaml:",inline"`
}

// DefaultConfig returns the defaults, to be overlaid with the configured values.
func DefaultConfig() Config {
	return Config{
		Format:    FormatSingle,
		BatchSize: 100,
		Suppress:  suppress.DefaultConfig(),
		Delivery:  notify.DefaultDelivery(),
	}
}

// Headers the output sets itself and a configuration must not override.
var reservedHeaders = []string{"Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection",
	SignatureHeader, TimestampHeader, "Idempotency-Key", AlertIDHeader, AlertCountHeader}

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	errs := []error{notify.ValidateURL("url", c.URL, true)}
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch c.Format {
	case FormatSingle, FormatArray, FormatNDJSON:
	default:
		bad("format", "must be %s, %s or %s, got %q", FormatSingle, FormatArray, FormatNDJSON, c.Format)
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		bad("batch_size", "must be between 1 and 10000, got %d", c.BatchSize)
	}
	for name, v := range c.Headers {
		switch {
		case strings.ContainsAny(v.Reveal(), "\r\n\x00"):
			bad("headers."+name, "value must not contain line breaks or NUL")
		case !validHeaderName(name):
			bad("headers."+name, "is not a valid header name")
		case reserved(name):
			bad("headers."+name, "is set by the output itself")
		}
	}
	if c.HMACKey != "" && len(c.HMACKey) < 16 {
		bad("hmac_key", "must be at least 16 characters")
	}
	errs = append(errs, c.Suppress.Validate(), c.Delivery.Validate(), c.Selection.Validate())
	return errors.Join(errs...)
}

func reserved(name string) bool {
	for _, r := range reservedHeaders {
		if strings.EqualFold(r, name) {
			return true
		}
	}
	return false
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// header builds the static headers, canonicalised.
func (c *Config) header() http.Header {
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v.Reveal())
	}
	return h
}
