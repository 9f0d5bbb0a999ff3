package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
)

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "token")
	if err := os.WriteFile(secret, []byte("tok3n\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	multi := filepath.Join(dir, "pem")
	if err := os.WriteFile(multi, []byte("line1\nline2\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SW_HOST", "h1")
	t.Setenv("SW_EMPTY", "")
	t.Setenv("SW_NUM", "4")
	t.Setenv("SW_NULL", "null")
	t.Setenv("SW_UNSET", "")
	os.Unsetenv("SW_UNSET")

	// Each value is put in a source's bucket (a string) unless noted.
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"variable", "${SW_HOST}", "h1"},
		{"variable inside text", "pre-${SW_HOST}-post", "pre-h1-post"},
		{"two variables", "${SW_HOST}${SW_HOST}", "h1h1"},
		{"default when unset", "${SW_UNSET:-fallback}", "fallback"},
		{"default when empty", "${SW_EMPTY:-fallback}", "fallback"},
		{"empty default", "x${SW_UNSET:-}y", "xy"},
		{"default not used when set", "${SW_HOST:-fallback}", "h1"},
		{"empty variable without default", "x${SW_EMPTY}y", "xy"},
		{"dollar escape", "a$$b", "a$b"},
		{"escaped reference", "$${SW_HOST}", "${SW_HOST}"},
		{"lone dollar kept", "pa$s", "pa$s"},
		{"trailing dollar kept", "cost$", "cost$"},
		{"file secret, trailing newlines trimmed", "${file:" + secret + "}", "tok3n"},
		{"file secret keeps inner newlines", "${file:" + multi + "}", "line1\nline2"},
		{"quoted value", `"${SW_HOST}"`, "h1"},
		{"number stays usable as a string", "${SW_NUM}", "4"},
		{"null text stays a string", "${SW_NULL}", "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "sources:\n  - name: s\n    type: t\n    bucket: " + tt.value + "\n"
			cfg, err := config.Parse("c.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			c := defaultTestComponent()
			if err := cfg.Sources[0].Decode(&c); err != nil {
				t.Fatal(err)
			}
			if c.Bucket != tt.want {
				t.Errorf("bucket = %q, want %q", c.Bucket, tt.want)
			}
		})
	}

	t.Run("number for an int field", func(t *testing.T) {
		cfg, err := config.Parse("c.yaml", []byte("engine:\n  workers: ${SW_NUM}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Engine.Workers != 4 {
			t.Errorf("workers = %d, want 4", cfg.Engine.Workers)
		}
	})
	t.Run("secret from a variable", func(t *testing.T) {
		cfg, err := config.Parse("c.yaml", []byte("sources:\n  - name: s\n    type: t\n    bucket: b\n    password: ${SW_NULL}\n"))
		if err != nil {
			t.Fatal(err)
		}
		c := defaultTestComponent()
		if err := cfg.Sources[0].Decode(&c); err != nil {
			t.Fatal(err)
		}
		if c.Password.Reveal() != "null" {
			t.Errorf("password = %q, want %q", c.Password.Reveal(), "null")
		}
	})
	t.Run("anchored value expanded once", func(t *testing.T) {
		text := "sources:\n  - name: s\n    type: t\n    bucket: &b $${SW_HOST}\n    region: *b\n"
		cfg, err := config.Parse("c.yaml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		c := defaultTestComponent()
		if err := cfg.Sources[0].Decode(&c); err != nil {
			t.Fatal(err)
		}
		if c.Bucket != "${SW_HOST}" || c.Region != "${SW_HOST}" {
			t.Errorf("bucket, region = %q, %q; want both %q", c.Bucket, c.Region, "${SW_HOST}")
		}
	})
	t.Run("keys are not expanded", func(t *testing.T) {
		_, err := config.Parse("c.yaml", []byte("${SW_HOST}: 1\n"))
		checkErrors(t, err, []string{`c.yaml:1: unknown key "${SW_HOST}"`})
	})
}

func TestSecretFileWorldReadableRefused(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(secret, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := config.Parse("c.yaml", []byte("manager_name: ${file:"+secret+"}\n"))
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("world-readable secret file: %v; want a refusal naming the fix, without the secret", err)
	}
	if err := os.Chmod(secret, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Parse("c.yaml", []byte("manager_name: ${file:"+secret+"}\n")); err != nil {
		t.Fatalf("group-readable secret file refused: %v", err)
	}
}
