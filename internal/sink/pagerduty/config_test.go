package pagerduty_test

import (
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
	"github.com/skywatch-dev/skywatch/internal/sink/pagerduty"
)

func TestReadmeExample(t *testing.T) {
	t.Setenv("PAGERDUTY_ROUTING_KEY", routingKey)
	cfg := configtest.ExampleFromREADME(t, "README.md")
	pc := pagerduty.DefaultConfig()
	if err := cfg.Outputs[0].Decode(&pc); err != nil {
		t.Fatal(err)
	}
	if pc.RoutingKey.Reveal() != routingKey || pc.Endpoint != pagerduty.DefaultEndpoint || pc.MinLevel != 10 ||
		pc.MaxRetryAfter.Std() != time.Minute || pc.Suppress.Window.Std() != 30*time.Minute || len(pc.Suppress.Key) != 2 {
		t.Errorf("README example decoded to %+v", pc)
	}
	s, err := pagerduty.New(pc, pagerduty.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"    endpoint: \"\"\n", "skywatch.yaml:2: outputs[0] (pagerduty): routing_key: required\n" +
			"skywatch.yaml:3: outputs[0] (pagerduty): endpoint: required"},
		{"    routing_key: \"R0UT1NGKEY abc\"\n", "skywatch.yaml:3: outputs[0] (pagerduty): routing_key: must be an integration key (no spaces)"},
		{"    routing_key: x\n    dashboard_url: /alerts\n", "skywatch.yaml:4: outputs[0] (pagerduty): dashboard_url: must be an absolute http:// or https:// URL"},
	} {
		cfg, err := config.Parse("skywatch.yaml", []byte("outputs:\n  - type: pagerduty\n"+tc.body))
		if err != nil {
			t.Fatal(err)
		}
		pc := pagerduty.DefaultConfig()
		err = cfg.Outputs[0].Decode(&pc)
		if err == nil || err.Error() != tc.want {
			t.Errorf("error = %v\nwant    %s", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "R0UT1NGKEY") {
			t.Errorf("error repeats the key: %v", err)
		}
	}
}
