package storesink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
	storesink "github.com/skywatch-dev/skywatch/internal/sink/store"
	"github.com/skywatch-dev/skywatch/internal/store"
)

var ctx = context.Background()

// alerts returns n encoded CloudTrail alerts.
func alerts(n, from int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		k := from + i
		a := alert.Alert{
			Timestamp: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(k) * time.Second),
			ID:        alert.ID("test", "unit", int64(k), "80202"),
			Rule:      alert.Rule{Level: 3 + k%10, ID: "80202", Description: "AWS CloudTrail: StopLogging", Groups: []string{"aws", "cloudtrail"}},
			Data: fmt.Appendf(nil, `{"integration":"aws","aws":{"recipientAccountId":"111122223333","awsRegion":"eu-west-1",`+
				`"userIdentity":{"arn":"arn:aws:iam::111122223333:user/u%d"},"sourceIPAddress":"192.0.2.%d","eventName":"StopLogging"}}`, k%7, k%250),
			Location: "Wazuh-AWS",
		}
		out[i] = a.AppendJSON(nil)
	}
	return out
}

// records builds records over one reused arena, as the pipeline does; the
// returned function scribbles over the arena.
func records(js [][]byte) ([]sink.Record, func()) {
	var arena []byte
	for _, j := range js {
		arena = append(arena, j...)
	}
	recs := make([]sink.Record, len(js))
	off := 0
	for i, j := range js {
		recs[i] = sink.Record{JSON: arena[off : off+len(j) : off+len(j)], Level: 3}
		off += len(j)
	}
	return recs, func() {
		for i := range arena {
			arena[i] = 'x'
		}
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "alerts.db"), store.Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestWriteFlushAndReplay(t *testing.T) {
	st := openStore(t)
	s, err := storesink.New(st, storesink.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	js := alerts(300, 0)
	recs, scribble := records(js)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	scribble() // the pipeline reuses the arena once Write returned
	if got := s.Stats(); got.Accepted != 300 || got.Buffered != 300 || got.Stored != 0 {
		t.Fatalf("after Write: %+v", got)
	}
	if n, _ := st.Count(ctx); n != 0 {
		t.Fatalf("stored before Flush: %d", n)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Count(ctx); n != 300 {
		t.Fatalf("count after Flush = %d", n)
	}
	id := alert.ID("test", "unit", 42, "80202")
	got, err := st.Get(ctx, id)
	if err != nil || !bytes.Equal(got, js[42]) {
		t.Fatalf("Get(%s) = %.60s, %v", id, got, err)
	}
	// The summary the API filters on came from the JSON.
	p, err := st.Search(ctx, store.Query{Principal: "arn:aws:iam::111122223333:user/u0", Account: "111122223333", Region: "eu-west-1"})
	if err != nil || p.Total != 43 {
		t.Fatalf("search by summary fields: %d, %v", p.Total, err)
	}

	// A replay (after a crash, say) adds nothing.
	recs, _ = records(js)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Count(ctx); n != 300 {
		t.Fatalf("count after replay = %d", n)
	}
	want := storesink.Stats{Accepted: 600, Stored: 300, Duplicates: 300}
	if got := s.Stats(); got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
	// New does not own the store.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Count(ctx); err != nil || n != 300 {
		t.Fatalf("store after sink Close: %d, %v", n, err)
	}
	if err := s.Write(ctx, recs); !errors.Is(err, storesink.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestBadRecordIsPermanentAndAtomic(t *testing.T) {
	st := openStore(t)
	s, _ := storesink.New(st, storesink.DefaultConfig())
	recs, _ := records(alerts(3, 0))
	recs = append(recs, sink.Record{JSON: []byte(`{"rule":`), ID: "bad"})
	err := s.Write(ctx, recs)
	if !errors.Is(err, storesink.ErrBadRecord) || !retry.IsPermanent(err) {
		t.Fatalf("Write of a broken alert: %v", err)
	}
	noID := sink.Record{JSON: []byte(`{"rule":{"level":3}}`)}
	if err := s.Write(ctx, []sink.Record{noID}); !errors.Is(err, storesink.ErrBadRecord) {
		t.Fatalf("Write of an alert without id: %v", err)
	}
	if got := s.Stats(); got.Accepted != 0 || got.Buffered != 0 || got.Rejected != 2 {
		t.Fatalf("stats %+v: a refused call must take nothing", got)
	}
	// The id may come from the record when the JSON has none.
	withID := sink.Record{JSON: []byte(`{"timestamp":"bad","rule":{"level":3,"id":"1"}}`), ID: "rec-id"}
	if err := s.Write(ctx, []sink.Record{withID}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "rec-id"); err != nil {
		t.Fatalf("alert stored under the record id: %v", err)
	}
	// Its unreadable timestamp became its arrival time: it is among the newest.
	p, err := st.Search(ctx, store.Query{From: time.Now().Add(-time.Hour)})
	if err != nil || p.Total != 1 {
		t.Fatalf("arrival-time alert: %d, %v", p.Total, err)
	}
}

func TestFailedFlushKeepsAlerts(t *testing.T) {
	st := openStore(t)
	s, _ := storesink.New(st, storesink.DefaultConfig())
	recs, _ := records(alerts(50, 0))
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Flush(cancelled); err == nil {
		t.Fatal("Flush with a cancelled context succeeded")
	}
	if got := s.Stats(); got.Failed != 1 || got.Buffered != 50 || got.Stored != 0 {
		t.Fatalf("after failed flush: %+v", got)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Count(ctx); n != 50 {
		t.Fatalf("count = %d", n)
	}
}

func TestWriteBoundsBuffer(t *testing.T) {
	st := openStore(t)
	s, _ := storesink.New(st, storesink.DefaultConfig())
	js := alerts(2*storesink.MaxBatch+500, 0)
	for i := 0; i < len(js); i += 500 {
		recs, _ := records(js[i : i+500])
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		if b := s.Stats().Buffered; b > storesink.MaxBatch+500 {
			t.Fatalf("%d alerts buffered", b)
		}
	}
	if got := s.Stats(); got.Stored != 2*storesink.MaxBatch || got.Buffered != 500 {
		t.Fatalf("before Flush: %+v", got)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Count(ctx); n != int64(len(js)) {
		t.Fatalf("count = %d", n)
	}
}

func TestOpenOwnsStore(t *testing.T) {
	if _, err := storesink.Open(storesink.DefaultConfig(), nil); err == nil {
		t.Fatal("Open with no path succeeded")
	}
	cfg := storesink.DefaultConfig()
	cfg.Path = config.Path(filepath.Join(t.TempDir(), "alerts.db"))
	s, err := storesink.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := records(alerts(10, 0))
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	st := s.Store()
	// Close flushes before closing the store it opened.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Count(ctx); err == nil {
		t.Fatal("the owned store is still open after Close")
	}
	st, err = store.Open(string(cfg.Path), store.Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.Count(ctx); n != 10 {
		t.Fatalf("count after Close = %d", n)
	}
	if _, err := storesink.New(nil, cfg); err == nil {
		t.Fatal("New without a store succeeded")
	}
}
