package gcppubsub

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skywatch-dev/skywatch/internal/event"
)

// TestAckDeadlineExpiry: while the pipeline is slow, the messages' ack
// deadlines lapse (the server's clock jumps past them): Pub/Sub delivers them
// again, the second deliveries are acknowledged, and the late acknowledgements
// of the first ones change nothing. Every message gives two events, nothing is
// lost and nothing is acknowledged twice.
func TestAckDeadlineExpiry(t *testing.T) {
	e := newEnv(t)
	var skew atomic.Int64
	e.srv.SetTimeNowFunc(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	ids := e.publish("logs", []byte(`{"a":1}`), []byte(`{"a":2}`), []byte(`{"a":3}`), []byte(`{"a":4}`))
	var mu sync.Mutex
	seen := map[string]bool{}
	sk := &sink{decide: func(evs []event.Event) (error, bool) {
		mu.Lock()
		defer mu.Unlock()
		first := false
		for _, ev := range evs {
			first = first || !seen[ev.Origin.Unit]
			seen[ev.Origin.Unit] = true
		}
		return nil, first // hold first deliveries: slow processing
	}}
	s := e.newSource(t, e.config(), e.settings(nil))
	ctx, cancel := context.WithCancel(context.Background())
	wait := run(ctx, s, sk.emit)
	waitFor(t, "the first deliveries", func() bool { return sk.count() == 4 })
	skew.Store(int64(5 * time.Minute)) // past every deadline, within retention
	waitFor(t, "the second deliveries", func() bool { return sk.count() == 8 })
	waitFor(t, "their acknowledgements", func() bool {
		for _, m := range e.messages("logs") {
			if m.Acks != 1 {
				return false
			}
		}
		return true
	})
	sk.release(nil) // the late acknowledgements of the first deliveries
	cancel()
	_ = wait()
	counts := byUnit(sk.all())
	for _, id := range ids {
		if counts[unitOf("logs-sub", id)] != 2 {
			t.Errorf("message %s: %d events, want 2", id, counts[unitOf("logs-sub", id)])
		}
	}
	for id, m := range e.messages("logs") {
		if m.Acks != 1 || m.Deliveries != 2 {
			t.Errorf("message %s: %d deliveries, %d acks", id, m.Deliveries, m.Acks)
		}
	}
}

// TestLeaseExtendedDuringSlowProcessing: a batch held longer than the
// subscription's 10 s ack deadline is not delivered again, because the client
// extends the leases of the messages the source holds. (It takes 12 s of real
// time: the client's extension period has a 10 s floor.)
func TestLeaseExtendedDuringSlowProcessing(t *testing.T) {
	e := newEnv(t)
	e.publish("logs", []byte(`{"slow":1}`), []byte(`{"slow":2}`))
	sk := &sink{decide: func([]event.Event) (error, bool) { return nil, true }}
	s := e.newSource(t, e.config(), e.settings(nil))
	ctx, cancel := context.WithCancel(context.Background())
	wait := run(ctx, s, sk.emit)
	waitFor(t, "the deliveries", func() bool { return sk.count() == 2 })
	time.Sleep(12 * time.Second)
	sk.release(nil)
	waitFor(t, "the acknowledgements", func() bool {
		for _, m := range e.messages("logs") {
			if m.Acks != 1 {
				return false
			}
		}
		return true
	})
	cancel()
	_ = wait()
	for id, m := range e.messages("logs") {
		if m.Deliveries != 1 {
			t.Errorf("message %s delivered %d times while its lease should have been extended", id, m.Deliveries)
		}
	}
	if n := sk.count(); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
}

// TestPoisonMessageGoesToDeadLetter: a message whose batch always fails is
// delivered again and again until the subscription's dead-letter policy moves
// it to the dead-letter topic; the source counts and logs its high delivery
// attempts, and the other messages are acknowledged once.
func TestPoisonMessageGoesToDeadLetter(t *testing.T) {
	e := newEnv(t)
	e.topic(t, "dead")
	e.subscription(t, "dl-sub", "logs", func(s *pubsubpb.Subscription) {
		s.DeadLetterPolicy = &pubsubpb.DeadLetterPolicy{DeadLetterTopic: "projects/" + project + "/topics/dead", MaxDeliveryAttempts: 5}
	})
	e.subscription(t, "dead-sub", "dead", nil)
	ids := e.publish("logs", []byte(`{"ok":1}`), []byte(`{"poison":true}`), []byte(`{"ok":2}`))
	sk := &sink{decide: func(evs []event.Event) (error, bool) {
		for _, ev := range evs {
			if bytes.Contains(ev.Log, []byte("poison")) {
				return fmt.Errorf("output rejects this event"), false
			}
		}
		return nil, false
	}}
	cfg := e.config()
	cfg.Subscription, cfg.BatchSize = "dl-sub", 1
	set := e.settings(nil)
	set.Once = true
	s := e.newSource(t, cfg, set)
	if err := s.Run(context.Background(), sk.emit); err != nil {
		t.Fatal(err)
	}
	counts := byUnit(sk.all())
	if counts[unitOf("dl-sub", ids[1])] != 5 || counts[unitOf("dl-sub", ids[0])] != 1 || counts[unitOf("dl-sub", ids[2])] != 1 {
		t.Errorf("events per message %v, want the poison message 5 times, the others once", counts)
	}
	ms := s.MessageStats()
	if ms.MaxDeliveryAttempt != 5 || ms.Redelivered != 4 || ms.HighAttempts != 1 || ms.Nacked != 5 || ms.Acked != 2 {
		t.Errorf("stats %+v", ms)
	}
	if !strings.Contains(e.logs.String(), "delivery_attempt=5") || !strings.Contains(e.logs.String(), ids[1]) {
		t.Errorf("the high delivery attempt was not logged:\n%s", e.logs)
	}
	// The poison message is now on the dead-letter topic. (pstest keeps
	// publishing it there on every delivery round, because it acknowledges the
	// original with the message ID instead of its ack ID; so only look.)
	resp, err := e.admin.SubscriptionAdminClient.Pull(context.Background(),
		&pubsubpb.PullRequest{Subscription: "projects/" + project + "/subscriptions/dead-sub", MaxMessages: 1})
	if err != nil || len(resp.ReceivedMessages) != 1 || string(resp.ReceivedMessages[0].Message.Data) != `{"poison":true}` {
		t.Errorf("dead-letter subscription: %v %v", resp, err)
	}
}

// TestReadErrors: the first stream opens fail and streams break in the middle
// of the messages (UNAVAILABLE, as a load balancer or a network blip does);
// the client reconnects. The messages that were in flight on a broken stream
// come back once their ack deadline lapses (the server's clock jumps); in the
// end every message is delivered and acknowledged.
func TestReadErrors(t *testing.T) {
	e := newEnv(t)
	var skew atomic.Int64
	e.srv.SetTimeNowFunc(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	var data [][]byte
	for i := range 60 {
		data = append(data, fmt.Appendf(nil, `{"n":%d}`, i))
	}
	ids := e.publish("logs", data...)
	var opens, breaks atomic.Int64
	intercept := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
		streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if !strings.HasSuffix(method, "/StreamingPull") {
			return streamer(ctx, desc, cc, method, opts...)
		}
		if opens.Add(1) <= 3 {
			return nil, status.Error(codes.Unavailable, "injected: connection refused")
		}
		ctx, cut := context.WithCancel(ctx)
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			cut()
			return nil, err
		}
		return &breakingStream{ClientStream: cs, cut: cut, breaks: &breaks}, nil
	}
	set := e.settings(nil)
	set.ClientOptions = append(set.ClientOptions, option.WithGRPCDialOption(grpc.WithStreamInterceptor(intercept)))
	cfg := e.config()
	cfg.Streams = 1
	s := e.newSource(t, cfg, set)
	sk := &sink{}
	ctx, cancel := context.WithCancel(context.Background())
	wait := run(ctx, s, sk.emit)
	waitFor(t, "three broken streams", func() bool { return breaks.Load() == 3 })
	skew.Store(int64(2 * time.Minute)) // the messages lost in flight become due again
	waitFor(t, "every message acknowledged", func() bool {
		for _, m := range e.messages("logs") {
			if m.Acks != 1 {
				return false
			}
		}
		return true
	})
	cancel()
	_ = wait()
	counts := byUnit(sk.all())
	for _, id := range ids {
		if counts[unitOf("logs-sub", id)] < 1 {
			t.Errorf("message %s acknowledged without an event", id)
		}
	}
}

