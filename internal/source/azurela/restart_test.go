package azurela

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// TestKillMidWindowThenRestart: the process dies in the middle of a window
// (split into pieces by the service's limit) with some batches acknowledged
// and committed, others handed over but not acknowledged, the rest not read.
// After a restart from the checkpoint file, exactly the rows not acknowledged
// are delivered: all of them, each once.
func TestKillMidWindowThenRestart(t *testing.T) {
	e := newEnv(t)
	e.la.RowLimit = 40
	e.cfg.BatchSize = 10
	want := e.addRows(ws1, "r", 100, noon.Add(-110*time.Minute), time.Minute)
	dir := t.TempDir()
	st := openStore(t, dir)
	s := e.newSource(t, "la", st)

	// The pipeline takes 5 batches, acknowledges 3 of them (commits), then the
	// process is killed while the source waits to hand over the 6th.
	killed := errors.New("killed")
	var taken []*source.Batch
	emit := func(_ context.Context, b *source.Batch) error {
		if len(taken) == 5 {
			return killed
		}
		taken = append(taken, b)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Run(ctx, emit); !errors.Is(err, killed) {
		t.Fatalf("first run: %v", err)
	}
	delivered := map[string]bool{}
	for _, b := range taken[:3] {
		for u := range users(t, b.Events) {
			delivered[u] = true
		}
		b.Ack(nil)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	// Batches 4 and 5 die with the process: never acknowledged.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openStore(t, dir)
	defer st.Close()
	e.clock.Add(time.Minute)
	s = e.newSource(t, "la", st)
	c := &collector{}
	mustRunPass(t, s, c)
	got := users(t, c.take())
	for _, u := range want {
		switch {
		case delivered[u] && got[u] != 0:
			t.Errorf("%s was acknowledged before the kill and sent again", u)
		case !delivered[u] && got[u] != 1:
			t.Errorf("%s sent %d times after the restart, want once", u, got[u])
		}
	}
	if len(delivered) < 20 || len(delivered)+len(got) != len(want) {
		t.Errorf("%d delivered before, %d after; want %d in all", len(delivered), len(got), len(want))
	}

	// Another restart and pass: nothing more.
	e.clock.Add(time.Minute)
	mustRunPass(t, e.newSource(t, "la", st), c)
	if n := len(c.take()); n != 0 {
		t.Errorf("a pass after the recovery sent %d events", n)
	}
}

// TestCrashBeforeAnyCommit: nothing committed means the whole window is read
// again from the stored first cursor, even on a later clock.
func TestCrashBeforeAnyCommit(t *testing.T) {
	e := newEnv(t)
	want := e.addRows(ws1, "r", 12, noon.Add(-90*time.Minute), time.Minute)
	dir := t.TempDir()
	st := openStore(t, dir)
	s := e.newSource(t, "la", st)
	c := &collector{hold: true}
	if err := s.Run(context.Background(), c.emit); err != nil {
		t.Fatal(err)
	}
	c.take()
	_ = st.Close() // killed: no acknowledgement ever came

	st = openStore(t, dir)
	defer st.Close()
	e.clock.Add(3 * time.Hour) // the restart comes later than time_offset reaches
	s = e.newSource(t, "la", st)
	c = &collector{}
	mustRunPass(t, s, c)
	got := users(t, c.take())
	for _, u := range want {
		if got[u] != 1 {
			t.Errorf("%s sent %d times after the restart", u, got[u])
		}
	}
}
