// Package pipeline runs sources → rules → sinks with bounded queues, parallel
// matching on every core and acknowledgement: a batch is acknowledged to its source
// only after every sink has durably accepted the alerts it produced.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Matcher analyses events one at a time; each worker goroutine owns one.
type Matcher interface {
	// Analyze appends the alerts ev produces to out and returns it.
	Analyze(ev *event.Event, out []sink.Record) []sink.Record
}

// Detector hands out Matchers that share one detection state.
type Detector interface {
	NewMatcher() Matcher
}

// Output is a sink with its name and filter.
type Output struct {
	Name   string
	Sink   sink.Sink
	Filter sink.Filter
	// Archive makes the output receive every event (as an archive record from the
	// Matcher's Archive) instead of the alerts.
	Archive bool
}

// Archiver is implemented by Matchers that can record every event, for archive
// outputs. Archive appends the record of the event Analyze last processed.
type Archiver interface {
	Archive(out []sink.Record) []sink.Record
}

// Config tunes the pipeline.
type Config struct {
	// Workers is the number of matching goroutines (default: one per CPU).
	Workers int
	// Queue is the number of batches buffered between stages (default 4 per worker).
	Queue int
	// FlushInterval bounds how long accepted alerts wait before sinks are flushed and
	// their batches acknowledged (default 200ms).
	FlushInterval time.Duration
	// FlushBytes flushes early once this many alert bytes are pending (default 16 MiB).
	FlushBytes int
	// Logger receives state changes; never a line per event.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Queue <= 0 {
		c.Queue = 4 * c.Workers
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 200 * time.Millisecond
	}
	if c.FlushBytes <= 0 {
		c.FlushBytes = 16 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Pipeline wires sources to the detector and outputs.
type Pipeline struct {
	cfg      Config
	detector Detector
	outputs  []Output
	stats    Stats
	// archiving is set when an output takes every event.
	archiving bool
}

// New returns a pipeline.
func New(cfg Config, d Detector, outputs []Output) *Pipeline {
	p := &Pipeline{cfg: cfg.withDefaults(), detector: d, outputs: outputs, stats: newStats()}
	for _, o := range outputs {
		p.archiving = p.archiving || o.Archive
	}
	p.stats.outputs = make([]outputCounters, len(outputs))
	for i, o := range outputs {
		p.stats.outputs[i].name = o.Name
	}
	return p
}

// Stats returns the pipeline's counters so far.
func (p *Pipeline) Stats() *Stats { return &p.stats }

// processed is a batch after matching: its alerts and how to acknowledge it.
type processed struct {
	records  []sink.Record
	archives []sink.Record
	bytes    int
	ack      func(error)
}

// Run runs the sources until they all return, then drains the queues, flushes the
// outputs and acknowledges what they accepted. Cancelling ctx stops the sources;
// batches already taken are still finished, flushed and acknowledged.
func (p *Pipeline) Run(ctx context.Context, sources []source.Source) error {
	in := make(chan *source.Batch, p.cfg.Queue)
	out := make(chan processed, p.cfg.Queue)

	var workers sync.WaitGroup
	for i := 0; i < p.cfg.Workers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			p.work(in, out)
		}()
	}
	var committers []source.Committer
	for _, s := range sources {
		if c, ok := s.(source.Committer); ok {
			committers = append(committers, c)
		}
	}
	writerDone := make(chan error, 1)
	go func() { writerDone <- p.write(out, committers) }()

	emit := func(ctx context.Context, b *source.Batch) error {
		select {
		case in <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var srcErrs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range sources {
		wg.Add(1)
		c := p.stats.source(s.Name())
		go func() {
			defer wg.Done()
			err := s.Run(ctx, c.counting(emit))
			if err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				srcErrs = append(srcErrs, fmt.Errorf("source %s: %w", s.Name(), err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(in)
	workers.Wait()
	close(out)
	werr := <-writerDone
	return errors.Join(append(srcErrs, werr)...)
}

func (p *Pipeline) work(in <-chan *source.Batch, out chan<- processed) {
	m := p.detector.NewMatcher()
	for b := range in {
		var recs, archives []sink.Record
		arch, archiving := m.(Archiver)
		archiving = archiving && p.archiving
		t0 := time.Now()
		for i := range b.Events {
			recs = m.Analyze(&b.Events[i], recs)
			if archiving {
				archives = arch.Archive(archives)
			}
		}
		p.stats.analyze(len(b.Events), time.Since(t0))
		n := 0
		for i := range recs {
			n += len(recs[i].JSON)
		}
		ack := b.Ack
		source.Release(b)
		for i := range archives {
			n += len(archives[i].JSON)
		}
		out <- processed{records: recs, archives: archives, bytes: n, ack: ack}
	}
}

// write delivers alerts to every output, flushing them and acknowledging batches
// every FlushInterval, when FlushBytes accumulate, and at the end.
func (p *Pipeline) write(out <-chan processed, committers []source.Committer) error {
	var pending []func(error)
	pendingBytes := 0
	ticker := time.NewTicker(p.cfg.FlushInterval)
	defer ticker.Stop()
	var firstErr error
	flush := func() {
		var err error
		if len(pending) > 0 {
			err = p.flush()
			for _, ack := range pending {
				if ack != nil {
					ack(err)
				}
			}
		}
		// Sources commit even without new acknowledgements: one may have finished
		// units that produced no batch at all.
		for _, c := range committers {
			if cerr := c.Commit(); cerr != nil && err == nil {
				err = cerr
			}
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		pending, pendingBytes = pending[:0], 0
	}
	for {
		select {
		case pr, ok := <-out:
			if !ok {
				flush()
				return firstErr
			}
			if err := p.deliver(pr.records, pr.archives); err != nil {
				if pr.ack != nil {
					pending = append(pending, func(error) { pr.ack(err) })
				}
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			pending = append(pending, pr.ack)
			pendingBytes += pr.bytes
			if pendingBytes >= p.cfg.FlushBytes {
				flush()
			}
		case <-ticker.C:
			flush()
		}
	}
}

// sinkRetry is how long a failing output is retried before the batch is failed (and
// so left unacknowledged, for its source to deliver again).
var sinkRetry = retry.Policy{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Attempts: 8}

func (p *Pipeline) deliver(alerts, archives []sink.Record) error {
	for i := range alerts {
		p.stats.count(&alerts[i])
	}
	if len(alerts) == 0 && len(archives) == 0 {
		return nil
	}
	var errs []error
	for i, o := range p.outputs {
		oc := &p.stats.outputs[i]
		recs := alerts
		if o.Archive {
			recs = archives
		}
		sel := recs
		if !o.Filter.IsZero() {
			sel = sel[:0:0]
			for i := range recs {
				if o.Filter.Match(&recs[i]) {
					sel = append(sel, recs[i])
				}
			}
		}
		if len(sel) == 0 {
			continue
		}
		tries := 0
		err := retry.Do(context.Background(), sinkRetry, func(ctx context.Context) error {
			tries++
			return o.Sink.Write(ctx, sel)
		})
		oc.retries.Add(int64(tries - 1))
		if err != nil {
			oc.failed.Add(int64(len(sel)))
			errs = append(errs, fmt.Errorf("output %s: write: %w", o.Name, err))
		} else {
			oc.written.Add(int64(len(sel)))
		}
	}
	return errors.Join(errs...)
}

func (p *Pipeline) flush() error {
	var errs []error
	for i, o := range p.outputs {
		oc := &p.stats.outputs[i]
		tries := 0
		err := retry.Do(context.Background(), sinkRetry, func(ctx context.Context) error {
			tries++
			return o.Sink.Flush(ctx)
		})
		oc.retries.Add(int64(tries - 1))
		oc.flushes.Add(1)
		if err != nil {
			oc.flushErrors.Add(1)
			errs = append(errs, fmt.Errorf("output %s: flush: %w", o.Name, err))
		}
	}
	return errors.Join(errs...)
}
