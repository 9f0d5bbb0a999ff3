package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

func TestDeliversEveryFieldInOrder(t *testing.T) {
	r := newRemote()
	s := open(t, r, testConfig(t.TempDir()))
	var want []sink.Record
	for b := range 5 {
		recs := alerts("b"+strconv.Itoa(b), 23, 300)
		want = append(want, recs...)
		writeFlush(t, s, recs)
	}
	waitDelivered(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	got := r.got
	r.mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("delivered %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || string(g.JSON) != string(w.JSON) || g.Level != w.Level || g.RuleID != w.RuleID || !slices.Equal(g.Groups, w.Groups) {
			t.Fatalf("record %d: got %+v, want %+v", i, g, w)
		}
	}
	st := s.Stats()
	if st.Appended != int64(len(want)) || st.Delivered != int64(len(want)) || st.BufferedBytes != 0 || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	if !r.isClosed() {
		t.Error("Close did not close the inner sink")
	}
}

// A remote that is down does not stop Write and Flush until the spool holds
// max_bytes; then Write waits, and goes on when the remote is back, losing
// nothing and keeping the order.
func TestDownRemoteBuffersThenPushesBack(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.MaxBytes = 64 << 10
	cfg.SegmentBytes = 8 << 10
	r := newRemote()
	r.setHook(down)
	s := open(t, r, cfg)
	defer s.Close()

	var want []string
	batch := 0
	next := func() []sink.Record {
		batch++
		return alerts("b"+strconv.Itoa(batch), 5, 1000)
	}
	recs := next()
	size := int64(0)
	for i := range recs {
		size += int64(encodedSize(&recs[i]))
	}
	for s.Stats().BufferedBytes+size <= int64(cfg.MaxBytes) {
		writeFlush(t, s, recs)
		want = append(want, idsOf(recs)...)
		recs = next()
		if _, total := segmentFiles(t, dir); total > int64(cfg.MaxBytes+cfg.SegmentBytes) {
			t.Fatalf("segments take %d bytes, more than max_bytes + one segment", total)
		}
	}
	st := s.Stats()
	if st.Delivered != 0 || st.BufferedRecords != int64(len(want)) || st.Failed == 0 || st.OldestAge <= 0 {
		t.Fatalf("with the remote down: stats %+v, want %d buffered, none delivered, failures counted, an age", st, len(want))
	}

	done := make(chan error, 1)
	go func() { done <- s.Write(context.Background(), recs) }()
	waitFor(t, "Write to wait for space", func() bool { return s.Stats().Full })
	select {
	case err := <-done:
		t.Fatalf("Write returned %v while the spool was full", err)
	default:
	}
	if got := s.Stats().Appended; got != int64(len(want)) {
		t.Fatalf("a waiting Write appended records: %d appended, want %d", got, len(want))
	}

	r.setHook(nil)
	if err := <-done; err != nil {
		t.Fatalf("Write after the remote recovered: %v", err)
	}
	want = append(want, idsOf(recs)...)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, s)
	if got := r.ids(); !slices.Equal(got, want) {
		t.Fatalf("delivered %d records, want %d in order", len(got), len(want))
	}
	st = s.Stats()
	if st.BlockedWrites != 1 || st.Full || st.Dropped != 0 || st.Retries == 0 || st.OldestAge != 0 || st.Delivered != int64(len(want)) {
		t.Errorf("stats after recovery %+v", st)
	}
	names, _ := segmentFiles(t, dir)
	if len(names) != 1 {
		t.Errorf("%d segment files left after delivery, want only the active one: %v", len(names), names)
	}
}

// fill appends records until the next batch would not fit.
func fill(t *testing.T, s *Spool, cfg Config) {
	t.Helper()
	for i := 0; ; i++ {
		recs := alerts("f"+strconv.Itoa(i), 4, 1000)
		if s.Stats().BufferedBytes+int64(4*encodedSize(&recs[0])) > int64(cfg.MaxBytes) {
			return
		}
		writeFlush(t, s, recs)
	}
}

