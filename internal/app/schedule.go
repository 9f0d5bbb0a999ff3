package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// defaultInterval is the time between passes of a polling source that has no
// interval setting of its own.
const defaultInterval = time.Minute

// restartDelay is how long a continuous source (a queue) waits before running
// again after Run returned.
const restartDelay = 5 * time.Second

// scheduled runs a source in service mode: a pass every interval for polling
// sources (at most MaxConcurrentPasses at once, through sem), or continuously for
// queue sources, restarting after a failure. It records each pass for the
// sources API and the progress log.
type scheduled struct {
	source.Source
	interval   time.Duration
	continuous bool
	sem        chan struct{}
	log        *slog.Logger

	mu sync.Mutex
	st PassStatus
}

// PassStatus is what the service knows of a source's passes.
type PassStatus struct {
	Running   bool
	Passes    int64
	LastStart time.Time
	LastEnd   time.Time
	LastError string
}

func schedule(s source.Source, sem chan struct{}, log *slog.Logger) *scheduled {
	sc := &scheduled{Source: s, interval: defaultInterval, sem: sem, log: log}
	if p, ok := s.(source.Scheduled); ok && p.Interval() > 0 {
		sc.interval = p.Interval()
	} else if _, ok := s.(source.Scheduled); !ok {
		_, sc.continuous = s.(continuousSource)
	}
	return sc
}

// continuousSource marks sources whose Run does not return in service mode.
type continuousSource interface{ Continuous() bool }

// Status returns the pass status.
func (s *scheduled) Status() PassStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *scheduled) Run(ctx context.Context, emit source.Emit) error {
	for {
		if !s.continuous && s.sem != nil {
			select {
			case s.sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		s.mu.Lock()
		s.st.Running, s.st.LastStart = true, time.Now()
		s.mu.Unlock()
		err := s.Source.Run(ctx, emit)
		if !s.continuous && s.sem != nil {
			<-s.sem
		}
		s.mu.Lock()
		s.st.Running, s.st.LastEnd = false, time.Now()
		s.st.Passes++
		if ctx.Err() == nil { // a pass cut short by a stop says nothing new
			s.st.LastError = ""
			if err != nil {
				s.st.LastError = err.Error()
			}
		}
		s.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.log.Error("source pass failed", "source", s.Name(), "err", err)
		}
		wait := s.interval
		if s.continuous {
			wait = restartDelay
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Commit passes acknowledgements through to the wrapped source.
func (s *scheduled) Commit() error {
	if c, ok := s.Source.(source.Committer); ok {
		return c.Commit()
	}
	return nil
}

// Stats passes the wrapped source's counters through.
func (s *scheduled) Stats() source.Stats {
	if r, ok := s.Source.(source.StatsReporter); ok {
		return r.Stats()
	}
	return source.Stats{}
}
