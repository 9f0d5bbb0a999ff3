package gcs

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source/daycursor"
)

func TestLoggingExportReadsEveryLogAndEncoding(t *testing.T) {
	f := newFakeGCS(t)
	f.put(hourFile(activity, "2024/05/01", 9, "S0"), entries(3, "plain"), "")
	f.put(hourFile(activity, "2024/05/01", 10, "S0"), entries(4, "encoded"), "gzip") // Content-Encoding: gzip
	f.put(hourFile("cloudaudit.googleapis.com/data_access/", "2024/05/01", 9, "S1"), entries(2, "da"), "")
	f.put("syslog/2024/05/01/09:00:00_09:59:59_S0.json.gz", gzipped(entries(5, "gz")), "") // gzip by name
	f.put("syslog/2024/04/30/23:00:00_23:59:59_S0.json", entries(7, "old"), "")            // before only_logs_after
	f.put("README.txt", []byte("not a log"), "")

	c := &collector{}
	s := newSource(t, testConfig(LoggingExport), openState(t, t.TempDir()), noon, nil)
	poll(t, s, c)
	if len(c.events) != 14 {
		t.Fatalf("%d events, want 14 from 4 objects: %v", len(c.events), c.keys())
	}
	for _, e := range c.events {
		var ev struct {
			Integration string          `json:"integration"`
			GCP         json.RawMessage `json:"gcp"`
		}
		if err := json.Unmarshal([]byte(e.log), &ev); err != nil || ev.Integration != "gcp" || e.location != "Wazuh-GCloud" ||
			!strings.HasPrefix(e.log, `{"integration": "gcp", "gcp": {"insertId":`) {
			t.Fatalf("event not wrapped as Wazuh's GCP module does: %s (%s, %v)", e.log, e.location, err)
		}
		if !strings.HasPrefix(e.unit, "gs://"+bucket+"/") {
			t.Fatalf("unit %q", e.unit)
		}
	}
	st := s.Stats()
	if st.Units != 4 || st.Events != 14 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}

	// path narrows to one log.
	cfg := testConfig(LoggingExport)
	cfg.Path = "/cloudaudit.googleapis.com/activity/"
	c2 := &collector{}
	poll(t, newSource(t, cfg, openState(t, t.TempDir()), noon, nil), c2)
	if len(c2.events) != 7 {
		t.Fatalf("path %s: %d events, want the 7 of the activity log", cfg.Path, len(c2.events))
	}
}

func TestLateObjectsAreReadExactlyOnce(t *testing.T) {
	f := newFakeGCS(t)
	f.put(hourFile(activity, "2024/05/01", 10, "S0"), entries(2, "b"), "")
	f.put(hourFile(activity, "2024/05/01", 11, "S0"), entries(2, "c"), "")
	st := openState(t, t.TempDir())
	c := &collector{}
	poll(t, newSource(t, testConfig(LoggingExport), st, noon, nil), c)
	if len(c.events) != 4 {
		t.Fatalf("first poll: %d events", len(c.events))
	}
	// Written late, with a name that sorts before the names already read (a
	// second shard of an earlier hour).
	f.put(hourFile(activity, "2024/05/01", 9, "S1"), entries(3, "late"), "")
	c2 := &collector{}
	poll(t, newSource(t, testConfig(LoggingExport), st, noon.Add(time.Hour), nil), c2)
	if len(c2.events) != 3 || c2.count("09:59:59_S1.json") != 3 {
		t.Fatalf("second poll read %v; want exactly the late object's 3 entries", c2.keys())
	}
	c3 := &collector{}
	poll(t, newSource(t, testConfig(LoggingExport), st, noon.Add(2*time.Hour), nil), c3)
	if len(c3.events) != 0 {
		t.Fatalf("third poll read %d events again", len(c3.events))
	}
}