func TestFullSpoolGivesUp(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.MaxBytes = 16 << 10
	cfg.SegmentBytes = 4 << 10
	cfg.DrainTimeout = 0
	r := newRemote()
	r.setHook(down)
	shutdown := make(chan struct{})
	s, err := New(r, cfg, Options{Name: "test", Shutdown: shutdown})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fill(t, s, cfg)
	before := s.Stats().Appended
	more := alerts("more", 4, 1000)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, more); !errors.Is(err, ErrFull) || !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled context on a full spool: %v, want ErrFull and context.Canceled", err)
	}

	s.cfg.BlockTimeout = config.Duration(20 * time.Millisecond)
	if err := s.Write(context.Background(), more); !errors.Is(err, ErrFull) {
		t.Errorf("Write past block_timeout: %v, want ErrFull", err)
	}
	s.cfg.BlockTimeout = 0

	close(shutdown)
	if err := s.Write(context.Background(), more); !errors.Is(err, ErrFull) || !retry.IsPermanent(err) {
		t.Errorf("Write after shutdown: %v, want a permanent ErrFull", err)
	}
	if st := s.Stats(); st.Appended != before || st.BlockedWrites != 3 || st.Full {
		t.Errorf("refused Writes changed the spool: %+v (appended before: %d)", st, before)
	}
}

