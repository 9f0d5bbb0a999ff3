package file_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/file"
)

// clock is a settable time source for daily rotation.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func day(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.Local)
}

// rec builds an alert whose JSON is padded to about size bytes.
func rec(id string, level int, size int, groups ...string) sink.Record {
	j := fmt.Sprintf(`{"id":%q,"rule":{"level":%d},"pad":"`, id, level)
	pad := max(0, size-len(j)-2)
	return sink.Record{
		JSON:   []byte(j + strings.Repeat("x", pad) + `"}`),
		ID:     id,
		Level:  level,
		RuleID: "1000",
		Groups: groups,
	}
}

func recs(prefix string, n, size int) []sink.Record {
	out := make([]sink.Record, n)
	for i := range out {
		out[i] = rec(fmt.Sprintf("%s-%03d", prefix, i), 3, size)
	}
	return out
}

func idsOf(rs []sink.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func testConfig(dir string) file.Config {
	cfg := file.DefaultConfig()
	cfg.Path = config.Path(filepath.Join(dir, "alerts.json"))
	return cfg
}

func newSink(t testing.TB, cfg file.Config, c *clock) *file.Sink {
	t.Helper()
	opts := file.Options{}
	if c != nil {
		opts.Now = c.Now
	}
	s, err := file.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func write(t testing.TB, s *file.Sink, rs []sink.Record) {
	t.Helper()
	if err := s.Write(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

func flush(t testing.TB, s *file.Sink) {
	t.Helper()
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// readLines returns the lines of a file, decompressing .gz files.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("%s does not end with a newline", path)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<30)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// lineIDs extracts the "id" of each JSON line.
func lineIDs(t testing.TB, lines []string) []string {
	t.Helper()
	ids := make([]string, len(lines))
	for i, l := range lines {
		start := strings.Index(l, `"id":"`)
		if start < 0 {
			t.Fatalf("line without id: %.80s", l)
		}
		rest := l[start+6:]
		ids[i] = rest[:strings.IndexByte(rest, '"')]
	}
	return ids
}

// listDir returns the names in dir, sorted.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}
