package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDoRetriesUntilSuccess(t *testing.T) {
	calls := 0
	err := Do(context.Background(), Policy{Initial: time.Millisecond}, func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("transient")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err=%v calls=%d, want nil after 3 calls", err, calls)
	}
}

func TestDoStopsOnPermanent(t *testing.T) {
	calls := 0
	base := errors.New("bad request")
	err := Do(context.Background(), Policy{Initial: time.Millisecond}, func(context.Context) error {
		calls++
		return Permanent(base)
	})
	if calls != 1 || !errors.Is(err, base) || !IsPermanent(err) {
		t.Fatalf("calls=%d err=%v, want one call and the permanent error", calls, err)
	}
}

func TestDoAttemptsAndContext(t *testing.T) {
	calls := 0
	err := Do(context.Background(), Policy{Initial: time.Millisecond, Attempts: 4}, func(context.Context) error {
		calls++
		return errors.New("x")
	})
	if calls != 4 || err == nil {
		t.Fatalf("calls=%d err=%v, want 4 calls and an error", calls, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Do(ctx, Policy{Initial: time.Hour}, func(context.Context) error { return errors.New("x") })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err=%v, want context.Canceled", err)
	}
}
