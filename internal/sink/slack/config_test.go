package slack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
	"github.com/skywatch-dev/skywatch/internal/sink/slack"
)

func TestReadmeExample(t *testing.T) {
	url := "https://hooks.slack.com" + hookPath
	t.Setenv("SLACK_WEBHOOK_URL", url)
	cfg := configtest.ExampleFromREADME(t, "README.md")
	sc := slack.DefaultConfig()
	if err := cfg.Outputs[0].Decode(&sc); err != nil {
		t.Fatal(err)
	}
	if sc.WebhookURL.Reveal() != url || sc.DashboardURL != "https://skywatch.example.com" || sc.MinLevel != 10 ||
		sc.Timeout.Std() != 10*time.Second || sc.Suppress.Window.Std() != 10*time.Minute || sc.OnGiveUp != "fail" {
		t.Errorf("README example decoded to %+v", sc)
	}
	s, err := slack.New(sc, slack.Options{Name: cfg.Outputs[0].Name, DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"    dashboard_url: x\n", "skywatch.yaml:2: outputs[0] (slack): webhook_url: required\n" +
			"skywatch.yaml:3: outputs[0] (slack): dashboard_url: must be an absolute http:// or https:// URL"},
		{"    webhook_url: hooks.slack.com" + hookPath + "\n", "skywatch.yaml:3: outputs[0] (slack): webhook_url: must be an absolute http:// or https:// URL"},
		{"    webhook_url: https://h/x\n    mx_level: 3\n", `skywatch.yaml:4: outputs[0] (slack): unknown key "mx_level" (did you mean "max_level"?)`},
	} {
		cfg, err := config.Parse("skywatch.yaml", []byte("outputs:\n  - type: slack\n"+tc.body))
		if err != nil {
			t.Fatal(err)
		}
		sc := slack.DefaultConfig()
		err = cfg.Outputs[0].Decode(&sc)
		if err == nil || err.Error() != tc.want {
			t.Errorf("error = %v\nwant    %s", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error repeats the URL: %v", err)
		}
	}
}
