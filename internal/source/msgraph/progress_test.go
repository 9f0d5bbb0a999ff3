package msgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

// watchProgress reads s.Progress while a pass runs, as the progress log does,
// and reports a count going back or past its total.
func watchProgress(t *testing.T, s *Source) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var last int64
		for {
			p := s.Progress()
			if p.Done > p.Total || p.Done < last && p.Done != 0 {
				t.Errorf("progress %+v after done %d", p, last)
				return
			}
			last = p.Done
			select {
			case <-done:
				return
			default:
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// runWatched runs one pass and its Commit, and returns the progress seen at
// the pass's first batch and at its end.
func runWatched(t *testing.T, s *Source, c *collector) (first, last source.Progress, err error) {
	t.Helper()
	var once sync.Once
	stop := watchProgress(t, s)
	err = s.Run(context.Background(), func(ctx context.Context, b *source.Batch) error {
		once.Do(func() { first = s.Progress() })
		return c.emit(ctx, b)
	})
	stop()
	if cerr := s.Commit(); cerr != nil {
		t.Fatal(cerr)
	}
	return first, s.Progress(), err
}

// TestBackfillProgressInWindows: a backlog of N max_window windows over the
// resources reports N windows at the start of the pass and N of N at its end;
// a backlog that is not a whole number of windows is rounded up.
func TestBackfillProgressInWindows(t *testing.T) {
	f := newFakes(t)
	f.cfg.Resources = []Resource{{Resource: "auditLogs/directoryAudits"}, {Resource: "auditLogs/signIns"}}
	f.cfg.OnlyLogsAfter = "2024-02-28"
	f.cfg.MaxWindow = config.Duration(6 * time.Hour)
	var audits []json.RawMessage
	for i := 0; i < 90; i++ { // every 40 minutes from Feb 28 to Mar 2 12:00
		at := time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 40 * time.Minute)
		audits = append(audits, audit(fmt.Sprintf("d%03d", i), at, "Update user", "success", "admin@contoso.com"))
	}
	f.graph.Put("auditLogs/directoryAudits", audits...)
	f.graph.Put("auditLogs/signIns", signIns("s", 30, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Hour)...)
	clk := &clock{t: time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)}
	s := mustNew(t, f.cfg, f.settings("graph", nil, clk, nil, nil))
	if p := s.Progress(); p != (source.Progress{Unit: "windows"}) {
		t.Errorf("progress before any pass %+v, want zero", p)
	}
	c := &collector{}
	first, last, err := runWatched(t, s, c)
	if err != nil {
		t.Fatal(err)
	}
	// Feb 28 to Mar 2 12:00 is 84 hours (2024 is a leap year): 14 windows of 6h
	// per resource.
	if first.Total != 28 || first.Done >= first.Total || first.Unit != "windows" {
		t.Errorf("progress at the first batch %+v, want 28 windows, not all done", first)
	}
	if last.Done != 28 || last.Total != 28 {
		t.Errorf("progress at the end %+v, want 28 of 28 windows", last)
	}
	if n := len(f.graph.Requests()); n != 28 {
		t.Errorf("%d requests, want 28 windows", n)
	}
	if n := len(units(c.take())); n != 120 {
		t.Errorf("delivered %d records, want 120", n)
	}

	// Seven hours later: 7h from each cursor is two windows each.
	clk.Set(clk.Now().Add(7 * time.Hour))
	f.graph.Put("auditLogs/signIns", signIns("t", 1, clk.Now().Add(-time.Hour), time.Minute)...)
	first, last, err = runWatched(t, s, c)
	if err != nil {
		t.Fatal(err)
	}
	if first.Total != 4 || last.Done != 4 || last.Total != 4 {
		t.Errorf("second pass: progress %+v at the first batch, %+v at the end; want 4 windows", first, last)
	}
}

// TestProgressCountsAFailedResourceDone: a resource that fails leaves its
// remaining windows to the next pass; this pass is done with them.
func TestProgressCountsAFailedResourceDone(t *testing.T) {
	f := newFakes(t)
	f.cfg.Resources = []Resource{{Resource: "auditLogs/directoryAudits"}, {Resource: "auditLogs/signIns"}}
	f.cfg.OnlyLogsAfter = "2024-02-29"
	f.cfg.MaxWindow = config.Duration(12 * time.Hour)
	f.graph.Put("auditLogs/signIns", signIns("s", 3, day, time.Hour)...)
	f.graph.Inject("auditLogs/directoryAudits", azurefake.Fault{Kind: azurefake.Unavailable}, azurefake.Fault{Kind: azurefake.Unavailable})
	set := f.settings("graph", nil, &clock{t: noon}, nil, nil)
	set.Retry = retry.Policy{Initial: time.Millisecond, Attempts: 2}
	s := mustNew(t, f.cfg, set)
	first, last, err := runWatched(t, s, &collector{})
	if err == nil {
		t.Fatal("the failing resource did not fail the pass")
	}
	if first.Total != 6 || last.Done != 6 || last.Total != 6 {
		t.Errorf("progress %+v at the first batch, %+v at the end; want 6 windows", first, last)
	}
}
