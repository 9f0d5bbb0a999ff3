package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// remote stands in for a remote output: it keeps what it was given and lets a
// test make it fail or hang. Records count as delivered once flushed.
type remote struct {
	mu      sync.Mutex
	pending []sink.Record
	got     []sink.Record
	writes  int
	closed  bool
	// hook, when set, runs at the start of every Write with its 1-based
	// number; an error it returns fails the Write.
	hook func(ctx context.Context, n int) error
	// flushHook, when set, runs at the start of every Flush with its
	// 1-based number; an error it returns fails the Flush, which keeps what
	// was written for the next one, as the Sink contract says.
	flushHook func(n int) error
	flushes   int
	entered   chan int // receives each Write's number, when not full
}

func newRemote() *remote { return &remote{entered: make(chan int, 1<<16)} }

func (r *remote) setHook(h func(ctx context.Context, n int) error) {
	r.mu.Lock()
	r.hook = h
	r.mu.Unlock()
}

func (r *remote) Write(ctx context.Context, recs []sink.Record) error {
	r.mu.Lock()
	r.writes++
	n, hook := r.writes, r.hook
	r.mu.Unlock()
	select {
	case r.entered <- n:
	default:
	}
	if hook != nil {
		if err := hook(ctx, n); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		rec.JSON = bytes.Clone(rec.JSON) // only valid during Write
		r.pending = append(r.pending, rec)
	}
	return nil
}

func (r *remote) Flush(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushes++
	if r.flushHook != nil {
		if err := r.flushHook(r.flushes); err != nil {
			return err
		}
	}
	r.got = append(r.got, r.pending...)
	r.pending = nil
	return nil
}

func (r *remote) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return nil
}

func (r *remote) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.got))
	for i, rec := range r.got {
		out[i] = rec.ID
	}
	return out
}

func (r *remote) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// down makes every Write fail.
func down(context.Context, int) error { return fmt.Errorf("connection refused") }

// testConfig is a small spool in dir that retries quickly.
func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Dir = config.Path(dir)
	cfg.MaxBytes = 1 << 20
	cfg.SegmentBytes = 64 << 10
	cfg.Batch = 10
	cfg.RetryInitial = config.Duration(time.Millisecond)
	cfg.RetryMax = config.Duration(5 * time.Millisecond)
	cfg.DrainTimeout = config.Duration(10 * time.Second)
	return cfg
}

func open(t testing.TB, inner sink.Sink, cfg Config) *Spool {
	t.Helper()
	s, err := New(inner, cfg, Options{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// alerts returns n records with ids prefix-0, prefix-1, ... and JSON of about
// size bytes.
func alerts(prefix string, n, size int) []sink.Record {
	recs := make([]sink.Record, n)
	for i := range recs {
		id := fmt.Sprintf("%s-%d", prefix, i)
		pad := strings.Repeat("x", max(0, size-40-len(id)))
		recs[i] = sink.Record{
			JSON:   fmt.Appendf(nil, `{"id":%q,"rule":{"level":%d},"pad":%q}`, id, i%16, pad),
			ID:     id,
			Level:  i % 16,
			RuleID: fmt.Sprint(100 + i%3),
			Groups: [][]string{nil, {"aws"}, {"aws", "cloudtrail"}}[i%3],
		}
	}
	return recs
}

func idsOf(recs []sink.Record) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].ID
	}
	return out
}

func writeFlush(t testing.TB, s *Spool, recs []sink.Record) {
	t.Helper()
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond; the deadline only guards against a hang.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitDelivered(t testing.TB, s *Spool) {
	t.Helper()
	waitFor(t, "the spool to be delivered", func() bool { return s.Stats().BufferedRecords == 0 })
}

// segmentFiles lists the segment files in dir, oldest first, and their total size.
func segmentFiles(t testing.TB, dir string) ([]string, int64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var total int64
	for _, e := range entries {
		if _, ok := parseSegmentName(e.Name()); ok {
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // delivered and removed meanwhile
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, filepath.Join(dir, e.Name()))
			total += info.Size()
		}
	}
	slices.Sort(names)
	return names, total
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
