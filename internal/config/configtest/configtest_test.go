package configtest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

func TestExampleFromREADME(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	readme := "# A component\n\n```sh\nnot: this\n```\n\n```yaml\nsources:\n  - name: s\n    type: local\n    path: ./logs\n```\n\n```yaml\nnot: this either\n```\n"
	if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := configtest.ExampleFromREADME(t, path)
	if len(cfg.Sources) != 1 || cfg.Sources[0].Name != "s" || cfg.Sources[0].Type != "local" {
		t.Errorf("got sources %+v, want the first yaml block's", cfg.Sources)
	}
}