// Flush returns while the remote is stuck in a Write: the pipeline's flushes do
// not wait for the remote.
func TestSlowRemoteDoesNotHoldFlush(t *testing.T) {
	r := newRemote()
	release := make(chan struct{})
	r.setHook(func(ctx context.Context, n int) error {
		<-release
		return nil
	})
	s := open(t, r, testConfig(t.TempDir()))
	defer s.Close()
	var want []string
	recs := alerts("first", 10, 200)
	writeFlush(t, s, recs)
	want = append(want, idsOf(recs)...)
	<-r.entered // the deliverer is now blocked inside the remote's Write
	for i := range 20 {
		recs := alerts("later"+strconv.Itoa(i), 10, 200)
		writeFlush(t, s, recs)
		want = append(want, idsOf(recs)...)
	}
	// Every Flush above returned while the deliverer was stuck in the
	// remote's first Write, which only the close below releases.
	r.mu.Lock()
	writes := r.writes
	r.mu.Unlock()
	if st := s.Stats(); writes != 1 || st.Delivered != 0 || st.BufferedRecords != int64(len(want)) || st.OldestAge <= 0 {
		t.Fatalf("while the remote hangs: %d remote Writes, stats %+v", writes, st)
	}
	close(release)
	waitDelivered(t, s)
	if got := r.ids(); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

func TestDeliveredSegmentsAreRemoved(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.SegmentBytes = 4 << 10
	cfg.MaxBytes = 32 << 10
	r := newRemote()
	s := open(t, r, cfg)
	var want []string
	for i := range 100 {
		recs := alerts("s"+strconv.Itoa(i), 5, 500)
		writeFlush(t, s, recs)
		want = append(want, idsOf(recs)...)
		if _, total := segmentFiles(t, dir); total > int64(cfg.MaxBytes+cfg.SegmentBytes) {
			t.Fatalf("segments take %d bytes, more than max_bytes + one segment", total)
		}
	}
	waitDelivered(t, s)
	names, _ := segmentFiles(t, dir)
	if len(names) != 1 {
		t.Errorf("segments left after delivering everything: %v", names)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := r.ids(); !slices.Equal(got, want) {
		t.Fatalf("delivered %d records, want %d in order", len(got), len(want))
	}
	if _, err := os.Stat(filepath.Join(dir, corruptDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("corrupt/ exists without any damage: %v", err)
	}
}

func TestCloseDrains(t *testing.T) {
	r := newRemote()
	s := open(t, r, testConfig(t.TempDir()))
	recs := alerts("d", 95, 100)
	writeFlush(t, s, recs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := r.ids(); !slices.Equal(got, idsOf(recs)) {
		t.Fatalf("Close returned having delivered %d of %d records", len(got), len(recs))
	}
	if err := s.Write(context.Background(), recs); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
}

// Close stops a delivery that outlasts drain_timeout; what is left is delivered
// after the next start, once.
func TestCloseStopsAfterDrainTimeoutAndResumes(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.DrainTimeout = config.Duration(50 * time.Millisecond)
	r := newRemote()
	r.setHook(func(ctx context.Context, n int) error {
		if n <= 2 {
			return nil
		}
		<-ctx.Done() // hangs until the spool gives up
		return ctx.Err()
	})
	s := open(t, r, cfg)
	recs := alerts("c", 100, 100)
	writeFlush(t, s, recs)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	first := r.ids()
	if len(first) != 2*cfg.Batch || !r.isClosed() {
		t.Fatalf("before Close gave up: %d delivered (want %d), inner closed %v", len(first), 2*cfg.Batch, r.isClosed())
	}

	r2 := newRemote()
	s2 := open(t, r2, cfg)
	if st := s2.Stats(); st.BufferedRecords > int64(len(recs)-len(first)) {
		t.Errorf("reopened with %d records to deliver, want at most %d", st.BufferedRecords, len(recs)-len(first))
	}
	waitDelivered(t, s2)
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := append(first, r2.ids()...); !slices.Equal(got, idsOf(recs)) {
		t.Fatalf("across the restart delivered %v, want each of %d records once, in order", got, len(recs))
	}
}

// A batch the output rejects as permanent is retried anyway: the spool never
// drops.
func TestPermanentErrorsAreRetried(t *testing.T) {
	r := newRemote()
	r.setHook(func(ctx context.Context, n int) error {
		if n <= 3 {
			return retry.Permanent(errors.New("400 bad request"))
		}
		return nil
	})
	logs := &logBuffer{}
	cfg := testConfig(t.TempDir())
	s, err := New(r, cfg, Options{Name: "test", Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	recs := alerts("p", 5, 100)
	writeFlush(t, s, recs)
	waitDelivered(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := r.ids(); !slices.Equal(got, idsOf(recs)) {
		t.Fatalf("delivered %v", got)
	}
	if st := s.Stats(); st.Failed != 3 || st.Retries != 3 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 3 failed attempts and 3 retries", st)
	}
	if l := logs.String(); !strings.Contains(l, "rejects a batch") || !strings.Contains(l, "resumed") {
		t.Errorf("log does not report the rejection and the recovery:\n%s", l)
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.MaxBytes = 64 << 10
	s := open(t, newRemote(), cfg)
	big := alerts("big", 1, 70<<10)
	if err := s.Write(context.Background(), big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Write of an alert larger than max_bytes: %v, want ErrTooLarge", err)
	}
	if _, err := New(newRemote(), cfg, Options{}); err == nil {
		t.Error("a second spool opened the same directory")
	}
	noDir := cfg
	noDir.Dir = ""
	if _, err := New(newRemote(), noDir, Options{}); err == nil {
		t.Error("New accepted an empty dir")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	s2 := open(t, newRemote(), cfg) // the lock is released by Close
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
}

// A batch larger than max_bytes goes in as space frees, record by record.
func TestBatchLargerThanTheSpool(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.MaxBytes = 16 << 10
	cfg.SegmentBytes = 4 << 10
	r := newRemote()
	s := open(t, r, cfg)
	recs := alerts("huge", 100, 1000) // about 100 KiB
	writeFlush(t, s, recs)
	waitDelivered(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := r.ids(); !slices.Equal(got, idsOf(recs)) {
		t.Fatalf("delivered %d of %d", len(got), len(recs))
	}
}

// A failed Flush of the output is retried without writing the batch again:
// the output still holds it, and writing it again would repeat it.
func TestFailedFlushIsRetriedWithoutRewriting(t *testing.T) {
	r := newRemote()
	r.flushHook = func(n int) error {
		if n <= 4 {
			return errors.New("503 service unavailable")
		}
		return nil
	}
	s := open(t, r, testConfig(t.TempDir()))
	recs := alerts("f", 25, 100) // 3 batches of at most 10
	writeFlush(t, s, recs)
	waitDelivered(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := r.ids(); !slices.Equal(got, idsOf(recs)) {
		t.Fatalf("delivered %v, want each record once in order", got)
	}
	r.mu.Lock()
	writes := r.writes
	r.mu.Unlock()
	if st := s.Stats(); writes != 3 || st.Failed != 4 || st.Retries != 4 {
		t.Errorf("%d output Writes (want 3, one per batch), stats %+v (want 4 failed, 4 retries)", writes, st)
	}
}
