package suppress_test

import (
	"errors"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
)

// host stands for an output that embeds the section; the other keys are the
// output's business.
type host struct {
	Suppress suppress.Config `yaml:"suppress"`
	Rest     map[string]any  `yaml:",inline"`
}

func (h *host) Validate() error { return h.Suppress.Validate() }

func decode(t *testing.T, text string) (suppress.Config, error) {
	t.Helper()
	cfg, err := config.Parse("skywatch.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	h := host{Suppress: suppress.DefaultConfig()}
	err = cfg.Outputs[0].Decode(&h)
	return h.Suppress, err
}

func TestReadmeExample(t *testing.T) {
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXX")
	cfg := configtest.ExampleFromREADME(t, "README.md")
	h := host{Suppress: suppress.DefaultConfig()}
	if err := cfg.Outputs[0].Decode(&h); err != nil {
		t.Fatal(err)
	}
	c := h.Suppress
	if !c.Enabled() || c.Window.Std() != 10*time.Minute || len(c.Key) != 3 || c.MaxKeys != 10000 {
		t.Errorf("README example decoded to %+v", c)
	}
	if _, err := suppress.New(&recorder{}, c, suppress.Options{}); err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
}

func TestConfigDecode(t *testing.T) {
	const head = "outputs:\n  - type: slack\n    suppress:\n"
	tests := []struct {
		name, body, want string
		check            func(suppress.Config) bool
	}{
		{name: "absent is off", body: "      {}\n", check: func(c suppress.Config) bool { return !c.Enabled() && len(c.Key) == 3 }},
		{name: "key replaced", body: "      window: 1h\n      key: [account, region]\n", check: func(c suppress.Config) bool {
			return c.Enabled() && len(c.Key) == 2 && c.Key[0] == "account"
		}},
		{name: "unknown field", body: "      window: 1m\n      key: [rule_id, user]\n",
			want: `skywatch.yaml:5: outputs[0] (slack): suppress.key[1]: unknown field "user": want one of rule_id, level, principal, srcip, provider, account, region, location`},
		{name: "twice", body: "      window: 1m\n      key: [srcip, srcip]\n",
			want: `skywatch.yaml:5: outputs[0] (slack): suppress.key[1]: "srcip" is listed twice`},
		{name: "negative window", body: "      window: -1m\n", want: "skywatch.yaml:4: outputs[0] (slack): suppress.window: must not be negative"},
		{name: "max keys", body: "      window: 1m\n      max_keys: 0\n", want: "skywatch.yaml:5: outputs[0] (slack): suppress.max_keys: must be at least 1, got 0"},
		{name: "bad duration", body: "      window: 10\n", want: `skywatch.yaml:4: outputs[0] (slack): invalid duration "10": want a number with a unit such as 90s, 10m or 1h30m`},
		{name: "typo", body: "      windw: 1m\n", want: `skywatch.yaml:4: outputs[0] (slack): suppress: unknown key "windw" (did you mean "window"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := decode(t, head+tt.body)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			if tt.check != nil && !tt.check(c) {
				t.Errorf("decoded %+v", c)
			}
			var ce *config.Error
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("error is not a *config.Error: %#v", err)
			}
		})
	}
}
