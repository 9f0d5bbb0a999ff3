package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// The complete example in docs/configuration.md parses, validates, names only
// known types, and its api section decodes.
func TestConfigurationDocExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "## Complete example")
	if i < 0 {
		t.Fatal("no complete example")
	}
	start := strings.Index(doc[i:], "```yaml\n") + i + len("```yaml\n")
	end := strings.Index(doc[start:], "```") + start
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/X")
	secret := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(secret, []byte("pw"), 0o600)
	text := strings.ReplaceAll(doc[start:end], "/etc/skywatch/secrets/opensearch", secret)
	text = strings.ReplaceAll(text, "/etc/skywatch/secrets/azure-client-secret", secret)
	cfg, err := config.Parse("configuration.md", []byte(text))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range cfg.Outputs {
		if _, ok := outputTypes[o.Type]; !ok {
			t.Errorf("example output type %q is unknown", o.Type)
		}
	}
	for _, s := range cfg.Sources {
		if _, ok := sourceTypes[s.Type]; !ok {
			t.Errorf("example source type %q is unknown", s.Type)
		}
	}
	if _, err := APIConfig(cfg); err != nil {
		t.Errorf("api section: %v", err)
	}
	if cfg.Service.MaxConcurrentPasses != 4 {
		t.Errorf("service section not read: %+v", cfg.Service)
	}
}
