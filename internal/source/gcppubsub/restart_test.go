package gcppubsub

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
)

// restartCase publishes n messages, consumes some with a first source that
// acknowledges only its first batches, stops it with stop, then drains with a
// second source (a new client) and checks: no message lost, each acknowledged
// on the server, and the second source delivers only messages the server had
// not seen acknowledged when the first one stopped.
func restartCase(t *testing.T, stop func(e *env, d *dialer, cancel context.CancelFunc, skew *atomic.Int64)) {
	e := newEnv(t)
	var skew atomic.Int64
	e.srv.SetTimeNowFunc(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	const n = 120
	var data [][]byte
	for i := range n {
		data = append(data, fmt.Appendf(nil, `{"insertId":"%d"}`, i))
	}
	ids := e.publish("logs", data...)

	// First process: acknowledges its first three batches, holds the rest.
	var mu sync.Mutex
	batches := 0
	ackedBySink := map[string]bool{}
	first := &sink{}
	first.decide = func(evs []event.Event) (error, bool) {
		mu.Lock()
		defer mu.Unlock()
		if batches++; batches <= 3 {
			for _, ev := range evs {
				ackedBySink[ev.Origin.Unit] = true
			}
			return nil, false
		}
		return nil, true
	}
	d := &dialer{}
	cfg := e.config()
	cfg.BatchSize = 10
	s1 := e.newSource(t, cfg, e.settings(d))
	ctx, cancel := context.WithCancel(context.Background())
	wait := run(ctx, s1, first.emit)
	waitFor(t, "the first process to hold messages", func() bool { return first.count() >= 50 })
	stop(e, d, cancel, &skew)
	if err := wait(); err != context.Canceled {
		t.Errorf("first Run: %v", err)
	}
	first.release(nil) // too late: the messages were given back (or the process is gone)
	// What the server had acknowledged when the first process was gone.
	ackedBefore := map[string]bool{}
	for id, m := range e.messages("logs") {
		if m.Acks > 0 {
			ackedBefore[unitOf("logs-sub", id)] = true
		}
	}
	if len(ackedBefore) == 0 || len(ackedBefore) == n {
		t.Fatalf("%d of %d messages acknowledged by the first process; the test wants some, not all", len(ackedBefore), n)
	}

	// Messages that were in flight on the first process's streams when it
	// stopped come back only when their ack deadline lapses: jump past it.
	// The same holds for a message in flight when a drain ends, so drain
	// again (as the next run would) while some are unacknowledged.
	second := &sink{}
	set := e.settings(nil)
	set.Once = true
	for round := 1; ; round++ {
		skew.Add(int64(2 * time.Minute))
		s2 := e.newSource(t, cfg, set)
		if err := s2.Run(context.Background(), second.emit); err != nil {
			t.Fatal(err)
		}
		if unacked(e) == 0 || round == 3 {
			break
		}
	}
	firstCounts, secondCounts := byUnit(first.all()), byUnit(second.all())
	for _, id := range ids {
		u := unitOf("logs-sub", id)
		switch {
		case firstCounts[u]+secondCounts[u] == 0:
			t.Errorf("message %s lost", id)
		case ackedBefore[u] && secondCounts[u] > 0:
			t.Errorf("message %s was acknowledged, yet delivered again", id)
		case !ackedBefore[u] && secondCounts[u] != 1:
			t.Errorf("message %s not acknowledged by the first process: %d events from the second, want 1", id, secondCounts[u])
		}
	}
	for id, m := range e.messages("logs") {
		if m.Acks != 1 {
			t.Errorf("message %s: %d acks, %d deliveries, modacks %+v", id, m.Acks, m.Deliveries, m.Modacks)
		}
	}
	t.Logf("first process: %d events, %d acknowledged; second: %d events", first.count(), len(ackedBefore), second.count())
	mu.Lock()
	defer mu.Unlock()
	for u := range ackedBySink {
		if !ackedBefore[u] && !stopped(d) {
			t.Errorf("%s: its batch was acknowledged before the stop, but the message was not", u)
		}
	}
}

func unacked(e *env) int {
	n := 0
	for _, m := range e.messages("logs") {
		if m.Acks == 0 {
			n++
		}
	}
	return n
}

func stopped(d *dialer) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dead
}

// TestRestartAfterStop: skywatch stops with batches unacknowledged (a reload, a
// SIGTERM): their messages are nacked after the shutdown grace and a new
// process reads them, and only them.
func TestRestartAfterStop(t *testing.T) {
	restartCase(t, func(_ *env, _ *dialer, cancel context.CancelFunc, _ *atomic.Int64) { cancel() })
}

// TestRestartAfterCrash: the process dies (its connections are cut, nothing is
// nacked): the messages it held come back when their ack deadlines lapse (the
// server's clock jumps) and a new process reads them.
func TestRestartAfterCrash(t *testing.T) {
	restartCase(t, func(_ *env, d *dialer, cancel context.CancelFunc, skew *atomic.Int64) {
		d.kill()
		cancel()
	})
}
