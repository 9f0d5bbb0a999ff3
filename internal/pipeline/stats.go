package pipeline

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Stats counts what went through the pipeline, in total, per source and per
// output. Everything is safe to read while the pipeline runs.
type Stats struct {
	events       atomic.Int64
	analyzeNanos atomic.Int64
	batches      atomic.Int64

	mu      sync.Mutex
	byLevel [17]int64
	byRule  map[string]int64
	sources map[string]*sourceCounters

	outputs []outputCounters // fixed at New, one per output
}

func newStats() Stats {
	return Stats{byRule: make(map[string]int64), sources: make(map[string]*sourceCounters)}
}

func (s *Stats) count(r *sink.Record) {
	s.mu.Lock()
	if r.Level >= 0 && r.Level < len(s.byLevel) {
		s.byLevel[r.Level]++
	}
	s.byRule[r.RuleID]++
	s.mu.Unlock()
}

func (s *Stats) analyze(events int, d time.Duration) {
	s.events.Add(int64(events))
	s.batches.Add(1)
	s.analyzeNanos.Add(int64(d))
}

// source returns the counters of the named source, creating them. A source keeps
// its counters across Runs of the same Stats.
func (s *Stats) source(name string) *sourceCounters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.sources[name]
	if c == nil {
		c = &sourceCounters{}
		s.sources[name] = c
	}
	return c
}

// sourceCounters are what the pipeline sees of one source: what it emitted and
// what is still waiting for its acknowledgement.
type sourceCounters struct {
	batches, events, bytes, inFlight, ackErrors atomic.Int64
}

// counting wraps emit so the source's batches are counted and tracked in flight
// until acknowledged.
func (c *sourceCounters) counting(emit source.Emit) source.Emit {
	return func(ctx context.Context, b *source.Batch) error {
		n, size := len(b.Events), 0
		for i := range b.Events {
			size += len(b.Events[i].Log)
		}
		ack := b.Ack
		b.Ack = func(err error) {
			c.inFlight.Add(-1)
			if err != nil {
				c.ackErrors.Add(1)
			}
			if ack != nil {
				ack(err)
			}
		}
		c.inFlight.Add(1)
		if err := emit(ctx, b); err != nil {
			c.inFlight.Add(-1)
			b.Ack = ack
			return err
		}
		c.batches.Add(1)
		c.events.Add(int64(n))
		c.bytes.Add(int64(size))
		return nil
	}
}

// outputCounters count one output's deliveries as the pipeline sees them.
type outputCounters struct {
	name                                           string
	written, failed, retries, flushes, flushErrors atomic.Int64
}

// Snapshot is a copy of the counters.
type Snapshot struct {
	Events  int64
	Alerts  int64
	Batches int64
	// AnalyzeTime is the total time workers spent decoding and matching.
	AnalyzeTime time.Duration
	ByLevel     [17]int64
	ByRule      map[string]int64
	Sources     []SourceSnapshot
	Outputs     []OutputSnapshot
}

// SourceSnapshot counts one source's batches as the pipeline saw them.
type SourceSnapshot struct {
	Name                   string
	Batches, Events, Bytes int64
	InFlight               int64 // batches emitted and not yet acknowledged
	AckErrors              int64 // batches acknowledged with an error
}

// OutputSnapshot counts one output's deliveries.
type OutputSnapshot struct {
	Name string
	// Written alerts were accepted by Write; Failed ones were refused after retries
	// (their batches were not acknowledged, so their source delivers them again).
	Written, Failed int64
	// Retries counts repeated Write and Flush calls.
	Retries              int64
	Flushes, FlushErrors int64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{Events: s.events.Load(), Batches: s.batches.Load(),
		AnalyzeTime: time.Duration(s.analyzeNanos.Load()),
		ByLevel:     s.byLevel, ByRule: make(map[string]int64, len(s.byRule))}
	for k, v := range s.byRule {
		snap.ByRule[k] = v
		snap.Alerts += v
	}
	for name, c := range s.sources {
		snap.Sources = append(snap.Sources, SourceSnapshot{Name: name, Batches: c.batches.Load(),
			Events: c.events.Load(), Bytes: c.bytes.Load(), InFlight: c.inFlight.Load(), AckErrors: c.ackErrors.Load()})
	}
	sort.Slice(snap.Sources, func(i, j int) bool { return snap.Sources[i].Name < snap.Sources[j].Name })
	for i := range s.outputs {
		o := &s.outputs[i]
		snap.Outputs = append(snap.Outputs, OutputSnapshot{Name: o.name, Written: o.written.Load(), Failed: o.failed.Load(),
			Retries: o.retries.Load(), Flushes: o.flushes.Load(), FlushErrors: o.flushErrors.Load()})
	}
	return snap
}
