package awss3

import (
	"context"
	"sync"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Batches delivers the events of one object in batches and follows their
// acknowledgements, so that the object is reported exactly once, when its fate is
// known: after Finish, as soon as every batch emitted is acknowledged, Done is
// called with true if no batch was acknowledged with an error and Finish was
// given none, else with false (the object must be read again). The aws-s3
// Reader and the aws-sqs source's Security Lake reader deliver each object
// through one.
type Batches struct {
	// Emit hands a full batch to the pipeline; Done reports the object.
	Emit source.Emit
	Done func(ok bool)
	// MaxEvents and MaxBytes bound a batch: it is emitted once it holds
	// MaxEvents events or MaxBytes bytes of event text.
	MaxEvents, MaxBytes int

	batch   *source.Batch
	mu      sync.Mutex
	pending int  // batches emitted and not acknowledged
	failed  bool // a batch was acknowledged with an error, or reading failed
	ended   bool // reading is over
}

// Add appends one event with its text to the open batch, emitting the batch when
// it is full. An error is Emit's.
func (b *Batches) Add(ctx context.Context, ev event.Event, raw []byte) error {
	if b.batch == nil {
		b.batch = source.NewBatch()
	}
	b.batch.Add(ev, raw)
	if len(b.batch.Events) >= b.MaxEvents || len(b.batch.Arena) >= b.MaxBytes {
		return b.Flush(ctx)
	}
	return nil
}

// Flush emits the open batch, if any. A batch Emit refuses counts as
// acknowledged with its error.
func (b *Batches) Flush(ctx context.Context) error {
	batch := b.batch
	if batch == nil {
		return nil
	}
	b.batch = nil
	b.mu.Lock()
	b.pending++
	b.mu.Unlock()
	batch.Ack = b.ack
	if err := b.Emit(ctx, batch); err != nil {
		b.ack(err)
		return err
	}
	return nil
}

// ack is every emitted batch's acknowledgement.
func (b *Batches) ack(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending--
	b.failed = b.failed || err != nil
	b.check()
}

// Finish records that reading the object is over, failed when err is not nil.
// Events added and not flushed are not delivered.
func (b *Batches) Finish(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ended = true
	b.failed = b.failed || err != nil
	b.check()
}

// check calls Done once reading is over and every batch is acknowledged.
// Called with b.mu held.
func (b *Batches) check() {
	if !b.ended || b.pending > 0 {
		return
	}
	b.ended = false // report once
	b.Done(!b.failed)
}
