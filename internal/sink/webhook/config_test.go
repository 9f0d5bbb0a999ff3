package webhook_test

import (
	"errors"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
	"github.com/skywatch-dev/skywatch/internal/sink/webhook"
)

func decode(t *testing.T, text string) (webhook.Config, error) {
	t.Helper()
	cfg, err := config.Parse("skywatch.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	wc := webhook.DefaultConfig()
	return wc, cfg.Outputs[0].Decode(&wc)
}

func TestReadmeExample(t *testing.T) {
	t.Setenv("SOAR_WEBHOOK_URL", "https://soar.example.com/hooks/"+pathToken)
	t.Setenv("SOAR_TOKEN", "sekret-api-token-777")
	t.Setenv("SOAR_HMAC_KEY", hmacKey)
	cfg := configtest.ExampleFromREADME(t, "README.md")
	wc := webhook.DefaultConfig()
	if err := cfg.Outputs[0].Decode(&wc); err != nil {
		t.Fatal(err)
	}
	if wc.URL.Reveal() != "https://soar.example.com/hooks/"+pathToken || wc.Headers["Authorization"].Reveal() != bearer ||
		wc.HMACKey.Reveal() != hmacKey || wc.Format != "single" || wc.BatchSize != 100 || wc.Timeout.Std() != 10*time.Second ||
		wc.MaxAttempts != 4 || wc.OnGiveUp != "fail" || wc.MinLevel != 7 || len(wc.ExcludeGroups) != 1 ||
		wc.Suppress.Window.Std() != 10*time.Minute || wc.Filter().MinLevel != 7 {
		t.Errorf("README example decoded to %+v", wc)
	}
	s, err := webhook.New(wc, webhook.Options{Name: cfg.Outputs[0].Name, DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigDecode(t *testing.T) {
	const head = "outputs:\n  - type: webhook\n    url: https://h.example/x\n"
	tests := []struct {
		name, body, want string
		check            func(webhook.Config) bool
	}{
		{name: "defaults", body: "", check: func(c webhook.Config) bool {
			return c.Format == "single" && c.MaxBuffered == 10000 && c.DeadLetter == "" && !c.Suppress.Enabled()
		}},
		{name: "dead letter path", body: "    dead_letter: ./dl/x.jsonl\n    on_give_up: dead_letter\n", check: func(c webhook.Config) bool {
			return c.DeadLetter == "./dl/x.jsonl" && c.OnGiveUp == "dead_letter"
		}},
		{name: "format", body: "    format: xml\n", want: `skywatch.yaml:4: outputs[0] (webhook): format: must be single, array or ndjson, got "xml"`},
		{name: "reserved header", body: "    headers:\n      content-type: text/plain\n", want: "skywatch.yaml:5: outputs[0] (webhook): headers.content-type: is set by the output itself"},
		{name: "bad header name", body: "    headers:\n      \"a b\": x\n", want: "skywatch.yaml:5: outputs[0] (webhook): headers.a b: is not a valid header name"},
		{name: "short key", body: "    hmac_key: abc\n", want: "skywatch.yaml:4: outputs[0] (webhook): hmac_key: must be at least 16 characters"},
		{name: "give up", body: "    on_give_up: drop\n", want: `skywatch.yaml:4: outputs[0] (webhook): on_give_up: must be "fail" or "dead_letter", got "drop"`},
		{name: "attempts", body: "    max_attempts: 0\n", want: "skywatch.yaml:4: outputs[0] (webhook): max_attempts: must be between 1 and 100, got 0"},
		{name: "levels", body: "    min_level: 9\n    max_level: 3\n", want: "skywatch.yaml:5: outputs[0] (webhook): max_level: must not be below min_level (9)"},
		{name: "suppress", body: "    suppress:\n      window: 5m\n      key: [nope]\n", want: `skywatch.yaml:6: outputs[0] (webhook): suppress.key[0]: unknown field "nope": want one of rule_id, level, principal, srcip, provider, account, region, location`},
		{name: "typo", body: "    timout: 5s\n", want: `skywatch.yaml:4: outputs[0] (webhook): unknown key "timout" (did you mean "timeout"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wc, err := decode(t, head+tt.body)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			if tt.check != nil && !tt.check(wc) {
				t.Errorf("decoded %+v", wc)
			}
			var ce *config.Error
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("error is not a *config.Error: %#v", err)
			}
		})
	}
	// The URL is required and never repeated in the message.
	_, err := decode(t, "outputs:\n  - type: webhook\n    url: \"http//"+pathToken+"\"\n")
	if err == nil || err.Error() != "skywatch.yaml:3: outputs[0] (webhook): url: must be an absolute http:// or https:// URL" {
		t.Errorf("error = %v", err)
	}
}
