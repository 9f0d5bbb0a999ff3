package syslog

import (
	"errors"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

func decodeOutput(t *testing.T, text string) (Config, error) {
	t.Helper()
	cfg, err := config.Parse("skywatch.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	return c, cfg.Outputs[0].Decode(&c)
}

func TestReadmeExample(t *testing.T) {
	cfg := configtest.ExampleFromREADME(t, "README.md")
	if len(cfg.Outputs) != 1 || cfg.Outputs[0].Type != "syslog" {
		t.Fatalf("outputs = %+v", cfg.Outputs)
	}
	c := DefaultConfig()
	if err := cfg.Outputs[0].Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Address != "siem.example.com:6514" || c.Network != TLS || c.Format != FormatCEF || c.MaxMessageSize != 64<<10 ||
		c.CAFile != "/etc/skywatch/siem-ca.pem" || c.ServerName != "siem.example.com" || c.MinLevel != 7 {
		t.Errorf("README example decoded to %+v", c)
	}
	// It starts once its files exist.
	p := newTestPKI(t)
	c.CAFile, c.CertFile, c.KeyFile = config.Path(p.caFile), config.Path(p.certFile), config.Path(p.keyFile)
	s, err := New(c, Options{})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	if s.framing != FramingOctetCounting || s.addr != "siem.example.com:6514" || s.tlsConf.MinVersion != 0x0303 {
		t.Errorf("sink %+v", s)
	}
}

func TestConfigDecode(t *testing.T) {
	const head = "outputs:\n  - type: syslog\n"
	tests := []struct {
		name  string
		body  string
		want  string
		check func(*testing.T, Config)
	}{
		{name: "defaults", body: "    address: 127.0.0.1\n", check: func(t *testing.T, c Config) {
			s, err := New(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Network != TCP || c.Format != FormatRFC5424 || s.addr != "127.0.0.1:514" || s.fmt.maxSize != 64<<10 || s.framing != FramingOctetCounting {
				t.Errorf("config %+v sink %+v", c, s)
			}
		}},
		{name: "udp defaults", body: "    address: '[::1]'\n    network: udp\n    format: json\n", check: func(t *testing.T, c Config) {
			s, err := New(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.addr != "[::1]:514" || s.fmt.maxSize != 2048 {
				t.Errorf("sink %+v", s)
			}
		}},
		{name: "tls port", body: "    address: logs.example.com\n    network: tls\n    format: json\n", check: func(t *testing.T, c Config) {
			s, err := New(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.addr != "logs.example.com:6514" || s.framing != FramingLF || s.tlsConf.ServerName != "logs.example.com" {
				t.Errorf("sink %+v", s)
			}
		}},
		{name: "missing address", body: "    network: udp\n", want: "skywatch.yaml:2: outputs[0] (syslog): address: required"},
		{name: "bare ipv6", body: "    address: 2001:db8::1\n", want: `skywatch.yaml:3: outputs[0] (syslog): address: "2001:db8::1": write an IPv6 address in brackets, e.g. [2001:db8::1]:6514`},
		{name: "bad port", body: "    address: host:99999\n", want: `skywatch.yaml:3: outputs[0] (syslog): address: invalid port "99999"`},
		{name: "network", body: "    address: h:1\n    network: sctp\n", want: `skywatch.yaml:4: outputs[0] (syslog): network: must be udp, tcp or tls, got "sctp"`},
		{name: "udp framing", body: "    address: h:1\n    network: udp\n    framing: lf\n", want: "skywatch.yaml:5: outputs[0] (syslog): framing: applies to tcp and tls only: udp sends one message per datagram"},
		{name: "facility", body: "    address: h:1\n    facility: local9\n", want: `skywatch.yaml:4: outputs[0] (syslog): facility: unknown facility "local9": want one of kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0 … local7`},
		{name: "app name too long", body: "    address: h:1\n    app_name: abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij\n", want: "skywatch.yaml:4: outputs[0] (syslog): app_name: at most 48 characters (RFC 5424), got 50"},
		{name: "hostname with space", body: "    address: h:1\n    hostname: my host\n", want: "skywatch.yaml:4: outputs[0] (syslog): hostname: only printable ASCII without spaces (RFC 5424)"},
		{name: "sd id", body: "    address: h:1\n    sd_id: skywatch\n", want: "skywatch.yaml:4: outputs[0] (syslog): sd_id: must be name@private-enterprise-number, e.g. skywatch@32473"},
		{name: "udp size", body: "    address: h:1\n    network: udp\n    max_message_size: 1MiB\n", want: "skywatch.yaml:5: outputs[0] (syslog): max_message_size: must be at most 65507 for udp, got 1048576"},
		{name: "small size", body: "    address: h:1\n    max_message_size: 100\n", want: "skywatch.yaml:4: outputs[0] (syslog): max_message_size: must be at least 480 bytes (the least every receiver accepts), got 100"},
		{name: "tls keys without tls", body: "    address: h:1\n    ca_file: ca.pem\n", want: "skywatch.yaml:4: outputs[0] (syslog): ca_file: applies to network tls only"},
		{name: "cert without key", body: "    address: h:1\n    network: tls\n    cert_file: c.pem\n", want: "skywatch.yaml:5: outputs[0] (syslog): cert_file: cert_file and key_file go together"},
		{name: "unknown key", body: "    address: h:1\n    fromat: cef\n", want: `skywatch.yaml:4: outputs[0] (syslog): unknown key "fromat" (did you mean "format"?)`},
		{name: "levels", body: "    address: h:1\n    min_level: 9\n    max_level: 4\n", want: "skywatch.yaml:5: outputs[0] (syslog): max_level: must not be below min_level (9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := decodeOutput(t, head+tt.body)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			var ce *config.Error
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("error is not a *config.Error: %#v", err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
