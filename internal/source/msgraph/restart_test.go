package msgraph

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// TestCrashMidWindow: only the second of three batches reaches the outputs
// before the process dies; a new source on the same checkpoint sends exactly
// the other two, and once the window completes the per-record entries
// outside the lookback are gone.
func TestCrashMidWindow(t *testing.T) {
	f := newFakes(t)
	f.cfg.PageSize = 40
	f.cfg.Resources = []Resource{{Resource: "auditLogs/signIns"}}
	f.graph.Put("auditLogs/signIns", signIns("s", 100, day.Add(time.Hour), time.Second)...)
	path := storePath(t)
	clk := &clock{t: noon}

	st := openStore(t, path)
	s := mustNew(t, f.cfg, f.settings("graph", st, clk, nil, nil))
	c := &collector{hold: true}
	if err := s.Run(context.Background(), c.emit); err != nil {
		t.Fatal(err)
	}
	first := c.take()
	if len(first) != 100 || len(c.acks) != 3 {
		t.Fatalf("%d events in %d batches, want 100 in 3", len(first), len(c.acks))
	}
	c.acks[1](nil) // page 2 reaches the outputs, then the process dies
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	s = mustNew(t, f.cfg, f.settings("graph", st, clk, nil, nil))
	c = &collector{}
	mustPass(t, s, c)
	again := units(c.take())
	if len(again) != 60 {
		t.Errorf("after the crash %d sign-ins were sent, want the 60 not acknowledged", len(again))
	}
	for _, ev := range first[40:80] {
		if again[ev.Origin.Unit] > 0 {
			t.Errorf("%s was acknowledged before the crash and sent again", ev.Origin.Unit)
		}
	}
	var keys []string
	_ = st.ForEach("graph", func(k string, _ []byte) error { keys = append(keys, k); return nil })
	if len(keys) != 1 || keys[0] != "cursor/auditLogs/signIns" {
		t.Errorf("checkpoint keys after the window completed: %q, want only the cursor", keys)
	}
}

// TestCancelMidWindowThenRestart: the context is cancelled while the second
// page is being handed over (a kill); a new instance on the same checkpoint
// delivers exactly what was not acknowledged, and the union is every record
// once.
func TestCancelMidWindowThenRestart(t *testing.T) {
	f := newFakes(t)
	f.cfg.PageSize = 25
	f.cfg.Resources = []Resource{{Resource: "auditLogs/signIns"}, {Resource: "security/alerts_v2"}}
	f.graph.Put("auditLogs/signIns", signIns("s", 100, day.Add(time.Hour), time.Second)...)
	f.graph.Put("security/alerts_v2", alertV2("a1", day.Add(time.Hour), day.Add(2*time.Hour), "medium", "new", "Execution", "x"))
	path := storePath(t)
	clk := &clock{t: noon}
	st := openStore(t, path)
	s := mustNew(t, f.cfg, f.settings("graph", st, clk, nil, nil))

	ctx, cancel := context.WithCancel(context.Background())
	delivered := map[string]int{}
	batches := 0
	emit := func(ctx context.Context, b *source.Batch) error {
		batches++
		if batches == 2 {
			cancel()
			return ctx.Err() // the pipeline refuses the batch as it stops
		}
		for _, ev := range b.Events {
			delivered[ev.Origin.Unit]++
		}
		b.Ack(nil)
		return nil
	}
	if err := s.Run(ctx, emit); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("run: %v, want the cancellation", err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if len(delivered) != 25 {
		t.Fatalf("%d delivered before the kill, want the first page", len(delivered))
	}

	clk.Set(noon.Add(time.Minute))
	st = openStore(t, path)
	defer st.Close()
	s = mustNew(t, f.cfg, f.settings("graph", st, clk, nil, nil))
	c := &collector{}
	mustPass(t, s, c)
	for _, ev := range c.take() {
		delivered[ev.Origin.Unit]++
	}
	if len(delivered) != 101 {
		t.Errorf("%d distinct records after the restart, want 101", len(delivered))
	}
	for u, n := range delivered {
		if n != 1 {
			t.Errorf("%s delivered %d times", u, n)
		}
	}
}

// TestFailedAckIsSentAgain: a batch the outputs refused is sent again on the
// next pass; acknowledged ones are not.
func TestFailedAckIsSentAgain(t *testing.T) {
	f := newFakes(t)
	f.cfg.PageSize = 10
	f.cfg.Resources = []Resource{{Resource: "auditLogs/signIns"}}
	f.graph.Put("auditLogs/signIns", signIns("s", 30, day.Add(time.Hour), time.Second)...)
	clk := &clock{t: noon}
	s := mustNew(t, f.cfg, f.settings("graph", nil, clk, nil, nil))
	c := &collector{hold: true}
	if err := s.Run(context.Background(), c.emit); err != nil {
		t.Fatal(err)
	}
	evs := c.take()
	c.acks[0](nil)
	c.acks[1](errOutput)
	c.acks[2](nil)
	c.hold, c.acks = false, nil
	clk.Set(noon.Add(time.Minute))
	mustPass(t, s, c)
	got := units(c.take())
	if len(got) != 10 {
		t.Fatalf("second pass sent %d, want the 10 of the refused batch", len(got))
	}
	for _, ev := range evs[10:20] {
		if got[ev.Origin.Unit] != 1 {
			t.Errorf("%s of the refused batch not sent again", ev.Origin.Unit)
		}
	}
}

// TestDefaultStartIsKept: without only_logs_after the first pass starts at
// midnight UTC and stores it; a restart days later reads the days between.
func TestDefaultStartIsKept(t *testing.T) {
	f := newFakes(t)
	f.cfg.OnlyLogsAfter = ""
	f.cfg.Resources = []Resource{{Resource: "auditLogs/signIns"}}
	f.graph.Put("auditLogs/signIns", signIn("before", day.Add(-time.Hour), "a@contoso.com", "192.0.2.1", 0))
	path := storePath(t)
	clk := &clock{t: noon}
	st := openStore(t, path)
	s := mustNew(t, f.cfg, f.settings("graph", st, clk, nil, nil))
	c := &collector{}
	mustPass(t, s, c)
	if evs := c.take(); len(evs) != 0 {
		t.Errorf("first pass read %v from before today", units(evs))
	}
	st.Close()
	f.graph.Put("auditLogs/signIns", signIn("between", day.Add(30*time.Hour), "a@contoso.com", "192.0.2.1", 0))
	clk.Set(day.Add(72 * time.Hour))
	st = openStore(t, path)
	defer st.Close()
	s = mustNew(t, f.cfg, f.settings("graph", st, clk, nil, nil))
	mustPass(t, s, c)
	if got := units(c.take()); len(got) != 1 || got["auditLogs/signIns/between"] != 1 {
		t.Errorf("restart two days later read %v, want the sign-in of the day between", got)
	}
}