func TestDaysCloseAfterTheRereadWindowAndStateStaysSmall(t *testing.T) {
	f := newFakeGCS(t)
	for d := 1; d <= 4; d++ {
		day := time.Date(2024, 5, d, 0, 0, 0, 0, time.UTC).Format("2006/01/02")
		for h := 0; h < 5; h++ {
			f.put(hourFile(activity, day, h, "S0"), entries(1, day), "")
		}
	}
	st := openState(t, t.TempDir())
	now := time.Date(2024, 5, 4, 3, 0, 0, 0, time.UTC) // May 3 is still inside the 6h window
	c := &collector{}
	s := newSource(t, testConfig(LoggingExport), st, now, nil)
	poll(t, s, c)
	if len(c.events) != 20 {
		t.Fatalf("%d events, want 20", len(c.events))
	}
	if keys, cursors := stateKeys(t, st); keys != 10 || cursors != 1 {
		t.Fatalf("state holds %d names and %d cursors; want the 10 objects of May 3-4 and one cursor", keys, cursors)
	}
	if b, _, _ := st.Get("gcs-test", daycursor.CursorPrefix+activity); string(b) != "2024-05-03" {
		t.Fatalf("cursor %q, want 2024-05-03", b)
	}
	if p := s.Progress(); p.Total != 4 || p.Done != 4 {
		t.Fatalf("progress %+v, want 4 of 4 days", p)
	}
	c2 := &collector{}
	poll(t, newSource(t, testConfig(LoggingExport), st, now.Add(4*time.Hour), nil), c2)
	if len(c2.events) != 0 {
		t.Fatalf("re-read %d events", len(c2.events))
	}
	if keys, _ := stateKeys(t, st); keys != 5 {
		t.Fatalf("%d names kept, want the 5 of May 4", keys)
	}
}

// A backfill over empty days lists only the days that hold objects.
func TestEmptyDaysAreSkipped(t *testing.T) {
	f := newFakeGCS(t)
	f.put(hourFile(activity, "2024/01/03", 1, "S0"), entries(1, "a"), "")
	f.put(hourFile(activity, "2024/05/01", 1, "S0"), entries(1, "b"), "")
	cfg := testConfig(LoggingExport)
	cfg.OnlyLogsAfter = "2024-01-01"
	c := &collector{}
	s := newSource(t, cfg, openState(t, t.TempDir()), noon, nil)
	poll(t, s, c)
	if len(c.events) != 2 {
		t.Fatalf("%d events, want 2", len(c.events))
	}
	// Roots (3 folder listings) + 2 day listings + 3 jumps, not ~120 day listings.
	if n := f.lists.Load(); n > 12 {
		t.Fatalf("%d listing calls for a backfill of 122 mostly empty days", n)
	}
	if p := s.Progress(); p.Total != 122 || p.Done != 122 {
		t.Fatalf("progress %+v", p)
	}
}

func TestUnacknowledgedObjectsAreReadAgain(t *testing.T) {
	f := newFakeGCS(t)
	f.put(hourFile(activity, "2024/05/01", 1, "S0"), entries(2, "ok"), "")
	f.put(hourFile(activity, "2024/05/01", 2, "S0"), entries(3, "lost"), "")
	st := openState(t, t.TempDir())
	c := &collector{ackErr: func(unit string) error {
		if strings.Contains(unit, "/02:00:00") {
			return errors.New("output down")
		}
		return nil
	}}
	poll(t, newSource(t, testConfig(LoggingExport), st, noon, nil), c)
	c2 := &collector{}
	poll(t, newSource(t, testConfig(LoggingExport), st, noon, nil), c2)
	if len(c2.events) != 3 || c2.count("02:59:59_S0.json") != 3 {
		t.Fatalf("second poll read %v; want only the unacknowledged object", c2.keys())
	}
}

func TestRemoveFromBucketAfterCommit(t *testing.T) {
	for _, key := range []string{"remove_from_bucket", "delete"} {
		t.Run(key, func(t *testing.T) {
			f := newFakeGCS(t)
			f.put(hourFile(activity, "2024/05/01", 1, "S0"), entries(2, "x"), "")
			f.put(hourFile(activity, "2024/05/01", 2, "S0"), entries(2, "y"), "")
			cfg := testConfig(LoggingExport)
			cfg.RemoveFromBucket, cfg.Delete = key == "remove_from_bucket", key == "delete"
			c := &collector{ackErr: func(unit string) error {
				if strings.Contains(unit, "/02:00:00") {
					return errors.New("output down")
				}
				return nil
			}}
			poll(t, newSource(t, cfg, openState(t, t.TempDir()), noon, nil), c)
			if got := f.names(); len(got) != 1 || !strings.Contains(got[0], "/02:00:00") {
				t.Fatalf("objects left %v; want only the one whose alerts were not durable", got)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	c.LogType = "usage"
	c.OnlyLogsAfter = "2024-AUG-01"
	c.Workers = 0
	c.MaxAttempts = 0
	c.Interval = 0
	err := c.Validate()
	for _, want := range []string{"bucket", "log_type", "only_logs_after", "workers", "max_attempts", "interval"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error about %s", err, want)
		}
	}
	ok := testConfig(AccessLogs)
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}
