package pipeline

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// everyEventAlerts raises one alert per event, with the event's offset as rule id.
type everyEventAlerts struct{}

func (everyEventAlerts) NewMatcher() Matcher { return alertMatcher{} }

type alertMatcher struct{}

func (alertMatcher) Analyze(ev *event.Event, out []sink.Record) []sink.Record {
	id := strconv.FormatInt(ev.Origin.Offset, 10)
	return append(out, sink.Record{JSON: []byte(`{"id":"` + id + `"}`), ID: id, Level: 3, RuleID: "1"})
}

// memSink records what it was given, and what was durable at each flush.
type memSink struct {
	mu       sync.Mutex
	written  []string
	durable  int
	failWith error
	flushes  int
}

func (s *memSink) Write(_ context.Context, recs []sink.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.written = append(s.written, r.ID)
	}
	return nil
}

func (s *memSink) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	if s.failWith != nil {
		return s.failWith
	}
	s.durable = len(s.written)
	return nil
}

func (s *memSink) Close() error { return nil }

// listSource emits n batches of k events and records the acknowledgements.
type listSource struct {
	n, k    int
	mu      sync.Mutex
	acks    map[int]error
	durable func() int
	// seenAtAck is how many alerts were durable when each batch was acknowledged.
	seenAtAck map[int]int
	// ids returns the alert ids written so far, in order.
	ids func() []string
	// notDurable lists batches that had an alert not yet durable when acknowledged.
	notDurable []int
}

func (s *listSource) Name() string { return "list" }

func (s *listSource) Run(ctx context.Context, emit source.Emit) error {
	for i := 0; i < s.n; i++ {
		b := source.NewBatch()
		for j := 0; j < s.k; j++ {
			off := int64(i*s.k + j)
			b.Add(event.Event{Origin: event.Origin{Source: "list", Offset: off}}, []byte(`{}`))
		}
		i := i
		b.Ack = func(err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.acks[i] = err
			n := s.durable()
			s.seenAtAck[i] = n
			if s.ids != nil {
				durable := map[string]bool{}
				for _, id := range s.ids()[:n] {
					durable[id] = true
				}
				for j := 0; j < s.k; j++ {
					if !durable[strconv.Itoa(i*s.k+j)] {
						s.notDurable = append(s.notDurable, i)
						break
					}
				}
			}
		}
		if err := emit(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func TestAcksFollowDurableFlush(t *testing.T) {
	snk := &memSink{}
	src := &listSource{n: 50, k: 7, acks: map[int]error{}, seenAtAck: map[int]int{}}
	src.durable = func() int { snk.mu.Lock(); defer snk.mu.Unlock(); return snk.durable }
	src.ids = func() []string { snk.mu.Lock(); defer snk.mu.Unlock(); return append([]string(nil), snk.written...) }
	p := New(Config{Workers: 3, FlushInterval: time.Millisecond}, everyEventAlerts{}, []Output{{Name: "mem", Sink: snk}})
	if err := p.Run(context.Background(), []source.Source{src}); err != nil {
		t.Fatal(err)
	}
	if len(src.acks) != 50 {
		t.Fatalf("%d batches acknowledged, want 50", len(src.acks))
	}
	if len(snk.written) != 350 || snk.durable != 350 {
		t.Fatalf("written %d durable %d, want 350", len(snk.written), snk.durable)
	}
	seen := map[string]bool{}
	for _, id := range snk.written {
		if seen[id] {
			t.Fatalf("alert %s written twice", id)
		}
		seen[id] = true
	}
	for i, err := range src.acks {
		if err != nil {
			t.Errorf("batch %d acknowledged with %v", i, err)
		}
	}
	if len(src.notDurable) > 0 {
		t.Errorf("batches %v were acknowledged before their alerts were flushed", src.notDurable)
	}
	snap := p.Stats().Snapshot()
	if snap.Events != 350 || snap.Alerts != 350 || snap.ByLevel[3] != 350 {
		t.Errorf("stats %+v", snap)
	}
	if len(snap.Sources) != 1 || snap.Sources[0].Batches != 50 || snap.Sources[0].Events != 350 || snap.Sources[0].InFlight != 0 {
		t.Errorf("source stats %+v; want 50 batches, 350 events, none in flight", snap.Sources)
	}
	if len(snap.Outputs) != 1 || snap.Outputs[0].Written != 350 || snap.Outputs[0].Failed != 0 || snap.Outputs[0].Flushes == 0 {
		t.Errorf("output stats %+v", snap.Outputs)
	}
}

func TestFailedFlushFailsAcks(t *testing.T) {
	old := sinkRetry
	sinkRetry.Attempts, sinkRetry.Initial = 2, time.Millisecond
	defer func() { sinkRetry = old }()
	snk := &memSink{failWith: errors.New("disk full")}
	src := &listSource{n: 5, k: 2, acks: map[int]error{}, seenAtAck: map[int]int{}}
	src.durable = func() int { return 0 }
	p := New(Config{Workers: 2}, everyEventAlerts{}, []Output{{Name: "mem", Sink: snk}})
	err := p.Run(context.Background(), []source.Source{src})
	if err == nil {
		t.Fatal("Run succeeded although the output could not flush")
	}
	if len(src.acks) != 5 {
		t.Fatalf("%d acks, want 5", len(src.acks))
	}
	for i, e := range src.acks {
		if e == nil {
			t.Errorf("batch %d acknowledged as durable although flush failed", i)
		}
	}
	snap := p.Stats().Snapshot()
	if snap.Outputs[0].FlushErrors == 0 || snap.Outputs[0].Retries == 0 || snap.Sources[0].AckErrors != 5 || snap.Sources[0].InFlight != 0 {
		t.Errorf("stats after failed flushes: %+v %+v", snap.Outputs, snap.Sources)
	}
}

func TestCancelStillFinishesTakenBatches(t *testing.T) {
	snk := &memSink{}
	ctx, cancel := context.WithCancel(context.Background())
	src := &cancelAfter{n: 3, cancel: cancel, acks: map[int]error{}}
	p := New(Config{Workers: 1}, everyEventAlerts{}, []Output{{Name: "mem", Sink: snk}})
	if err := p.Run(ctx, []source.Source{src}); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.acks) != src.emitted {
		t.Fatalf("%d batches emitted, %d acknowledged", src.emitted, len(src.acks))
	}
	if snk.durable != len(snk.written) {
		t.Fatalf("%d alerts written but only %d flushed at shutdown", len(snk.written), snk.durable)
	}
}

// cancelAfter emits until it has emitted n batches, then cancels and keeps trying.
type cancelAfter struct {
	n       int
	cancel  func()
	mu      sync.Mutex
	emitted int
	acks    map[int]error
}

func (s *cancelAfter) Name() string { return "cancel" }

func (s *cancelAfter) Run(ctx context.Context, emit source.Emit) error {
	for i := 0; ; i++ {
		if i == s.n {
			s.cancel()
		}
		b := source.NewBatch()
		b.Add(event.Event{Origin: event.Origin{Offset: int64(i)}}, []byte(`{}`))
		i := i
		b.Ack = func(err error) { s.mu.Lock(); s.acks[i] = err; s.mu.Unlock() }
		if err := emit(ctx, b); err != nil {
			return err
		}
		s.mu.Lock()
		s.emitted++
		s.mu.Unlock()
	}
}
