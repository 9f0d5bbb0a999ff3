package localdir_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/localdir"
)

// TestReadmeExample keeps the README's configuration example valid: it must parse,
// decode strictly into the local source's Config, validate, mean what the README
// says it means, and start a source that reads files.
func TestReadmeExample(t *testing.T) {
	cfg := configtest.ExampleFromREADME(t, "README.md")
	if len(cfg.Sources) == 0 {
		t.Fatal("the README example has no source")
	}
	sc := cfg.Sources[0]
	if sc.Type != "local" {
		t.Fatalf("the README example's first source has type %q, want local", sc.Type)
	}
	lc := localdir.DefaultConfig()
	if err := sc.Decode(&lc); err != nil {
		t.Fatalf("the README example does not decode: %v", err)
	}
	if err := lc.Validate(); err != nil {
		t.Fatalf("the README example is not valid: %v", err)
	}
	if sc.Name != "cloudtrail-archive" || lc.Path != "./logs/cloudtrail" || lc.LogType != localdir.LogTypeAuto ||
		lc.AccountAlias != "prod" || !lc.Recursive || lc.Parallel != 4 || lc.BatchSize != 256 || lc.Location != "" {
		t.Errorf("README example decoded to name %q, %+v", sc.Name, lc)
	}

	// The decoded configuration starts a source that reads a folder.
	dir := t.TempDir()
	doc := `{"Records":[{"eventVersion":"1.08","eventName":"ListUsers","eventSource":"iam.amazonaws.com","recipientAccountId":"111122223333"}]}`
	if err := os.WriteFile(filepath.Join(dir, "ct.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	lc.Path = config.Path(dir)
	s, err := localdir.New(lc, localdir.Settings{Name: sc.Name})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	var locations []string
	emit := func(_ context.Context, b *source.Batch) error {
		for _, ev := range b.Events {
			locations = append(locations, ev.Location)
		}
		b.Ack(nil)
		return nil
	}
	if err := s.Run(context.Background(), emit); err != nil {
		t.Fatal(err)
	}
	if len(locations) != 1 || locations[0] != "Wazuh-AWS" {
		t.Errorf("read events with locations %q, want one CloudTrail event (Wazuh-AWS)", locations)
	}
}
