package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/file"
)

func TestLinesAppearOnce(t *testing.T) {
	tests := []struct {
		name    string
		batches [][]sink.Record
	}{
		{"one batch", [][]sink.Record{recs("a", 10, 200)}},
		{"several batches", [][]sink.Record{recs("a", 3, 100), recs("b", 1, 100), nil, recs("c", 5, 1024)}},
		{"more than the buffer", [][]sink.Record{recs("a", 700, 1024)}},
		{"one alert larger than the buffer", [][]sink.Record{recs("a", 2, 100), {rec("huge", 3, 600<<10)}, recs("b", 2, 100)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := newSink(t, testConfig(dir), nil)
			var want []string
			for _, b := range tt.batches {
				write(t, s, b)
				want = append(want, idsOf(b)...)
			}
			flush(t, s)
			if got := lineIDs(t, readLines(t, filepath.Join(dir, "alerts.json"))); !equal(got, want) {
				t.Errorf("after Flush: %d lines, want %d (%v...)", len(got), len(want), got[:min(3, len(got))])
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := lineIDs(t, readLines(t, filepath.Join(dir, "alerts.json"))); !equal(got, want) {
				t.Errorf("after Close: %d lines, want %d", len(got), len(want))
			}
		})
	}
}

func TestCloseFlushes(t *testing.T) {
	dir := t.TempDir()
	s := newSink(t, testConfig(dir), nil)
	write(t, s, recs("a", 3, 100))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, filepath.Join(dir, "alerts.json")); len(got) != 3 {
		t.Errorf("%d lines after Close without Flush, want 3", len(got))
	}
}

func TestReopenAppends(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.json")
	if err := os.WriteFile(path, []byte(`{"id":"old"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &clock{day(2024, 3, 10, 12, 0)} // earlier than the file's mtime: no rotation
	for _, prefix := range []string{"first", "second"} {
		s := newSink(t, testConfig(dir), c)
		write(t, s, recs(prefix, 2, 100))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"old", "first-000", "first-001", "second-000", "second-001"}
	if got := lineIDs(t, readLines(t, path)); !equal(got, want) {
		t.Errorf("lines %v, want %v", got, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("existing file's mode changed to %v", st.Mode().Perm())
	}
}

func TestNewFileMode(t *testing.T) {
	for _, mode := range []file.FileMode{0o640, 0o600} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "alerts")
			cfg := testConfig(dir)
			cfg.Mode = mode
			s := newSink(t, cfg, nil)
			defer s.Close()
			st, err := os.Stat(filepath.Join(dir, "alerts.json"))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != os.FileMode(mode) {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), os.FileMode(mode))
			}
		})
	}
}

func TestFilterApplied(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.MinLevel = 5
	cfg.ExcludeGroups = []string{"noise"}
	s := newSink(t, cfg, nil)
	write(t, s, []sink.Record{
		rec("low", 3, 80, "aws"),
		rec("high", 7, 80, "aws"),
		rec("noisy", 12, 80, "aws", "noise"),
		rec("exact", 5, 80),
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"high", "exact"}
	if got := lineIDs(t, readLines(t, filepath.Join(dir, "alerts.json"))); !equal(got, want) {
		t.Errorf("lines %v, want %v", got, want)
	}
}

func TestWriteRejects(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		records []sink.Record
		want    error
	}{
		{"newline in JSON", context.Background(), []sink.Record{rec("ok", 3, 50), {ID: "bad", JSON: []byte("{\n}")}}, file.ErrBadRecord},
		{"empty JSON", context.Background(), []sink.Record{{ID: "empty"}}, file.ErrBadRecord},
		{"canceled context", canceled, recs("a", 1, 50), context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := newSink(t, testConfig(dir), nil)
			if err := s.Write(tt.ctx, tt.records); !errors.Is(err, tt.want) {
				t.Errorf("Write = %v, want %v", err, tt.want)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := readLines(t, filepath.Join(dir, "alerts.json")); len(got) != 0 {
				t.Errorf("rejected batch left %d lines", len(got))
			}
		})
	}
}

func TestClosed(t *testing.T) {
	s := newSink(t, testConfig(t.TempDir()), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), recs("a", 1, 50)); !errors.Is(err, file.ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := s.Flush(context.Background()); !errors.Is(err, file.ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "alerts.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  file.Config
		want string
	}{
		{"invalid config", file.DefaultConfig(), "path: required"},
		{"path is a directory", testConfig(dir), "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := file.New(tt.cfg, file.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestTornLastLineIsCutOnOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.json")
	if err := os.WriteFile(path, []byte("{\"a\":1}\n{\"b\":2}\n{\"c\":"), 0o640); err != nil {
		t.Fatal(err)
	}
	cfg := file.DefaultConfig()
	cfg.Path = config.Path(path)
	s, err := file.New(cfg, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), []sink.Record{{JSON: []byte(`{"d":4}`), ID: "d", Level: 3}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "{\"a\":1}\n{\"b\":2}\n{\"d\":4}\n" {
		t.Fatalf("file is %q, want the torn line gone and the new alert on its own line", got)
	}
}
