package syslog

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// Networks.
const (
	UDP = "udp"
	TCP = "tcp"
	TLS = "tls"
)

// Formats.
const (
	FormatRFC5424 = "rfc5424"
	FormatCEF     = "cef"
	FormatJSON    = "json"
)

// Framings of the stream transports (RFC 6587).
const (
	FramingOctetCounting = "octet-counting"
	FramingLF            = "lf"
)

// RFC 5424 MSG contents.
const (
	MessageJSON = "json"
	MessageText = "text"
)

// Config is the syslog output's section of the configuration file.
type Config struct {
	// Address is the receiver as host:port (required). Without a port, 514 is
	// used for udp and tcp and 6514 for tls.
	Address string `yaml:"address"`
	// Network is udp, tcp or tls (default tcp).
	Network string `yaml:"network"`
	// Format is rfc5424, cef or json (default rfc5424).
	Format string `yaml:"format"`
	// Framing is how tcp and tls separate messages: octet-counting (RFC 5425,
	// the default for rfc5424 and cef) or lf (one message per line, the default
	// for json).
	Framing string `yaml:"framing"`
	// Message is what the MSG part of an rfc5424 message holds: the alert's
	// JSON (json, the default) or one line of text (text).
	Message string `yaml:"message"`
	// Facility is the syslog facility name (default local0).
	Facility string `yaml:"facility"`
	// Hostname, AppName, ProcID and MsgID fill the RFC 5424 header. Defaults:
	// the machine's host name, "skywatch", the process id, and the rule id.
	Hostname string `yaml:"hostname"`
	AppName  string `yaml:"app_name"`
	ProcID   string `yaml:"procid"`
	MsgID    string `yaml:"msgid"`
	// SDID is the structured-data element name (default skywatch@32473, 32473
	// being the enterprise number RFC 5612 reserves for documentation).
	SDID string `yaml:"sd_id"`
	// MaxMessageSize truncates longer messages (framing not counted). Default
	// 2048 for udp and 65536 for tcp and tls.
	MaxMessageSize config.ByteSize `yaml:"max_message_size"`
	// Timeout bounds connecting (with the TLS handshake) and each write
	// (default 10s).
	Timeout config.Duration `yaml:"timeout"`
	// CAFile, CertFile, KeyFile and ServerName configure tls: the PEM bundle
	// of authorities to trust instead of the system's, a client certificate
	// and its key, and the name to verify (default: the address's host).
	CAFile     config.Path `yaml:"ca_file"`
	CertFile   config.Path `yaml:"cert_file"`
	KeyFile    config.Path `yaml:"key_file"`
	ServerName string      `yaml:"server_name"`
	// Selection chooses the alerts written (default: all).
	sink.Selection `yaml:",inline"`
}

// DefaultConfig returns the defaults, to be overlaid with the configured values.
// Defaults that depend on other settings (port, framing, message size) are
// filled in by New.
func DefaultConfig() Config {
	return Config{
		Network:  TCP,
		Format:   FormatRFC5424,
		Message:  MessageJSON,
		Facility: "local0",
		AppName:  "skywatch",
		SDID:     "skywatch@32473",
		Timeout:  config.Duration(10 * time.Second),
	}
}

