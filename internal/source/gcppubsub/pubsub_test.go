package gcppubsub

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
)

// TestDeliversEveryMessageOnce: a drain (once mode) turns every message into
// Wazuh's event at Wazuh-GCloud, valid JSON whatever the data, and each message
// is acknowledged exactly once, after its batch was.
func TestDeliversEveryMessageOnce(t *testing.T) {
	e := newEnv(t)
	var data [][]byte
	for i := range 300 {
		data = append(data, fmt.Appendf(nil, `{"insertId":"id-%d","logName":"projects/p/logs/x","severity":"INFO"}`, i))
	}
	odd := [][]byte{
		[]byte("plain text, \"quoted\"\nsecond line\x01"),
		[]byte(`{"truncated":`),
		[]byte("{\"bad\":\"\xff\xfe\"}"),
		[]byte("  {\"padded\":true}\n"),
		[]byte(""),
		[]byte(`42`),
	}
	want := map[string]string{}
	ids := e.publish("logs", append(data, odd...)...)
	for i, d := range append(data, odd...) {
		w, _ := wrap(d)
		want[unitOf("logs-sub", ids[i])] = string(w)
	}
	set := e.settings(nil)
	set.Once = true
	s := e.newSource(t, e.config(), set)
	sk := &sink{}
	if err := s.Run(context.Background(), sk.emit); err != nil {
		t.Fatal(err)
	}
	gs := sk.all()
	if len(gs) != len(want) {
		t.Fatalf("%d events, want %d", len(gs), len(want))
	}
	for _, g := range gs {
		if want[g.unit] != g.log {
			t.Errorf("%s: event %q, want %q", g.unit, g.log, want[g.unit])
		}
		if !json.Valid([]byte(g.log)) {
			t.Errorf("%s: invalid JSON %q", g.unit, g.log)
		}
		if g.ev.Location != "Wazuh-GCloud" || g.ev.AgentID != event.LocalAgentID || g.ev.AgentName != "manager" || g.ev.Origin.Source != "gcp" {
			t.Errorf("%s: event %+v", g.unit, g.ev)
		}
		delete(want, g.unit) // a second event for the unit fails above
	}
	for id, m := range e.messages("logs") {
		if m.Acks != 1 || m.Deliveries != 1 {
			t.Errorf("message %s: %d deliveries, %d acks", id, m.Deliveries, m.Acks)
		}
	}
	ms := s.MessageStats()
	if ms.Received != 306 || ms.Acked != 306 || ms.Nacked != 0 || ms.NotJSON != 3 || ms.Repaired != 1 {
		t.Errorf("stats %+v", ms)
	}
	if st := s.Stats(); st.Units != 306 || st.Events != 306 || st.Errors != 0 || st.Newest.IsZero() {
		t.Errorf("source stats %+v", st)
	}
	if !strings.Contains(e.logs.String(), "not JSON") {
		t.Errorf("the text message was not logged:\n%s", e.logs)
	}
}

// TestAcknowledgedOnlyAfterTheBatch: messages whose batches the pipeline holds
// stay unacknowledged on the server; acknowledging the batches acknowledges
// them.
func TestAcknowledgedOnlyAfterTheBatch(t *testing.T) {
	e := newEnv(t)
	for i := range 50 {
		e.publish("logs", fmt.Appendf(nil, `{"n":%d}`, i))
	}
	sk := &sink{decide: func([]event.Event) (error, bool) { return nil, true }}
	s := e.newSource(t, e.config(), e.settings(nil))
	ctx, cancel := context.WithCancel(context.Background())
	wait := run(ctx, s, sk.emit)
	waitFor(t, "50 events", func() bool { return sk.count() == 50 })
	for id, m := range e.messages("logs") {
		if m.Acks != 0 {
			t.Errorf("message %s acknowledged before its batch", id)
		}
	}
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
	if err := wait(); err != context.Canceled {
		t.Errorf("Run: %v", err)
	}
	if ms := s.MessageStats(); ms.Acked != 50 || ms.Nacked != 0 {
		t.Errorf("stats %+v", ms)
	}
}

