package azureblob

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// runWatched runs one pass, reading s.Progress meanwhile as the progress log
// does (a count going back or past its total fails the test), and returns the
// progress seen at the pass's first batch and at its end.
func runWatched(t *testing.T, s *Source, c *collector) (first, last source.Progress) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var prev int64
		for {
			p := s.Progress()
			if p.Done > p.Total || (p.Done < prev && p.Done != 0) {
				t.Errorf("progress %+v after done %d", p, prev)
				return
			}
			prev = p.Done
			select {
			case <-stop:
				return
			default:
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	var once sync.Once
	err := s.Run(context.Background(), func(ctx context.Context, b *source.Batch) error {
		once.Do(func() { first = s.Progress() })
		return c.emit(ctx, b)
	})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	return first, s.Progress()
}

// TestBackfillProgressInDays: a backfill of N days reports N days at the
// start of the pass and N of N at its end, days without a folder included;
// the next pass counts from the root's moved cursor.
func TestBackfillProgressInDays(t *testing.T) {
	cname, c := newContainer(t)
	// Apr 28 to May 3 (the tests' day) is 6 days; Apr 29, 30 and May 2 have no folder.
	for _, d := range []string{"m=04/d=28", "m=05/d=01", "m=05/d=03"} {
		for h := 0; h < 3; h++ {
			put(t, c, cname, fmt.Sprintf("r/y=2024/%s/h=%02d/m=00/PT1H.json", d, h), jsonLines(h, h+1))
		}
	}
	put(t, c, cname, "loose/notes.json", jsonLines(7, 8)) // outside day folders: not counted
	cfg := baseConfig(cname)
	cfg.OnlyLogsAfter, cfg.RereadWindow = "2024-04-28", 3600e9
	st := openStore(t, t.TempDir())
	s := newSource(t, cfg, st, nil)
	if p := s.Progress(); p != (source.Progress{Unit: "days"}) {
		t.Errorf("progress before any pass %+v, want zero", p)
	}
	col := &collector{}
	first, last := runWatched(t, s, col)
	if n := len(col.take()); n != 10 {
		t.Errorf("read %d events, want 10", n)
	}
	if first.Total != 6 || first.Unit != "days" {
		t.Errorf("progress at the first batch %+v, want 6 days", first)
	}
	if last.Done != 6 || last.Total != 6 {
		t.Errorf("progress at the end %+v, want 6 of 6 days", last)
	}
	// The closed days moved the cursor to May 3: one day left to list.
	if v, _, _ := st.Get("blob", cursorPrefix+cname+"|r/"); string(v) != "2024-05-03" {
		t.Fatalf("cursor %q, want 2024-05-03", v)
	}
	if _, last = runWatched(t, s, col); last.Done != 1 || last.Total != 1 {
		t.Errorf("second pass: progress %+v, want 1 of 1 day", last)
	}
}

// TestProgressAcrossRoots: the days of every dated root count, each from its
// own cursor.
func TestProgressAcrossRoots(t *testing.T) {
	cname, c := newContainer(t)
	put(t, c, cname, "a/y=2024/m=05/d=02/PT1H.json", jsonLines(1, 2))
	put(t, c, cname, "b/y=2024/m=04/d=24/PT1H.json", jsonLines(2, 3))
	put(t, c, cname, "b/y=2024/m=05/d=03/PT1H.json", jsonLines(3, 4))
	cfg := baseConfig(cname)
	cfg.OnlyLogsAfter = "2024-04-20"
	st := openStore(t, t.TempDir())
	// Root a/ was read up to May 1; b/ starts at only_logs_after.
	if err := st.Put("blob", cursorPrefix+cname+"|a/", []byte("2024-05-01")); err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	_, last := runWatched(t, newSource(t, cfg, st, nil), col)
	if last.Done != 3+14 || last.Total != 3+14 {
		t.Errorf("progress %+v, want 17 of 17 days (a/ May 1-3, b/ Apr 20 - May 3)", last)
	}
	if got := sorted(logs(col.take())); !slices.Equal(got, sorted(wants(1, 4))) {
		t.Errorf("read %q", got)
	}
}
