package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var ctx = context.Background()

func count(t testing.TB, s *Store, stmt string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.r.QueryRow(stmt, args...).Scan(&n); err != nil {
		t.Fatal(stmt, err)
	}
	return n
}

func TestInsertIdempotent(t *testing.T) {
	s := openTest(t, Options{})
	g := newGen(1, time.Now(), 48*time.Hour)
	batch := g.batch(100)
	n, err := s.InsertCount(ctx, batch)
	if err != nil || n != 100 {
		t.Fatalf("first insert: %d new, %v", n, err)
	}
	tags := count(t, s, `SELECT count(*) FROM alert_tags`)
	// The same ids again, alone and mixed with new ones and with themselves.
	if n, err := s.InsertCount(ctx, batch); err != nil || n != 0 {
		t.Fatalf("repeat insert: %d new, %v", n, err)
	}
	fresh := g.batch(10)
	mixed := append(append(append([]Alert{}, batch[:20]...), fresh...), fresh[0], batch[5])
	if n, err := s.InsertCount(ctx, mixed); err != nil || n != 10 {
		t.Fatalf("mixed insert: %d new, %v", n, err)
	}
	if c, _ := s.Count(ctx); c != 110 {
		t.Fatalf("count = %d, want 110", c)
	}
	if c := count(t, s, `SELECT count(*) FROM alerts_fts`); c != 110 {
		t.Errorf("full-text rows = %d, want 110", c)
	}
	wantTags := tags + tagRows(fresh)
	if c := count(t, s, `SELECT count(*) FROM alert_tags`); c != wantTags {
		t.Errorf("tag rows = %d, want %d", c, wantTags)
	}
	if err := s.Insert(ctx, []Alert{{JSON: []byte(`{}`)}}); err == nil {
		t.Error("an alert without id was accepted")
	}
}

func TestGet(t *testing.T) {
	s := openTest(t, Options{})
	batch := newGen(2, time.Now(), time.Hour).batch(5)
	mustInsert(t, s, batch)
	got, err := s.Get(ctx, batch[3].Summary.ID)
	if err != nil || !bytes.Equal(got, batch[3].JSON) {
		t.Fatalf("Get = %.80s, %v", got, err)
	}
	if _, err := s.Get(ctx, "0123"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing id: %v", err)
	}
}

func TestReopenKeepsDataAndMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "alerts.db")
	s, err := Open(path, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	batch := newGen(3, time.Now(), time.Hour).batch(50)
	mustInsert(t, s, batch)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s, err = Open(path, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, _ := s.Count(ctx); c != 50 {
		t.Fatalf("after reopen count = %d", c)
	}
	got, err := s.Get(ctx, batch[49].Summary.ID)
	if err != nil || !bytes.Equal(got, batch[49].JSON) {
		t.Fatalf("after reopen Get: %v", err)
	}
	page, err := s.Search(ctx, Query{Text: batch[0].Summary.Principal})
	if err != nil || page.Total == 0 {
		t.Fatalf("after reopen text search: %d, %v", page.Total, err)
	}
	// New inserts after reopen reuse the stored tag ids.
	mustInsert(t, s, newGen(4, time.Now(), time.Hour).batch(20))
	if c := count(t, s, `SELECT count(*) FROM tag_names`); c != count(t, s, `SELECT count(DISTINCT kind || name) FROM tag_names`) {
		t.Errorf("duplicate tag names after reopen")
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.db")
	s, err := Open(path, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if _, err := Open(path, Options{PruneInterval: -1}); err == nil {
		t.Fatal("opened a database of a newer schema")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "a?b"), Options{}); err == nil {
		t.Fatal("opened a path with '?'")
	}
}

func TestConcurrentReadsDuringWrites(t *testing.T) {
	s := openTest(t, Options{Readers: 3})
	g := newGen(5, time.Now(), 24*time.Hour)
	mustInsert(t, s, g.batch(200))
	batches := make([][]Alert, 40)
	for i := range batches {
		batches[i] = g.batch(50)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 4 {
		wg.Go(func() {
			var last int64
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				var err error
				var n int64
				switch (i + r) % 3 {
				case 0:
					var p Page
					p, err = s.Search(ctx, Query{MinLevel: 5, Limit: 20})
					n = -1
					if err == nil && len(p.Alerts) != 20 {
						err = errors.New("short page")
					}
				case 1:
					var a Aggregations
					a, err = s.Aggregate(ctx, Query{}, AggRequest{})
					n = a.Total
				default:
					n, err = s.Count(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
				if n >= 0 && n < last {
					errs <- errors.New("the alert count went down")
					return
				}
				last = max(last, n)
			}
		})
	}
	for _, b := range batches {
		if err := s.Insert(ctx, b); err != nil {
			t.Error(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c, _ := s.Count(ctx); c != 200+40*50 {
		t.Fatalf("count = %d", c)
	}
}

func TestAppendText(t *testing.T) {
	js := `{"timestamp":"2024-05-01T10:00:00.000+0000","rule":{"level":5,"description":"Caf\u00e9 \"quoted\"","id":"1"},` +
		`"full_log":"FULLLOG","previous_output":"PREV","data":{"user":"alice","n":5,"list":["x1","x2"]},"location":"loc"}`
	got := string(appendText(nil, []byte(js)))
	for _, want := range []string{"Café \"quoted\"", "alice", "x1", "x2", "loc", "2024-05-01T10"} {
		if !bytes.Contains([]byte(got), []byte(want)) {
			t.Errorf("text %q lacks %q", got, want)
		}
	}
	for _, not := range []string{"FULLLOG", "PREV", "user", "description", "timestamp"} {
		if bytes.Contains([]byte(got), []byte(not)) {
			t.Errorf("text %q has %q", got, not)
		}
	}
	noData := `{"rule":{"id":"2"},"full_log":"Mar 1 sshd: failed password for root","location":"x"}`
	if got := string(appendText(nil, []byte(noData))); !bytes.Contains([]byte(got), []byte("failed password")) {
		t.Errorf("without data the full log is not indexed: %q", got)
	}
}

func TestIntegrityCheckDetectsDamage(t *testing.T) {
	s := openTest(t, Options{})
	g := newGen(6, time.Now(), time.Hour)
	for range 30 { // enough commits for the full-text index to merge segments
		mustInsert(t, s, g.batch(2))
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`DELETE FROM alerts_fts_data WHERE id > 10`); err != nil {
		t.Fatal(err)
	}
	if err := s.IntegrityCheck(ctx); err == nil {
		t.Fatal("a damaged full-text index passed the check")
	}
}

func TestStoredForms(t *testing.T) {
	s := openTest(t, Options{})
	a := newGen(17, time.Now(), time.Hour).batch(1)
	mustInsert(t, s, a)
	var stored []byte
	if err := s.r.QueryRow(`SELECT json FROM alerts`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored[0] != formatDeflateV1 || len(stored) >= len(a[0].JSON)/2 {
		t.Fatalf("stored %d bytes (format %d) for %d bytes of JSON", len(stored), stored[0], len(a[0].JSON))
	}
	// Rows holding plain JSON (and a damaged row) read as such.
	if _, err := s.w.Exec(`UPDATE alerts SET json = CAST('{"plain":1}' AS BLOB)`); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, a[0].Summary.ID); err != nil || string(got) != `{"plain":1}` {
		t.Fatalf("plain row: %s, %v", got, err)
	}
	if _, err := s.w.Exec(`UPDATE alerts SET json = X'01FFFF'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, a[0].Summary.ID); err == nil {
		t.Fatal("a damaged row read without error")
	}
	if _, err := s.Search(ctx, Query{}); err == nil {
		t.Fatal("a damaged row searched without error")
	}
}
