// Package source defines how collectors hand events to the pipeline: in batches that
// belong to one source unit (a file, an object, a message) and are acknowledged only
// after every alert they produced has been durably accepted by every output.
package source

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
)

// Batch is a group of events from one source unit. Its Ack is called exactly once by
// the pipeline: with nil when all the batch's alerts are durable in every output, or
// with the error that prevented it.
type Batch struct {
	Events []event.Event
	// Ack reports the batch's fate to its source; nil means nothing to report.
	Ack func(err error)
	// Arena backs the events' Log bytes, so a batch can be recycled as a whole.
	Arena []byte
}

// Add appends an event whose Log is copied into the batch's arena. Earlier events
// keep valid Log slices when the arena grows: append copies the bytes they see.
func (b *Batch) Add(ev event.Event, log []byte) {
	start := len(b.Arena)
	b.Arena = append(b.Arena, log...)
	ev.Log = b.Arena[start:len(b.Arena):len(b.Arena)]
	b.Events = append(b.Events, ev)
}

// Emit hands a batch to the pipeline. It blocks while the pipeline is full, which is
// how back-pressure reaches sources, and fails when ctx ends.
type Emit func(ctx context.Context, b *Batch) error

// Source is a collector. Run emits batches until the source has nothing more to do
// (once mode) or ctx ends (service mode), and returns why it stopped.
type Source interface {
	Name() string
	Run(ctx context.Context, emit Emit) error
}

// Stats are a source's counters, for logs and metrics.
type Stats struct {
	Units, Events, Errors, Skipped int64
	// Newest is the time of the newest data read (an object's or file's last
	// modification, a message's send time); zero when the source cannot tell. The
	// service reports now - Newest as the source's lag.
	Newest time.Time
}

// Progress is how far a source's current pass has come, so a long backfill can
// show an estimated time left.
type Progress struct {
	// Done and Total count units of the pass; Total 0 means unknown.
	Done, Total int64
	// Unit names what is counted ("files", "days").
	Unit string
}

// ProgressReporter is implemented by sources that know the size of a pass.
type ProgressReporter interface {
	Progress() Progress
}

// NewestTime keeps the latest of the times it is given, safely for concurrent use.
type NewestTime struct{ ns atomic.Int64 }

// Observe records t if it is newer than what was seen.
func (n *NewestTime) Observe(t time.Time) {
	v := t.UnixNano()
	for {
		old := n.ns.Load()
		if v <= old || n.ns.CompareAndSwap(old, v) {
			return
		}
	}
}

// Time returns the newest time observed, or the zero time.
func (n *NewestTime) Time() time.Time {
	v := n.ns.Load()
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v)
}

// StatsReporter is implemented by sources that count their work.
type StatsReporter interface {
	Stats() Stats
}

// Committer is implemented by sources that persist acknowledgements in bulk: the
// pipeline calls Commit after each group of acknowledgements, so a source can write
// its checkpoint once per group instead of once per batch.
type Committer interface {
	Commit() error
}

// freeBatches recycles batches and their arenas: a source takes one with NewBatch
// and the pipeline returns it with Release once every event in it has been matched.
// A bounded channel, unlike sync.Pool, keeps the arenas across garbage collections.
var freeBatches = make(chan *Batch, 256)

// NewBatch returns an empty batch, reusing a released one when possible.
func NewBatch() *Batch {
	select {
	case b := <-freeBatches:
		return b
	default:
		return new(Batch)
	}
}

// Release returns a batch for reuse. Its events and arena must not be used after.
func Release(b *Batch) {
	if cap(b.Arena) > 16<<20 {
		return // do not keep the arena of an unusually large batch
	}
	clear(b.Events)
	b.Events, b.Arena, b.Ack = b.Events[:0], b.Arena[:0], nil
	select {
	case freeBatches <- b:
	default:
	}
}

// Scheduled is implemented by polling sources that have their own interval between
// passes in service mode.
type Scheduled interface {
	Interval() time.Duration
}
