package source

import (
	"context"
	"sync"
)

// Inflight counts a source's batches handed to the pipeline and not yet
// acknowledged, so a pass can wait for the previous one's fate before reading on
// from its state. The zero value is ready to use.
type Inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{}
}

// Add notes a batch handed over.
func (f *Inflight) Add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
}

// Done notes a batch acknowledged.
func (f *Inflight) Done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
}

// Count returns the number of batches not yet acknowledged.
func (f *Inflight) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// Wait returns when nothing is in flight, or when ctx ends.
func (f *Inflight) Wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Emit hands b to emit and counts it in flight until it is acknowledged; the
// acknowledgement first runs onAck with its error. When emit fails, b is
// acknowledged with that error (so onAck sees it) and the error is returned.
func (f *Inflight) Emit(ctx context.Context, emit Emit, b *Batch, onAck func(err error)) error {
	f.Add()
	b.Ack = func(err error) {
		defer f.Done()
		onAck(err)
	}
	if err := emit(ctx, b); err != nil {
		b.Ack(err)
		return err
	}
	return nil
}
