package gcs

import (
	"context"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config/configtest"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// TestReadmeExample keeps the README's configuration example valid: it must
// parse, decode strictly into Config, validate, mean what the README says, and
// start a source that reads the bucket.
func TestReadmeExample(t *testing.T) {
	sc := configtest.ExampleFromREADME(t, "README.md").Sources[0]
	if sc.Type != "gcs" {
		t.Fatalf("the README example's first source has type %q", sc.Type)
	}
	c := DefaultConfig()
	if err := sc.Decode(&c); err != nil {
		t.Fatalf("the README example does not decode: %v", err)
	}
	if sc.Name != "gcp-audit" || c.Bucket != "acme-audit-logs" || c.LogType != LoggingExport || c.Path != "cloudaudit.googleapis.com" ||
		c.OnlyLogsAfter != "2024-05-01" || c.RereadWindow.Std() != 6*time.Hour || c.Interval.Std() != 5*time.Minute ||
		c.remove() || c.GCP.CredentialsFile != "/etc/skywatch/gcp-reader.json" {
		t.Fatalf("README example decoded to %q %+v", sc.Name, c)
	}

	f := newFakeGCS(t)
	f.put(hourFile(activity, "2024/05/01", 1, "S0"), entries(2, "a"), "")
	c.Bucket = bucket
	c.GCP.CredentialsFile = "" // the emulator needs none
	s, err := New(context.Background(), c, Settings{Name: sc.Name, Now: func() time.Time { return noon }})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	col := &collector{}
	poll(t, s, col)
	if len(col.events) != 2 {
		t.Fatalf("read %d events, want 2", len(col.events))
	}
}

// The wiring finds the interval, counters, progress and bulk commits through
// these interfaces.
var (
	_ source.Scheduled        = (*Source)(nil)
	_ source.StatsReporter    = (*Source)(nil)
	_ source.ProgressReporter = (*Source)(nil)
	_ source.Committer        = (*Source)(nil)
)
