package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// startProgress logs, every interval, how far each busy source has come: units and
// events done, the event rate since the last line, and for sources that know the
// size of their pass, the share done and the estimated time left. It returns a
// function that stops it.
func startProgress(ctx context.Context, log *slog.Logger, interval time.Duration, g *generation) func() {
	if interval <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p := progressLog{log: log, last: map[string]progressPoint{}, start: time.Now()}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				p.tick(now, g)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

type progressPoint struct {
	at     time.Time
	events int64
}

type progressLog struct {
	log   *slog.Logger
	start time.Time
	last  map[string]progressPoint
}

func (p *progressLog) tick(now time.Time, g *generation) {
	snap := g.p.Stats().Snapshot()
	events := map[string]int64{}
	for _, s := range snap.Sources {
		events[s.Name] = s.Events
	}
	for i, src := range g.sources {
		name := src.Name()
		prev, seen := p.last[name]
		if !seen {
			prev = progressPoint{at: p.start}
		}
		cur := progressPoint{at: now, events: events[name]}
		p.last[name] = cur
		passStart := p.start
		if g.scheds != nil {
			st := g.scheds[i].Status()
			if !st.Running {
				continue // idle between passes: nothing to report
			}
			passStart = st.LastStart
		}
		if cur.events == prev.events && seen {
			continue
		}
		rate := float64(cur.events-prev.events) / now.Sub(prev.at).Seconds()
		attrs := []any{"source", name, "events", cur.events, "events_per_s", int64(rate)}
		if r, ok := src.(source.StatsReporter); ok {
			st := r.Stats()
			attrs = append(attrs, "units", st.Units, "errors", st.Errors)
			if !st.Newest.IsZero() {
				attrs = append(attrs, "newest_data", st.Newest.UTC().Format(time.RFC3339))
			}
		}
		if r, ok := src.(source.ProgressReporter); ok {
			pr := r.Progress()
			if pr.Total > 0 && pr.Done > 0 {
				attrs = append(attrs, "done", pr.Done, "of", pr.Total, "unit", pr.Unit,
					"percent", 100*pr.Done/pr.Total)
				if left := eta(now.Sub(passStart), pr.Done, pr.Total); left > 0 {
					attrs = append(attrs, "eta", left.Round(time.Second).String())
				}
			}
		}
		p.log.Info("progress", attrs...)
	}
}

// eta extrapolates the time left from the time the done part took.
func eta(elapsed time.Duration, done, total int64) time.Duration {
	if done <= 0 || done >= total {
		return 0
	}
	return time.Duration(float64(elapsed) * float64(total-done) / float64(done))
}
