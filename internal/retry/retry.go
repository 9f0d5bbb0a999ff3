// Package retry is skywatch's one retry helper: exponential backoff with full jitter
// and a cap, stopping early on permanent errors or when the context ends.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Policy says how to retry. The zero value retries forever from 100 ms up to 30 s.
type Policy struct {
	Initial time.Duration // first wait (default 100ms)
	Max     time.Duration // longest wait (default 30s)
	// Attempts bounds the number of calls; 0 means until ctx ends.
	Attempts int
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Do calls fn until it succeeds, returns a permanent error, the attempts are used up
// or ctx ends. It returns fn's last error (or ctx's).
func Do(ctx context.Context, p Policy, fn func(ctx context.Context) error) error {
	if p.Initial <= 0 {
		p.Initial = 100 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	wait := p.Initial
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if IsPermanent(err) || (p.Attempts > 0 && attempt >= p.Attempts) {
			return err
		}
		d := time.Duration(rand.Int64N(int64(wait)) + 1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, p.Max)
	}
}
