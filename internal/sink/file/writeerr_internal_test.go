package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// TestWriteErrorKeepsData pulls the file out from under the sink, so the write
// system call fails, and checks that the buffered lines are written exactly once
// when the retry succeeds.
func TestWriteErrorKeepsData(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Path = config.Path(filepath.Join(dir, "alerts.json"))
	s, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	batch := []sink.Record{{ID: "a", JSON: []byte(`{"id":"a"}`)}, {ID: "b", JSON: []byte(`{"id":"b"}`)}}
	if err := s.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.f.Close(); err != nil { // the next write fails with "file already closed"
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err == nil || !strings.Contains(err.Error(), "write") {
		t.Fatalf("Flush with a broken file = %v, want a write error", err)
	}
	if len(s.buf) == 0 {
		t.Fatal("the failed write dropped the buffer")
	}
	s.f = nil // as after a failed reopen: the next call opens the file again
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("retried Flush: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(string(cfg.Path))
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"id\":\"a\"}\n{\"id\":\"b\"}\n"; string(data) != want {
		t.Errorf("file = %q, want %q", data, want)
	}
}

func TestArchiveNames(t *testing.T) {
	tests := []struct {
		path, name   string
		ok           bool
		day, seq     int
		base, suffix string
	}{
		{"/d/alerts.json", "alerts-2024-03-10.json", true, 20240310, 0, "alerts-2024-03-10.json", ""},
		{"/d/alerts.json", "alerts-2024-03-10-12.json.gz", true, 20240310, 12, "alerts-2024-03-10-12.json", ".gz"},
		{"/d/alerts.json", "alerts-2024-03-10.json.gz.tmp", true, 20240310, 0, "alerts-2024-03-10.json", ".gz.tmp"},
		{"/d/alerts", "alerts-2024-03-10-1.gz", true, 20240310, 1, "alerts-2024-03-10-1", ".gz"},
		{"/d/alerts.json", "alerts.json", false, 0, 0, "", ""},
		{"/d/alerts.json", "alerts-backup.json", false, 0, 0, "", ""},
		{"/d/alerts.json", "alerts-2024-13-10.json", false, 0, 0, "", ""},
		{"/d/alerts.json", "alerts-2024-03-10-.json", false, 0, 0, "", ""},
		{"/d/alerts.json", "alerts-2024-03-10.json.bak", false, 0, 0, "", ""},
		{"/d/alerts.json", "archives-2024-03-10.json", false, 0, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			day, seq, base, suffix, ok := newArchiveNames(tt.path).parse(tt.name)
			if ok != tt.ok || day != tt.day || seq != tt.seq || base != tt.base || suffix != tt.suffix {
				t.Errorf("parse = %d %d %q %q %v, want %d %d %q %q %v", day, seq, base, suffix, ok, tt.day, tt.seq, tt.base, tt.suffix, tt.ok)
			}
		})
	}
}
