package source

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A batch handed over stays in flight until acknowledged, its onAck sees the
// acknowledgement's error, and Wait returns once nothing is in flight.
func TestInflightEmit(t *testing.T) {
	var f Inflight
	var held *Batch
	var acked []error
	hold := func(_ context.Context, b *Batch) error { held = b; return nil }
	if err := f.Emit(context.Background(), hold, NewBatch(), func(err error) { acked = append(acked, err) }); err != nil {
		t.Fatal(err)
	}
	if f.Count() != 1 {
		t.Fatalf("%d in flight after emit, want 1", f.Count())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := f.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a batch in flight returned %v", err)
	}
	refused := errors.New("output refused")
	held.Ack(refused)
	if f.Count() != 0 || len(acked) != 1 || acked[0] != refused {
		t.Fatalf("after ack: %d in flight, onAck saw %v", f.Count(), acked)
	}
	if err := f.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A failed emit acknowledges the batch with its error and returns it.
	down := errors.New("pipeline stopped")
	err := f.Emit(context.Background(), func(context.Context, *Batch) error { return down }, NewBatch(),
		func(err error) { acked = append(acked, err) })
	if !errors.Is(err, down) || f.Count() != 0 || len(acked) != 2 || acked[1] != down {
		t.Fatalf("failed emit: returned %v, %d in flight, onAck saw %v", err, f.Count(), acked)
	}
}
