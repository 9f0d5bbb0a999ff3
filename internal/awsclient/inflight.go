package awsclient

import (
	"context"
	"errors"
	"iter"
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

// Pass runs one pass of a polling source that persists acknowledgements in bulk
// (source.Committer):
//
//  1. it waits until the previous pass's batches are all acknowledged, so the
//     pass starts from settled state;
//  2. it calls start (which loads the checkpoints on the first pass) and gives up
//     on its error;
//  3. it ranges over units, each step of which reads one unit and yields its
//     error. A failed unit does not stop the next ones, but once ctx has ended an
//     error ends the pass, and Pass returns ctx's error;
//  4. when none of the pass's batches is in flight, no acknowledgement will lead
//     to a Commit, so it calls commit itself to write what the pass settled
//     without a batch (a first starting point, say).
//
// It returns the units' and commit's errors joined.
func (f *Inflight) Pass(ctx context.Context, start func() error, units iter.Seq[error], commit func() error) error {
	if err := f.Wait(ctx); err != nil {
		return err
	}
	if err := start(); err != nil {
		return err
	}
	var errs []error
	for err := range units {
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		errs = append(errs, err)
	}
	if f.Count() == 0 {
		if err := commit(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
