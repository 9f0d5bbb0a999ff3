package api

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// DefaultTokensFile is the tokens file's name inside the data directory when
// tokens_file is not set.
const DefaultTokensFile = "api-tokens.json"

// Config is the api section of the configuration file.
type Config struct {
	// Listen is the host:port to serve on (required when the API is on).
	Listen string `yaml:"listen"`
	// CertFile and KeyFile turn on TLS; set both or neither.
	CertFile config.Path `yaml:"cert_file"`
	KeyFile  config.Path `yaml:"key_file"`
	// TokensFile holds the hashed API tokens (default <data_dir>/api-tokens.json).
	TokensFile config.Path `yaml:"tokens_file"`
	// MaxBody caps a request body (default 1MiB); LogtestMaxBody caps the body
	// of POST /api/v1/logtest (default 4MiB).
	MaxBody        config.ByteSize `yaml:"max_body"`
	LogtestMaxBody config.ByteSize `yaml:"logtest_max_body"`
	// LogtestMaxEvents caps the events of one logtest request (default 100).
	LogtestMaxEvents int `yaml:"logtest_max_events"`
	// LogtestRate is how many logtest events per second each token may run on
	// average, LogtestBurst how many at once (defaults 10 and 100).
	LogtestRate  float64 `yaml:"logtest_rate"`
	LogtestBurst int     `yaml:"logtest_burst"`
	// MaxHeaderBytes caps the request line and headers (default 64KiB).
	MaxHeaderBytes config.ByteSize `yaml:"max_header_bytes"`
	// The http.Server timeouts (defaults 10s, 30s, 60s, 120s).
	ReadHeaderTimeout config.Duration `yaml:"read_header_timeout"`
	ReadTimeout       config.Duration `yaml:"read_timeout"`
	WriteTimeout      config.Duration `yaml:"write_timeout"`
	IdleTimeout       config.Duration `yaml:"idle_timeout"`
	// RequestTimeout bounds the work of one request: store queries and logtest
	// runs are cancelled past it (default 30s; below write_timeout).
	RequestTimeout config.Duration `yaml:"request_timeout"`
	// ShutdownTimeout is how long requests in progress get to finish when the
	// service stops (default 10s).
	ShutdownTimeout config.Duration `yaml:"shutdown_timeout"`
	// CORSOrigins are the browser origins allowed to call the API, such as
	// https://soc.example.com (default none: CORS off).
	CORSOrigins []string `yaml:"cors_origins"`
}

// DefaultConfig returns the defaults, to be overlaid with the configured values.
func DefaultConfig() Config {
	return Config{
		MaxBody:           1 << 20,
		LogtestMaxBody:    4 << 20,
		LogtestMaxEvents:  100,
		LogtestRate:       10,
		LogtestBurst:      100,
		MaxHeaderBytes:    64 << 10,
		ReadHeaderTimeout: config.Duration(10 * time.Second),
		ReadTimeout:       config.Duration(30 * time.Second),
		WriteTimeout:      config.Duration(60 * time.Second),
		IdleTimeout:       config.Duration(120 * time.Second),
		RequestTimeout:    config.Duration(30 * time.Second),
		ShutdownTimeout:   config.Duration(10 * time.Second),
	}
}

// TokensPath is the tokens file: tokens_file, or api-tokens.json in dataDir.
func (c *Config) TokensPath(dataDir string) string {
	if c.TokensFile != "" {
		return string(c.TokensFile)
	}
	return filepath.Join(dataDir, DefaultTokensFile)
}

// TLS reports whether cert_file and key_file are set.
func (c *Config) TLS() bool { return c.CertFile != "" && c.KeyFile != "" }

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Listen == "" {
		bad("listen", "required")
	} else if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "want host:port: %v", err)
	} else if port == "" {
		bad("listen", "want host:port: missing port")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		field := "key_file"
		if c.CertFile == "" {
			field = "cert_file"
		}
		bad(field, "cert_file and key_file go together: set both for TLS, or neither")
	}
	for _, s := range []struct {
		field string
		v     config.ByteSize
	}{{"max_body", c.MaxBody}, {"logtest_max_body", c.LogtestMaxBody}, {"max_header_bytes", c.MaxHeaderBytes}} {
		if s.v <= 0 {
			bad(s.field, "must be positive, got %d", s.v)
		}
	}
	if c.LogtestMaxEvents <= 0 {
		bad("logtest_max_events", "must be positive, got %d", c.LogtestMaxEvents)
	}
	if c.LogtestRate <= 0 {
		bad("logtest_rate", "must be positive, got %g", c.LogtestRate)
	}
	if c.LogtestBurst < c.LogtestMaxEvents {
		bad("logtest_burst", "must be at least logtest_max_events (%d), got %d", c.LogtestMaxEvents, c.LogtestBurst)
	}
	for _, d := range []struct {
		field string
		v     config.Duration
	}{
		{"read_header_timeout", c.ReadHeaderTimeout}, {"read_timeout", c.ReadTimeout},
		{"write_timeout", c.WriteTimeout}, {"idle_timeout", c.IdleTimeout},
		{"request_timeout", c.RequestTimeout}, {"shutdown_timeout", c.ShutdownTimeout},
	} {
		if d.v <= 0 {
			bad(d.field, "must be positive, got %s", d.v)
		}
	}
	if c.RequestTimeout > 0 && c.WriteTimeout > 0 && c.RequestTimeout >= c.WriteTimeout {
		// Past write_timeout the connection is cut without a response: the
		// request must give up first so the client gets a 503.
		bad("request_timeout", "must be below write_timeout (%s), got %s", c.WriteTimeout, c.RequestTimeout)
	}
	for i, o := range c.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			bad(fmt.Sprintf("cors_origins[%d]", i), "%v", err)
		}
	}
	return errors.Join(errs...)
}

// checkOrigin accepts a browser origin: scheme://host[:port] and nothing more.
func checkOrigin(o string) error {
	if o == "*" {
		return errors.New(`"*" is not allowed: list the origins`)
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin: want scheme://host[:port], such as https://soc.example.com", o)
	}
	return nil
}