// breakingStream cuts the connection's stream at the 10th message it
// receives, which is lost, and fails with UNAVAILABLE; three times in all.
type breakingStream struct {
	grpc.ClientStream
	cut    context.CancelFunc
	n      int
	breaks *atomic.Int64
}

func (b *breakingStream) RecvMsg(m any) error {
	if b.n++; b.n == 10 && b.breaks.Load() < 3 {
		b.cut()
		b.breaks.Add(1)
		return status.Error(codes.Unavailable, "injected: stream reset")
	}
	return b.ClientStream.RecvMsg(m)
}

// TestMissingSubscription: a subscription that does not exist stops Run with
// an error naming it.
func TestMissingSubscription(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Subscriptions = []string{"no-such-sub"}
	s := e.newSource(t, cfg, e.settings(nil))
	err := s.Run(context.Background(), (&sink{}).emit)
	if err == nil || !strings.Contains(err.Error(), "projects/test-project/subscriptions/no-such-sub") || status.Code(errorsCause(err)) != codes.NotFound {
		t.Errorf("Run: %v", err)
	}
}

// errorsCause returns the innermost wrapped error.
func errorsCause(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// TestTooLargeMessage: a message over max_event_bytes is logged with its
// subscription and id, counted and acknowledged without an event; the others
// are delivered.
func TestTooLargeMessage(t *testing.T) {
	e := newEnv(t)
	ids := e.publish("logs", []byte(`{"small":1}`), fmt.Appendf(nil, `{"big":"%s"}`, strings.Repeat("x", 500)))
	set := e.settings(nil)
	set.Once, set.MaxRecordBytes = true, 100
	s := e.newSource(t, e.config(), set)
	sk := &sink{}
	if err := s.Run(context.Background(), sk.emit); err != nil {
		t.Fatal(err)
	}
	if gs := sk.all(); len(gs) != 1 || gs[0].unit != unitOf("logs-sub", ids[0]) {
		t.Errorf("events %+v", gs)
	}
	if ms := s.MessageStats(); ms.TooLarge != 1 || s.Stats().Skipped != 1 {
		t.Errorf("stats %+v", ms)
	}
	if !strings.Contains(e.logs.String(), "message_id="+ids[1]) {
		t.Errorf("not logged:\n%s", e.logs)
	}
	for id, m := range e.messages("logs") {
		if m.Acks != 1 {
			t.Errorf("message %s: %d acks", id, m.Acks)
		}
	}
}
