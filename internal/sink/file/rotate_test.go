package file_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// collect reads the live file and every rotated file (oldest first, by the
// naming scheme) and returns the ids in writing order, checking that each file
// stays within maxSize when it is set.
func collect(t *testing.T, dir string, files []string, maxSize int) []string {
	t.Helper()
	var ids []string
	for _, name := range files {
		lines := readLines(t, filepath.Join(dir, name))
		size := 0
		for _, l := range lines {
			size += len(l) + 1
		}
		if maxSize > 0 && size > maxSize && len(lines) > 1 {
			t.Errorf("%s holds %d bytes, more than max_size %d", name, size, maxSize)
		}
		ids = append(ids, lineIDs(t, lines)...)
	}
	return ids
}

func TestSizeRotation(t *testing.T) {
	const today = "2024-03-10"
	tests := []struct {
		name      string
		compress  bool
		maxFiles  int
		wantFiles []string // oldest first; alerts.json last
		wantIDs   int      // how many of the newest ids survive
	}{{
		name:     "compressed",
		compress: true,
		wantFiles: []string{
			"alerts-" + today + ".json.gz", "alerts-" + today + "-1.json.gz", "alerts-" + today + "-2.json.gz",
			"alerts-" + today + "-3.json.gz", "alerts.json",
		},
		wantIDs: 45,
	}, {
		name: "plain",
		wantFiles: []string{
			"alerts-" + today + ".json", "alerts-" + today + "-1.json", "alerts-" + today + "-2.json",
			"alerts-" + today + "-3.json", "alerts.json",
		},
		wantIDs: 45,
	}, {
		name:      "max_files keeps the newest",
		compress:  true,
		maxFiles:  2,
		wantFiles: []string{"alerts-" + today + "-2.json.gz", "alerts-" + today + "-3.json.gz", "alerts.json"},
		wantIDs:   25, // two rotated files of 10 and the 5 in the live file
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			cfg.MaxSize = 1000 // ten 100-byte lines per file
			cfg.Compress = tt.compress
			cfg.MaxFiles = tt.maxFiles
			s := newSink(t, cfg, &clock{day(2024, 3, 10, 12, 0)})
			all := recs("a", 45, 99) // 99 bytes + newline
			for i := 0; i < len(all); i += 7 {
				write(t, s, all[i:min(i+7, len(all))])
				flush(t, s)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			files := listDir(t, dir)
			ordered := append(slices.Clone(files[:len(files)-1]), "alerts.json")
			slices.SortFunc(ordered[:len(ordered)-1], func(a, b string) int { return rotatedOrder(a) - rotatedOrder(b) })
			if !equal(ordered, tt.wantFiles) {
				t.Fatalf("files %v, want %v", ordered, tt.wantFiles)
			}
			want := idsOf(all)[len(all)-tt.wantIDs:]
			if got := collect(t, dir, ordered, int(cfg.MaxSize)); !equal(got, want) {
				t.Errorf("ids across files:\n%v\nwant each of the newest %d exactly once, in order", got, tt.wantIDs)
			}
		})
	}
}

