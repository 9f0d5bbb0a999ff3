package email

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

func TestReadmeExample(t *testing.T) {
	t.Setenv("SMTP_PASSWORD", "from-the-environment")
	cfg := configtest.ExampleFromREADME(t, "README.md")
	if len(cfg.Outputs) != 1 || cfg.Outputs[0].Type != "email" {
		t.Fatalf("outputs = %+v", cfg.Outputs)
	}
	c := DefaultConfig()
	if err := cfg.Outputs[0].Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Host != "smtp.example.com" || c.port() != 587 || c.TLS != TLSStartTLS || c.Password.Reveal() != "from-the-environment" ||
		len(c.To) != 2 || c.BatchWindow.Std() != time.Minute || c.BatchMax != 50 || c.ImmediateLevel != 12 || c.MinLevel != 7 {
		t.Errorf("README example decoded to %+v", c)
	}
	dir := t.TempDir()
	s, err := New(c, Options{Name: cfg.Outputs[0].Name, DataDir: dir})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.deadLetterPath != filepath.Join(dir, "dead-letter", "soc-mail.jsonl") || s.spool.path != filepath.Join(dir, "outbox", "soc-mail.jsonl") {
		t.Errorf("paths %s %s", s.deadLetterPath, s.spool.path)
	}
}

func TestConfigDecode(t *testing.T) {
	const head = "outputs:\n  - type: email\n    from: a@example.com\n"
	tests := []struct {
		name  string
		body  string
		want  string
		check func(Config) bool
		ownTo bool // body sets to itself
	}{
		{name: "defaults", body: "    host: smtp.example.com\n", check: func(c Config) bool {
			return c.TLS == TLSStartTLS && c.port() == 587 && c.BatchMax == 50 && c.BatchWindow.Std() == time.Minute && c.Auth == AuthAuto
		}},
		{name: "implicit port", body: "    host: smtp.example.com\n    tls: implicit\n", check: func(c Config) bool { return c.port() == 465 }},
		{name: "clear text to localhost", body: "    host: localhost\n    tls: none\n", check: func(c Config) bool { return c.port() == 25 }},
		{name: "clear text to ::1", body: "    host: '::1'\n    tls: none\n", check: func(c Config) bool { return c.TLS == TLSNone }},
		{name: "clear text insecure", body: "    host: relay.internal\n    tls: none\n    insecure: true\n", check: func(c Config) bool { return c.Insecure }},
		{name: "clear text refused", body: "    host: smtp.example.com\n    tls: none\n", want: "skywatch.yaml:6: outputs[0] (email): tls: none sends alerts (and any password) in clear text: allowed only to localhost or a loopback address, unless insecure: true"},
		{name: "missing host", body: "    port: 25\n", want: "skywatch.yaml:2: outputs[0] (email): host: required"},
		{name: "host with port", body: "    host: smtp.example.com:587\n", want: `skywatch.yaml:5: outputs[0] (email): host: must be a host name or IP address without port (set port separately), got "smtp.example.com:587"`},
		{name: "bad tls", body: "    host: h\n    tls: ssl\n", want: `skywatch.yaml:6: outputs[0] (email): tls: must be starttls, implicit or none, got "ssl"`},
		{name: "password alone", body: "    host: h\n    password: x\n", want: "skywatch.yaml:2: outputs[0] (email): username: required with password"},
		{name: "username alone", body: "    host: h\n    username: x\n", want: "skywatch.yaml:2: outputs[0] (email): password: required with username"},
		{name: "bad recipient", body: "    host: h\n    to: [ok@example.com, \"not an address\"]\n", ownTo: true, want: "skywatch.yaml:5: outputs[0] (email): to[1]: not an e-mail address: mail: no angle-addr"},
		{name: "no recipient", body: "    host: h\n", ownTo: true, want: "skywatch.yaml:2: outputs[0] (email): to: at least one recipient required"},
		{name: "batch", body: "    host: h\n    batch_max: 0\n", want: "skywatch.yaml:6: outputs[0] (email): batch_max: must be between 1 and 1000, got 0"},
		{name: "pending below batch", body: "    host: h\n    max_pending: 10\n", want: "skywatch.yaml:6: outputs[0] (email): max_pending: must be at least batch_max (50), got 10"},
		{name: "immediate", body: "    host: h\n    immediate_level: 17\n", want: "skywatch.yaml:6: outputs[0] (email): immediate_level: must be between 0 (off) and 16, got 17"},
		{name: "auth", body: "    host: h\n    auth: cram-md5\n", want: `skywatch.yaml:6: outputs[0] (email): auth: must be auto, plain or login, got "cram-md5"`},
		{name: "window", body: "    host: h\n    batch_window: 0s\n", want: "skywatch.yaml:6: outputs[0] (email): batch_window: must be positive"},
		{name: "unknown key", body: "    host: h\n    passwd: x\n", want: `skywatch.yaml:6: outputs[0] (email): unknown key "passwd" (did you mean "password"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := head + "    to: [b@example.com]\n" + tt.body
			if tt.ownTo {
				text = head + tt.body
			}
			cfg, err := config.Parse("skywatch.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			c := DefaultConfig()
			err = cfg.Outputs[0].Decode(&c)
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
			if tt.check != nil && !tt.check(c) {
				t.Errorf("decoded %+v", c)
			}
		})
	}
}

func TestNewNeedsPaths(t *testing.T) {
	c := DefaultConfig()
	c.Host, c.From, c.To = "smtp.example.com", "a@example.com", []string{"b@example.com"}
	if _, err := New(c, Options{}); err == nil {
		t.Error("New without data_dir or paths succeeded")
	}
	if got := safeName("../evil/name"); got != ".._evil_name" {
		t.Errorf("safeName = %q", got)
	}
}
