package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// passSource counts its passes and how many of them ever overlapped.
type passSource struct {
	name     string
	running  *atomic.Int32
	maxSeen  *atomic.Int32
	passes   atomic.Int32
	fail     bool
	interval time.Duration
}

func (p *passSource) Name() string            { return p.name }
func (p *passSource) Interval() time.Duration { return p.interval }
func (p *passSource) Run(ctx context.Context, _ source.Emit) error {
	n := p.running.Add(1)
	for {
		m := p.maxSeen.Load()
		if n <= m || p.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	p.running.Add(-1)
	p.passes.Add(1)
	if p.fail {
		return errors.New("listing refused")
	}
	return nil
}

func TestScheduledPassesRespectTheCap(t *testing.T) {
	var running, maxSeen atomic.Int32
	sem := make(chan struct{}, 1)
	var srcs []*passSource
	var scheds []*scheduled
	for i, name := range []string{"a", "b", "c"} {
		s := &passSource{name: name, running: &running, maxSeen: &maxSeen, interval: time.Millisecond, fail: i == 2}
		srcs = append(srcs, s)
		scheds = append(scheds, schedule(s, sem, slog.New(slog.DiscardHandler)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range scheds {
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(ctx, nil) }()
	}
	waitFor(t, "three passes of every source", func() bool {
		for _, s := range srcs {
			if s.passes.Load() < 3 {
				return false
			}
		}
		return true
	})
	cancel()
	wg.Wait()
	if maxSeen.Load() != 1 {
		t.Fatalf("%d passes ran at once with max_concurrent_passes 1", maxSeen.Load())
	}
	if st := scheds[2].Status(); st.LastError != "listing refused" || st.Passes < 3 || st.Running {
		t.Fatalf("status of the failing source: %+v", st)
	}
	if st := scheds[0].Status(); st.LastError != "" || st.LastEnd.IsZero() {
		t.Fatalf("status of a good source: %+v", st)
	}
}
