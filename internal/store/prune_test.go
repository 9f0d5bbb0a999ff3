package store

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func tagRows(alerts []Alert) int64 {
	var n int64
	for _, a := range alerts {
		for _, names := range [][]string{a.Summary.Groups, a.Summary.Tactics, a.Summary.Techniques} {
			n += int64(len(slices.Compact(slices.Sorted(slices.Values(names)))))
		}
	}
	return n
}

func TestRetention(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Retention: 5 * 24 * time.Hour, Now: func() time.Time { return now }})
	all := newGen(12, now, 10*24*time.Hour).batch(2500)
	mustInsert(t, s, all)
	cutoff := now.Add(-5 * 24 * time.Hour)
	var keep, gone []Alert
	for _, a := range all {
		if a.Summary.Timestamp.Before(cutoff) {
			gone = append(gone, a)
		} else {
			keep = append(keep, a)
		}
	}
	if len(gone) <= pruneBatch {
		t.Fatalf("bad test: %d alerts to prune do not span batches", len(gone))
	}
	n, err := s.Prune(ctx)
	if err != nil || n != int64(len(gone)) {
		t.Fatalf("Prune = %d, %v; want %d", n, err, len(gone))
	}
	if c, _ := s.Count(ctx); c != int64(len(keep)) {
		t.Fatalf("count = %d, want %d", c, len(keep))
	}
	if c := count(t, s, `SELECT count(*) FROM alerts WHERE ts < ?`, cutoff.UnixMilli()); c != 0 {
		t.Fatalf("%d alerts older than the retention remain", c)
	}
	// The delete trigger removed their index entries too.
	if c := count(t, s, `SELECT count(*) FROM alerts_fts`); c != int64(len(keep)) {
		t.Errorf("full-text rows = %d, want %d", c, len(keep))
	}
	if c := count(t, s, `SELECT count(*) FROM alert_tags`); c != tagRows(keep) {
		t.Errorf("tag rows = %d, want %d", c, tagRows(keep))
	}
	p, err := s.Search(ctx, Query{Text: gone[0].Summary.ID})
	if err != nil || p.Total != 0 {
		t.Errorf("a pruned alert is still found by text: %d, %v", p.Total, err)
	}
	if n, err := s.Prune(ctx); n != 0 || err != nil {
		t.Errorf("second Prune = %d, %v", n, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPruneBySize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.db")
	s, err := Open(path, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(13, time.Now(), 10*24*time.Hour)
	// Alerts arrive roughly in time order, which is what lets deleting the
	// oldest free whole pages.
	all := g.batch(4000)
	slices.SortFunc(all, func(a, b Alert) int { return a.Summary.Timestamp.Compare(b.Summary.Timestamp) })
	for i := 0; i < len(all); i += 500 {
		mustInsert(t, s, all[i:i+500])
	}
	full, err := s.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()

	limit := full / 2
	s, err = Open(path, Options{MaxSize: limit, PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var deleted int64
	for range 3 {
		n, err := s.Prune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		deleted += n
	}
	size, _ := s.Size(ctx)
	left, _ := s.Count(ctx)
	t.Logf("size %d -> %d (limit %d), %d of %d alerts deleted", full, size, limit, deleted, len(all))
	if size > limit {
		t.Fatalf("size %d still above the limit %d", size, limit)
	}
	if deleted == 0 || left == 0 || left+deleted != int64(len(all)) {
		t.Fatalf("deleted %d, %d left", deleted, left)
	}
	// Not far more than needed: at least a third of the alerts stay.
	if left < int64(len(all))/3 {
		t.Errorf("only %d of %d alerts left", left, len(all))
	}
	// The oldest went first.
	ts := make([]int64, len(all))
	for i, a := range all {
		ts[i] = a.Summary.Timestamp.UnixMilli()
	}
	slices.Sort(ts)
	if c := count(t, s, `SELECT count(*) FROM alerts WHERE ts < ?`, ts[deleted]); c != 0 {
		t.Errorf("%d alerts older than the newest pruned one remain", c)
	}
	// Inserting more keeps it bounded.
	g = newGen(18, time.Now().Add(24*time.Hour), time.Hour)
	for range 4 {
		mustInsert(t, s, g.batch(500))
		if _, err := s.Prune(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if size, _ := s.Size(ctx); size > limit {
		t.Errorf("after more inserts size %d is above the limit %d", size, limit)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPruneLoopRunsInBackground(t *testing.T) {
	now := time.Now()
	s, err := Open(filepath.Join(t.TempDir(), "alerts.db"), Options{Retention: time.Hour, PruneInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old := newGen(14, now.Add(-2*time.Hour), 10*time.Minute).batch(30)
	fresh := newGen(15, now, 10*time.Minute).batch(10)
	mustInsert(t, s, append(old, fresh...))
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := s.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("background pruning did not happen: %d alerts", c)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
