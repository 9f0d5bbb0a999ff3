package email

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// TLS modes.
const (
	// TLSStartTLS upgrades a plain connection with STARTTLS and refuses to go
	// on when the server does not offer it.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit = "implicit"
	// TLSNone sends in clear text: only to a loopback relay, or with insecure.
	TLSNone = "none"
)

// Authentication mechanisms.
const (
	AuthAuto  = "auto"
	AuthPlain = "plain"
	AuthLogin = "login"
)

// Config is the email output's section of the configuration file.
type Config struct {
	// Host is the SMTP server (required).
	Host string `yaml:"host"`
	// Port defaults to 587 for starttls, 465 for implicit and 25 for none.
	Port int `yaml:"port"`
	// TLS is starttls (default), implicit or none.
	TLS string `yaml:"tls"`
	// Insecure allows tls: none to a host other than a loopback address.
	Insecure bool `yaml:"insecure"`
	// CAFile is a PEM bundle of authorities to trust instead of the system's;
	// ServerName the name to verify (default: host).
	CAFile     config.Path `yaml:"ca_file"`
	ServerName string      `yaml:"server_name"`
	// Username and Password turn on SMTP authentication; Auth picks the
	// mechanism: auto (PLAIN when offered, else LOGIN), plain or login.
	Username string        `yaml:"username"`
	Password config.Secret `yaml:"password"`
	Auth     string        `yaml:"auth"`
	// HeloName is the name sent with EHLO (default: the machine's host name).
	HeloName string `yaml:"helo_name"`
	// From is the sender, e.g. "skywatch <alerts@example.com>" (required).
	From string `yaml:"from"`
	// To are the recipients (at least one).
	To []string `yaml:"to"`
	// SubjectPrefix starts every subject (default "[skywatch]").
	SubjectPrefix string `yaml:"subject_prefix"`
	// BatchWindow is how long an alert may wait for others to share its
	// message (default 1m); BatchMax how many alerts one message holds at most
	// (default 50). A message goes when either is reached.
	BatchWindow config.Duration `yaml:"batch_window"`
	BatchMax    int             `yaml:"batch_max"`
	// ImmediateLevel sends at once, with whatever else is waiting, when an
	// alert of this level or higher arrives; 0 turns it off (default).
	ImmediateLevel int `yaml:"immediate_level"`
	// MaxPending is how many alerts may wait in the spool; beyond it Write
	// fails, and the pipeline holds back (default 10000).
	MaxPending int `yaml:"max_pending"`
	// Timeout bounds one SMTP conversation, from connecting to QUIT (default 30s).
	Timeout config.Duration `yaml:"timeout"`
	// SpoolPath is the file alerts wait in until sent (default
	// <data_dir>/outbox/<output name>.jsonl).
	SpoolPath config.Path `yaml:"spool_path"`
	// DeadLetterPath receives alerts the server refused for good (default
	// <data_dir>/dead-letter/<output name>.jsonl).
	DeadLetterPath config.Path `yaml:"dead_letter_path"`
	// Selection chooses the alerts written (default: all).
	sink.Selection `yaml:",inline"`
}

// DefaultConfig returns the defaults, to be overlaid with the configured values.
func DefaultConfig() Config {
	return Config{
		TLS:           TLSStartTLS,
		Auth:          AuthAuto,
		SubjectPrefix: "[skywatch]",
		BatchWindow:   config.Duration(time.Minute),
		BatchMax:      50,
		MaxPending:    10000,
		Timeout:       config.Duration(30 * time.Second),
	}
}

// maxBatch bounds batch_max: a digest is read by people.
const maxBatch = 1000

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Host == "" {
		bad("host", "required")
	} else if strings.ContainsAny(c.Host, " :/[]") && net.ParseIP(c.Host) == nil {
		bad("host", "must be a host name or IP address without port (set port separately), got %q", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port", "must be between 1 and 65535, got %d", c.Port)
	}
	switch c.TLS {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if !c.Insecure && c.Host != "" && !isLoopback(c.Host) {
			bad("tls", "none sends alerts (and any password) in clear text: allowed only to localhost or a loopback address, unless insecure: true")
		}
		if c.CAFile != "" {
			bad("ca_file", "applies only with tls: starttls or implicit")
		}
		if c.ServerName != "" {
			bad("server_name", "applies only with tls: starttls or implicit")
		}
	default:
		bad("tls", "must be starttls, implicit or none, got %q", c.TLS)
	}
	switch {
	case c.Username != "" && c.Password == "":
		bad("password", "required with username")
	case c.Username == "" && c.Password != "":
		bad("username", "required with password")
	}
	switch c.Auth {
	case AuthAuto, AuthPlain, AuthLogin:
	default:
		bad("auth", "must be auto, plain or login, got %q", c.Auth)
	}
	if strings.ContainsAny(c.HeloName, " \r\n\t") {
		bad("helo_name", "must be a host name")
	}
	if c.From == "" {
		bad("from", "required")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		bad("from", "not an e-mail address: %v", err)
	}
	if len(c.To) == 0 {
		bad("to", "at least one recipient required")
	}
	for i, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			bad(fmt.Sprintf("to[%d]", i), "not an e-mail address: %v", err)
		}
	}
	if strings.ContainsAny(c.SubjectPrefix, "\r\n") {
		bad("subject_prefix", "must be one line")
	}
	if c.BatchWindow <= 0 {
		bad("batch_window", "must be positive")
	}
	if c.BatchMax < 1 || c.BatchMax > maxBatch {
		bad("batch_max", "must be between 1 and %d, got %d", maxBatch, c.BatchMax)
	}
	if c.ImmediateLevel < 0 || c.ImmediateLevel > 16 {
		bad("immediate_level", "must be between 0 (off) and 16, got %d", c.ImmediateLevel)
	}
	if c.MaxPending < c.BatchMax {
		bad("max_pending", "must be at least batch_max (%d), got %d", c.BatchMax, c.MaxPending)
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	errs = append(errs, c.Selection.Validate())
	return errors.Join(errs...)
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// port returns the configured port or the TLS mode's usual one.
func (c *Config) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.TLS == TLSImplicit:
		return 465
	case c.TLS == TLSNone:
		return 25
	default:
		return 587
	}
}