// rotatedOrder returns the sequence number of a rotated file of one day.
func rotatedOrder(name string) int {
	rest := strings.TrimPrefix(name, "alerts-2024-03-10")
	rest = strings.TrimSuffix(strings.TrimSuffix(rest, ".gz"), ".json")
	if rest == "" {
		return 0
	}
	n := 0
	for _, c := range rest[1:] {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestDailyRotation(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Compress = false
	c := &clock{day(2024, 3, 10, 23, 59)}
	s := newSink(t, cfg, c)

	write(t, s, recs("d10", 2, 80))
	c.t = day(2024, 3, 11, 0, 1)
	write(t, s, recs("d11", 1, 80))
	c.t = day(2024, 3, 10, 22, 0) // the clock stepping back does not rotate
	write(t, s, recs("d11-late", 1, 80))
	flush(t, s)
	c.t = day(2024, 3, 12, 0, 0) // a quiet day: Flush alone rotates
	flush(t, s)
	c.t = day(2024, 3, 13, 9, 0) // nothing written on the 12th: no empty file
	write(t, s, recs("d13", 1, 80))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	want := map[string][]string{
		"alerts-2024-03-10.json": {"d10-000", "d10-001"},
		"alerts-2024-03-11.json": {"d11-000", "d11-late-000"},
		"alerts.json":            {"d13-000"},
	}
	files := listDir(t, dir)
	if len(files) != len(want) {
		t.Fatalf("files %v, want %d files", files, len(want))
	}
	for name, ids := range want {
		if got := lineIDs(t, readLines(t, filepath.Join(dir, name))); !equal(got, ids) {
			t.Errorf("%s: %v, want %v", name, got, ids)
		}
	}
}

func TestDailyRotationOff(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.RotateDaily = false
	c := &clock{day(2024, 3, 10, 23, 59)}
	s := newSink(t, cfg, c)
	write(t, s, recs("a", 1, 80))
	c.t = day(2024, 3, 11, 0, 1)
	write(t, s, recs("b", 1, 80))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if files := listDir(t, dir); !equal(files, []string{"alerts.json"}) {
		t.Errorf("files %v, want only alerts.json", files)
	}
}

func TestStartWithYesterdaysFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.json")
	if err := os.WriteFile(path, []byte(`{"id":"old"}`+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	written := day(2024, 3, 9, 18, 0)
	if err := os.Chtimes(path, written, written); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.Compress = false
	s := newSink(t, cfg, &clock{day(2024, 3, 10, 8, 0)})
	write(t, s, recs("new", 1, 80))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, ids := range map[string][]string{"alerts-2024-03-09.json": {"old"}, "alerts.json": {"new-000"}} {
		if got := lineIDs(t, readLines(t, filepath.Join(dir, name))); !equal(got, ids) {
			t.Errorf("%s: %v, want %v", name, got, ids)
		}
	}
}

func TestCompressionLeftoversRecovered(t *testing.T) {
	dir := t.TempDir()
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return b.Bytes()
	}
	setup := map[string][]byte{
		// Crash while writing the temporary file: it goes, the original is compressed.
		"alerts-2024-01-01.json":        []byte(`{"id":"one"}` + "\n"),
		"alerts-2024-01-01.json.gz.tmp": []byte("partial"),
		// Crash after the rename, before removing the original: the original goes.
		"alerts-2024-01-02.json":    []byte(`{"id":"two"}` + "\n"),
		"alerts-2024-01-02.json.gz": gz(`{"id":"two"}` + "\n"),
		// Finished earlier: untouched.
		"alerts-2024-01-03-1.json.gz": gz(`{"id":"three"}` + "\n"),
		// Not ours.
		"alerts-backup.json": []byte("keep\n"),
		"other.json":         []byte("keep\n"),
	}
	for name, data := range setup {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	s := newSink(t, testConfig(dir), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"alerts-2024-01-01.json.gz", "alerts-2024-01-02.json.gz", "alerts-2024-01-03-1.json.gz",
		"alerts-backup.json", "alerts.json", "other.json",
	}
	if got := listDir(t, dir); !equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	for name, id := range map[string]string{
		"alerts-2024-01-01.json.gz": "one", "alerts-2024-01-02.json.gz": "two", "alerts-2024-01-03-1.json.gz": "three",
	} {
		if got := lineIDs(t, readLines(t, filepath.Join(dir, name))); !equal(got, []string{id}) {
			t.Errorf("%s: %v, want [%s]", name, got, id)
		}
	}
}

func TestRotationContinuesNumbering(t *testing.T) {
	dir := t.TempDir()
	// Earlier files of the day, the oldest already deleted by max_files.
	for _, name := range []string{"alerts-2024-03-10-3.json.gz", "alerts-2024-03-10-4.json.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig(dir)
	cfg.Compress = false
	cfg.MaxSize = 200
	s := newSink(t, cfg, &clock{day(2024, 3, 10, 12, 0)})
	write(t, s, recs("a", 3, 99))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"alerts-2024-03-10-3.json.gz", "alerts-2024-03-10-4.json.gz", "alerts-2024-03-10-5.json", "alerts.json"}
	if got := listDir(t, dir); !equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
}

func TestNoTemporaryFilesAfterClose(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.MaxSize = 4096
	s := newSink(t, cfg, &clock{time.Date(2024, 3, 10, 12, 0, 0, 0, time.Local)})
	for i := 0; i < 20; i++ {
		write(t, s, recs("a", 10, 200))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range listDir(t, dir) {
		if strings.HasSuffix(name, ".tmp") || (name != "alerts.json" && !strings.HasSuffix(name, ".gz")) {
			t.Errorf("unexpected file %s after Close", name)
		}
	}
}
