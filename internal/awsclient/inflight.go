package awsclient

import (
	"context"
	"errors"
	"iter"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// Pass runs one pass, tracked by f, of a polling source that persists acknowledgements in bulk
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
func Pass(ctx context.Context, f *source.Inflight, start func() error, units iter.Seq[error], commit func() error) error {
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