// Header field limits of RFC 5424 §6.
const (
	maxHostname = 255
	maxAppName  = 48
	maxProcID   = 128
	maxMsgID    = 32
	maxSDName   = 32
	// maxUDPPayload is the largest IPv4 UDP payload.
	maxUDPPayload = 65507
)

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Address == "" {
		bad("address", "required")
	} else if host, _, err := splitAddress(c.Address); err != nil {
		bad("address", "%v", err)
	} else if host == "" {
		bad("address", "needs a host")
	}
	switch c.Network {
	case UDP, TCP, TLS:
	default:
		bad("network", "must be udp, tcp or tls, got %q", c.Network)
	}
	switch c.Format {
	case FormatRFC5424, FormatCEF, FormatJSON:
	default:
		bad("format", "must be rfc5424, cef or json, got %q", c.Format)
	}
	switch c.Framing {
	case "", FramingOctetCounting, FramingLF:
		if c.Framing != "" && c.Network == UDP {
			bad("framing", "applies to tcp and tls only: udp sends one message per datagram")
		}
	default:
		bad("framing", "must be octet-counting or lf, got %q", c.Framing)
	}
	switch c.Message {
	case MessageJSON, MessageText:
	default:
		bad("message", "must be json or text, got %q", c.Message)
	}
	if _, ok := facilities[c.Facility]; !ok {
		bad("facility", "unknown facility %q: want one of kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0 … local7", c.Facility)
	}
	for _, f := range []struct {
		field, v string
		max      int
	}{{"hostname", c.Hostname, maxHostname}, {"app_name", c.AppName, maxAppName}, {"procid", c.ProcID, maxProcID}, {"msgid", c.MsgID, maxMsgID}} {
		if msg := checkHeaderField(f.v, f.max); msg != "" {
			bad(f.field, "%s", msg)
		}
	}
	if msg := checkSDName(c.SDID); msg != "" {
		bad("sd_id", "%s", msg)
	}
	switch {
	case c.MaxMessageSize < 0:
		bad("max_message_size", "must not be negative")
	case c.MaxMessageSize > 0 && c.MaxMessageSize < 480:
		bad("max_message_size", "must be at least 480 bytes (the least every receiver accepts), got %d", c.MaxMessageSize)
	case c.Network == UDP && c.MaxMessageSize > maxUDPPayload:
		bad("max_message_size", "must be at most %d for udp, got %d", maxUDPPayload, c.MaxMessageSize)
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	if c.Network != TLS {
		for _, f := range []struct {
			field string
			set   bool
		}{{"ca_file", c.CAFile != ""}, {"cert_file", c.CertFile != ""}, {"key_file", c.KeyFile != ""}, {"server_name", c.ServerName != ""}} {
			if f.set {
				bad(f.field, "applies to network tls only")
			}
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		bad("cert_file", "cert_file and key_file go together")
	}
	errs = append(errs, c.Selection.Validate())
	return errors.Join(errs...)
}

// splitAddress returns host and port, the port empty when not given.
func splitAddress(addr string) (host, port string, err error) {
	if h, p, err := net.SplitHostPort(addr); err == nil {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("invalid port %q", p)
		}
		return h, p, nil
	}
	if strings.Contains(strings.Trim(addr, "[]"), ":") && !strings.HasPrefix(addr, "[") {
		return "", "", fmt.Errorf("%q: write an IPv6 address in brackets, e.g. [2001:db8::1]:6514", addr)
	}
	return strings.Trim(addr, "[]"), "", nil
}

// checkHeaderField returns why v cannot be an RFC 5424 header field ("" when
// it can, or when v is empty and so defaulted).
func checkHeaderField(v string, max int) string {
	if len(v) > max {
		return fmt.Sprintf("at most %d characters (RFC 5424), got %d", max, len(v))
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 33 || v[i] > 126 {
			return "only printable ASCII without spaces (RFC 5424)"
		}
	}
	if v == "-" {
		return `"-" means "no value" in syslog; leave the key out instead`
	}
	return ""
}

// checkSDName returns why v cannot be an SD-ID ("" when it can). Names that are
// not registered with IANA must have the form name@enterprise-number.
func checkSDName(v string) string {
	if v == "" {
		return "required"
	}
	if len(v) > maxSDName {
		return fmt.Sprintf("at most %d characters (RFC 5424), got %d", maxSDName, len(v))
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 33 || b > 126 || b == '=' || b == ']' || b == '"' {
			return `only printable ASCII without spaces, "=", "]" or '"' (RFC 5424)`
		}
	}
	name, pen, ok := strings.Cut(v, "@")
	if !ok || name == "" || strings.Contains(pen, "@") {
		return "must be name@private-enterprise-number, e.g. skywatch@32473"
	}
	if _, err := strconv.ParseUint(pen, 10, 32); err != nil {
		return "must be name@private-enterprise-number, e.g. skywatch@32473"
	}
	return ""
}

// facilities maps facility names to their RFC 5424 codes.
var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "audit": 13, "alert": 14, "clock": 15,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}