// TestFailedBatchIsDeliveredAgain: a batch acknowledged with an error is
// nacked; Pub/Sub delivers its messages again and they are acknowledged then.
func TestFailedBatchIsDeliveredAgain(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 40 {
		ids = append(ids, e.publish("logs", fmt.Appendf(nil, `{"n":%d}`, i))...)
	}
	failed := map[string]bool{}
	sk := &sink{}
	sk.decide = func(evs []event.Event) (error, bool) {
		for _, ev := range evs {
			if !failed[ev.Origin.Unit] { // the first delivery of every message fails
				for _, ev := range evs {
					failed[ev.Origin.Unit] = true
				}
				return fmt.Errorf("output refused the batch"), false
			}
		}
		return nil, false
	}
	cfg := e.config()
	cfg.BatchSize = 7
	set := e.settings(nil)
	set.Once = true
	s := e.newSource(t, cfg, set)
	if err := s.Run(context.Background(), sk.emit); err != nil {
		t.Fatal(err)
	}
	// A batch mixing first and later deliveries is refused too, so a message
	// may be refused more than once; every delivery gave one event.
	counts := byUnit(sk.all())
	msgs := e.messages("logs")
	for _, id := range ids {
		n, m := counts[unitOf("logs-sub", id)], msgs[id]
		if n < 2 || m.Deliveries != n || m.Acks != 1 {
			t.Errorf("message %s: %d events, %d deliveries, %d acks; want as many events as deliveries, at least 2, and 1 ack",
				id, n, m.Deliveries, m.Acks)
		}
	}
	if ms := s.MessageStats(); ms.Acked != 40 || ms.Nacked != ms.Received-40 || ms.Nacked < 40 {
		t.Errorf("stats %+v", ms)
	}
	if !strings.Contains(e.logs.String(), "output refused the batch") {
		t.Errorf("the failure was not logged:\n%s", e.logs)
	}
}

// TestFlowControl: no more than max_outstanding_messages are held
// unacknowledged, however many wait on the subscription.
func TestFlowControl(t *testing.T) {
	e := newEnv(t)
	for i := range 100 {
		e.publish("logs", fmt.Appendf(nil, `{"n":%d}`, i))
	}
	cfg := e.config()
	cfg.MaxOutstandingMessages = 8
	cfg.Streams = 4
	sk := &sink{decide: func([]event.Event) (error, bool) { return nil, true }}
	s := e.newSource(t, cfg, e.settings(nil))
	ctx, cancel := context.WithCancel(context.Background())
	wait := run(ctx, s, sk.emit)
	waitFor(t, "8 events", func() bool { return sk.count() >= 8 })
	time.Sleep(300 * time.Millisecond) // time for more to come, if the limit leaked
	if n := sk.count(); n != 8 {
		t.Errorf("%d messages held, want 8", n)
	}
	// Acknowledging frees the slots; everything is read in the end.
	for sk.count() < 100 {
		sk.release(nil)
		time.Sleep(10 * time.Millisecond)
	}
	sk.release(nil)
	cancel()
	_ = wait()
	if ms := s.MessageStats(); ms.Received != 100 || ms.Acked != 100 {
		t.Errorf("stats %+v", ms)
	}
}

// TestSeveralSubscriptions: subscription and subscriptions are read together,
// each event naming its subscription.
func TestSeveralSubscriptions(t *testing.T) {
	e := newEnv(t)
	e.topic(t, "audit")
	e.subscription(t, "audit-sub", "audit", nil)
	a := e.publish("logs", []byte(`{"from":"logs"}`))
	b := e.publish("audit", []byte(`{"from":"audit"}`))
	cfg := e.config()
	cfg.Subscriptions = []string{"projects/" + project + "/subscriptions/audit-sub"}
	set := e.settings(nil)
	set.Once = true
	s := e.newSource(t, cfg, set)
	sk := &sink{}
	if err := s.Run(context.Background(), sk.emit); err != nil {
		t.Fatal(err)
	}
	counts := byUnit(sk.all())
	if len(counts) != 2 || counts[unitOf("logs-sub", a[0])] != 1 || counts[unitOf("audit-sub", b[0])] != 1 {
		t.Errorf("events per message %v", counts)
	}
}

// TestProcessesShareASubscription: two sources on one subscription (two
// skywatch processes) split its messages; together they deliver each once.
func TestProcessesShareASubscription(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 200 {
		ids = append(ids, e.publish("logs", fmt.Appendf(nil, `{"n":%d}`, i))...)
	}
	sinks := []*sink{{}, {}}
	var waits []func() error
	ctx, cancel := context.WithCancel(context.Background())
	for _, sk := range sinks {
		waits = append(waits, run(ctx, e.newSource(t, e.config(), e.settings(nil)), sk.emit))
	}
	waitFor(t, "every message acknowledged", func() bool {
		for _, m := range e.messages("logs") {
			if m.Acks != 1 {
				return false
			}
		}
		return true
	})
	cancel()
	for _, w := range waits {
		_ = w()
	}
	a, b := byUnit(sinks[0].all()), byUnit(sinks[1].all())
	if len(a) == 0 || len(b) == 0 {
		t.Errorf("one process got everything: %d and %d messages", len(a), len(b))
	}
	for _, id := range ids {
		if u := unitOf("logs-sub", id); a[u]+b[u] != 1 {
			t.Errorf("message %s delivered %d times", id, a[u]+b[u])
		}
	}
}
