package awsfake_test

import (
	"context"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// oneBatch emits one batch of two events and counts its commits.
type oneBatch struct {
	acked   []error
	commits int
}

func (s *oneBatch) Name() string { return "one" }

func (s *oneBatch) Run(ctx context.Context, emit source.Emit) error {
	b := source.NewBatch()
	b.Add(event.Event{Origin: event.Origin{Unit: "u1"}}, []byte("a"))
	b.Add(event.Event{Origin: event.Origin{Unit: "u2"}}, []byte("b"))
	b.Ack = func(err error) { s.acked = append(s.acked, err) }
	return emit(ctx, b)
}

func (s *oneBatch) Commit() error { s.commits++; return nil }

func TestCollectorAndRunPass(t *testing.T) {
	src := &oneBatch{}
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, src, c)
	if got := awsfake.Units(c.Take()); len(got) != 2 || got["u1"] != 1 || got["u2"] != 1 {
		t.Errorf("collected units %v", got)
	}
	if len(src.acked) != 1 || src.acked[0] != nil || src.commits != 1 {
		t.Errorf("acks %v, commits %d: want one nil ack and one commit", src.acked, src.commits)
	}
	if evs := c.Take(); len(evs) != 0 {
		t.Errorf("Take did not forget: %d events", len(evs))
	}

	c.Hold = true
	awsfake.MustRunPass(t, src, c)
	if len(src.acked) != 1 || len(c.Acks) != 1 {
		t.Fatalf("held: %d acks called, %d held", len(src.acked), len(c.Acks))
	}
	c.Acks[0](awsfake.ErrOutput)
	if len(src.acked) != 2 || src.acked[1] != awsfake.ErrOutput {
		t.Errorf("acks %v", src.acked)
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	clk := awsfake.NewClock(t0)
	if !clk.Now().Equal(t0) {
		t.Errorf("Now = %v", clk.Now())
	}
	clk.Set(t0.Add(time.Hour))
	if !clk.Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("after Set, Now = %v", clk.Now())
	}
}
