package suppress_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
)

// recorder is a wrapped output that remembers what it was given and can be
// told to refuse.
type recorder struct {
	got      []sink.Record
	failNext int
	flushes  int
	closed   bool
}

var errRefused = errors.New("inner refused")

func (r *recorder) Write(_ context.Context, rs []sink.Record) error {
	if r.failNext > 0 {
		r.failNext--
		return errRefused
	}
	for _, x := range rs {
		x.JSON = slices.Clone(x.JSON) // the wrapper may reuse its buffers
		r.got = append(r.got, x)
	}
	return nil
}
func (r *recorder) Flush(context.Context) error { r.flushes++; return nil }
func (r *recorder) Close() error                { r.closed = true; return nil }

func (r *recorder) ids() []string {
	var out []string
	for _, x := range r.got {
		id := x.ID
		if _, ok := suppress.Parse(x.JSON); ok {
			id = "followup:" + id
		}
		out = append(out, id)
	}
	return out
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// alertRec builds an AWS alert from principal and source address; ts is the
// alert's own timestamp.
func alertRec(id, rule, principal, ip string, ts time.Time) sink.Record {
	j := fmt.Sprintf(`{"timestamp":%q,"rule":{"level":10,"id":%q,"description":"Console login"},"id":%q,"location":"aws","data":{"aws":{"recipientAccountId":"111122223333","userIdentity":{"arn":%q},"sourceIPAddress":%q}}}`,
		ts.Format("2006-01-02T15:04:05.000-0700"), rule, id, principal, ip)
	return sink.Record{JSON: []byte(j), ID: id, Level: 10, RuleID: rule, Groups: []string{"aws"}}
}

func newSink(t *testing.T, cfg suppress.Config) (*suppress.Sink, *recorder, *clock) {
	t.Helper()
	inner := &recorder{}
	c := &clock{t: t0}
	s, err := suppress.New(inner, cfg, suppress.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, inner, c
}

func cfg10m() suppress.Config {
	c := suppress.DefaultConfig()
	c.Window = config.Duration(10 * time.Minute)
	return c
}

func write(t *testing.T, s *suppress.Sink, rs ...sink.Record) {
	t.Helper()
	if err := s.Write(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

func flush(t *testing.T, s *suppress.Sink) {
	t.Helper()
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestFirstPassesRestCountedFollowUpAtWindowEnd(t *testing.T) {
	s, inner, c := newSink(t, cfg10m())
	write(t, s, alertRec("a1", "300001", "arn:carol", "192.0.2.1", t0))
	if got := inner.ids(); !slices.Equal(got, []string{"a1"}) {
		t.Fatalf("the first alert did not go out at once: %v", got)
	}
	for i := 2; i <= 5; i++ {
		c.advance(time.Minute)
		write(t, s, alertRec(fmt.Sprintf("a%d", i), "300001", "arn:carol", "192.0.2.1", t0.Add(time.Duration(i)*time.Minute)))
	}
	c.advance(6*time.Minute - time.Second) // 9m59s after the first
	flush(t, s)
	if got := inner.ids(); !slices.Equal(got, []string{"a1"}) {
		t.Fatalf("sent inside the window: %v", got)
	}
	if st := s.Stats(); st.Suppressed != 4 || st.Pending != 4 || st.Keys != 1 {
		t.Errorf("stats %+v", st)
	}
	c.advance(time.Second) // the window has ended
	flush(t, s)
	if got := inner.ids(); !slices.Equal(got, []string{"a1", "followup:a5"}) {
		t.Fatalf("got %v, want a1 then the follow-up", got)
	}
	fu := inner.got[1]
	f, ok := suppress.Parse(fu.JSON)
	want := suppress.FollowUp{Count: 4, First: "2024-05-01T10:02:00.000+0000", Last: "2024-05-01T10:05:00.000+0000", Window: "10m",
		NotifiedID: "a1", Key: map[string]string{"rule_id": "300001", "principal": "arn:carol", "srcip": "192.0.2.1"}}
	if !ok || fmt.Sprint(f) != fmt.Sprint(want) {
		t.Errorf("follow-up %+v\nwant        %+v", f, want)
	}
	// The follow-up is the last held-back alert with one member added.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(fu.JSON, &m); err != nil {
		t.Fatalf("follow-up is not JSON: %v: %s", err, fu.JSON)
	}
	if string(m["id"]) != `"a5"` || m["rule"] == nil || m["data"] == nil || len(m) != 6 {
		t.Errorf("follow-up JSON %s", fu.JSON)
	}
	if fu.ID != "a5" || fu.RuleID != "300001" || fu.Level != 10 || !slices.Equal(fu.Groups, []string{"aws"}) {
		t.Errorf("follow-up record %+v", fu)
	}
	st := s.Stats()
	if st.Passed != 1 || st.Suppressed != 4 || st.FollowUps != 1 || st.FollowedUp != 4 || st.Pending != 0 || st.Keys != 0 {
		t.Errorf("stats %+v", st)
	}
	if inner.flushes != 2 {
		t.Errorf("inner flushed %d times", inner.flushes)
	}
}

func TestKeysAreSeparate(t *testing.T) {
	s, inner, _ := newSink(t, cfg10m())
	write(t, s,
		alertRec("a", "300001", "arn:carol", "192.0.2.1", t0),
		alertRec("b", "300001", "arn:dave", "192.0.2.1", t0),  // other principal
		alertRec("c", "300001", "arn:carol", "192.0.2.9", t0), // other address
		alertRec("d", "300002", "arn:carol", "192.0.2.1", t0), // other rule
		alertRec("e", "300001", "arn:carol", "192.0.2.1", t0), // same as a
	)
	if got := inner.ids(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("passed %v", got)
	}
	if st := s.Stats(); st.Suppressed != 1 || st.Keys != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestKeyFieldsConfigurable(t *testing.T) {
	cfg := cfg10m()
	cfg.Key = []string{"account"} // rule_id is always part of the key
	s, inner, _ := newSink(t, cfg)
	write(t, s,
		alertRec("a", "300001", "arn:carol", "192.0.2.1", t0),
		alertRec("b", "300001", "arn:dave", "192.0.2.2", t0), // same account
		alertRec("c", "300002", "arn:dave", "192.0.2.2", t0),
	)
	if got := inner.ids(); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("passed %v", got)
	}
}

func TestKeysCannotBeForgedByChoosingValues(t *testing.T) {
	s, inner, _ := newSink(t, cfg10m())
	// With values joined by a separator these two would be one key.
	write(t, s,
		alertRec("a", "300001", "x\u0000", "y", t0),
		alertRec("b", "300001", "x", "\u0000y", t0),
		alertRec("c", "300001", "x:1", "y", t0),
		alertRec("d", "300001", "x", "1:y", t0),
	)
	if got := inner.ids(); len(got) != 4 {
		t.Errorf("passed %v, want all four", got)
	}
}

func TestNextWindowAfterFollowUp(t *testing.T) {
	s, inner, c := newSink(t, cfg10m())
	write(t, s, alertRec("a1", "1", "p", "ip", t0))
	c.advance(time.Minute)
	write(t, s, alertRec("a2", "1", "p", "ip", t0))
	c.advance(20 * time.Minute) // no Flush in between: the Write closes the window first
	write(t, s, alertRec("a3", "1", "p", "ip", t0), alertRec("a4", "1", "p", "ip", t0))
	if got := inner.ids(); !slices.Equal(got, []string{"a1", "followup:a2", "a3"}) {
		t.Errorf("got %v", got)
	}
	if st := s.Stats(); st.Pending != 1 || st.Suppressed != 2 || st.FollowedUp != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestQuietWindowSendsNoFollowUp(t *testing.T) {
	s, inner, c := newSink(t, cfg10m())
	write(t, s, alertRec("a1", "1", "p", "ip", t0))
	c.advance(time.Hour)
	flush(t, s)
	if got := inner.ids(); !slices.Equal(got, []string{"a1"}) {
		t.Errorf("got %v", got)
	}
	if st := s.Stats(); st.Keys != 0 || st.FollowUps != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestMaxKeysClosesOldestEarly(t *testing.T) {
	cfg := cfg10m()
	cfg.MaxKeys = 2
	s, inner, c := newSink(t, cfg)
	write(t, s, alertRec("k1a", "1", "p1", "ip", t0), alertRec("k1b", "1", "p1", "ip", t0))
	c.advance(time.Second)
	write(t, s, alertRec("k2a", "1", "p2", "ip", t0), alertRec("k2b", "1", "p2", "ip", t0))
	c.advance(time.Second)
	write(t, s, alertRec("k3a", "1", "p3", "ip", t0))
	if got := inner.ids(); !slices.Equal(got, []string{"k1a", "k2a", "followup:k1b", "k3a"}) {
		t.Errorf("got %v", got)
	}
	if st := s.Stats(); st.Evicted != 1 || st.Keys != 2 || st.Pending != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRedeliveryIsNotCountedTwice(t *testing.T) {
	s, inner, c := newSink(t, cfg10m())
	batch := []sink.Record{
		alertRec("a1", "1", "p", "ip", t0), alertRec("a2", "1", "p", "ip", t0), alertRec("a3", "1", "p", "ip", t0),
	}
	write(t, s, batch...)
	flush(t, s)
	// The pipeline could not acknowledge (another output failed) and the
	// source delivers the same alerts again.
	c.advance(time.Minute)
	write(t, s, batch...)
	c.advance(10 * time.Minute)
	flush(t, s)
	if got := inner.ids(); !slices.Equal(got, []string{"a1", "a1", "followup:a3"}) {
		t.Errorf("got %v (the first alert goes out again: at least once)", got)
	}
	f, _ := suppress.Parse(inner.got[2].JSON)
	if f.Count != 2 {
		t.Errorf("count %d, want 2", f.Count)
	}
	if st := s.Stats(); st.Duplicates != 2 || st.Suppressed != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestInnerRefusalKeepsRecordsQueued(t *testing.T) {
	s, inner, c := newSink(t, cfg10m())
	write(t, s, alertRec("a1", "1", "p", "ip", t0))
	c.advance(11 * time.Minute)
	inner.failNext = 1
	// Taken (queued) although the output refused: the pipeline must not
	// write the batch again, which would count b2 twice.
	write(t, s, alertRec("b1", "1", "q", "ip", t0), alertRec("b2", "1", "q", "ip", t0))
	if st := s.Stats(); st.Queued != 1 || st.Suppressed != 1 {
		t.Errorf("stats %+v", st)
	}
	write(t, s) // the next Write offers the queue again
	if got := inner.ids(); !slices.Equal(got, []string{"a1", "b1"}) {
		t.Errorf("got %v", got)
	}
	// A refusal at Flush is reported and the record kept.
	c.advance(11 * time.Minute)
	inner.failNext = 1
	if err := s.Flush(context.Background()); !errors.Is(err, errRefused) {
		t.Fatalf("Flush err = %v", err)
	}
	if st := s.Stats(); st.Queued != 1 {
		t.Errorf("stats %+v", st)
	}
	flush(t, s)
	if got := inner.ids(); !slices.Equal(got, []string{"a1", "b1", "followup:b2"}) {
		t.Errorf("got %v", got)
	}
}

func TestQueueBoundRefusesBeforeCounting(t *testing.T) {
	s, inner, _ := newSink(t, cfg10m())
	inner.failNext = 1 << 30
	var batch []sink.Record
	for i := range 10000 {
		batch = append(batch, alertRec(fmt.Sprint("a", i), "1", fmt.Sprint("p", i), "ip", t0))
	}
	write(t, s, batch...)
	before := s.Stats()
	next := []sink.Record{alertRec("z", "1", "p0", "ip", t0)}
	if err := s.Write(context.Background(), next); !errors.Is(err, errRefused) {
		t.Fatalf("err = %v, want a refusal once the queue is full", err)
	}
	if after := s.Stats(); after != before {
		t.Errorf("a refused Write changed the state: %+v -> %+v", before, after)
	}
	inner.failNext = 0
	write(t, s, next...)
	if st := s.Stats(); st.Suppressed != 1 || st.Queued != 0 || len(inner.got) != 10000 {
		t.Errorf("stats %+v, delivered %d", st, len(inner.got))
	}
}

func TestCloseSendsOpenFollowUps(t *testing.T) {
	s, inner, c := newSink(t, cfg10m())
	write(t, s, alertRec("a1", "1", "p", "ip", t0), alertRec("a2", "1", "p", "ip", t0),
		alertRec("b1", "1", "q", "ip", t0))
	c.advance(time.Minute)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := inner.ids(); !slices.Equal(got, []string{"a1", "b1", "followup:a2"}) {
		t.Errorf("got %v", got)
	}
	if !inner.closed {
		t.Error("inner not closed")
	}
	if st := s.Stats(); st.Pending != 0 || st.Keys != 0 {
		t.Errorf("stats %+v", st)
	}
	if err := s.Write(context.Background(), nil); !errors.Is(err, suppress.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

func TestUnreadableAlertPasses(t *testing.T) {
	s, inner, _ := newSink(t, cfg10m())
	bad := sink.Record{JSON: []byte(`{"rule":`), ID: "x", RuleID: "1"}
	write(t, s, bad, bad)
	if got := inner.ids(); !slices.Equal(got, []string{"x"}) {
		t.Errorf("got %v", got)
	}
}

// TestNothingIsLost drives random traffic, clock steps and refusals by the
// wrapped output, and checks that every alert either went out itself or is
// counted in exactly one follow-up.
func TestNothingIsLost(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		cfg := cfg10m()
		cfg.MaxKeys = 1 + rng.IntN(6)
		s, inner, c := newSink(t, cfg)
		n := 0
		for step := 0; step < 300; step++ {
			var batch []sink.Record
			for range rng.IntN(5) {
				n++
				batch = append(batch, alertRec(fmt.Sprintf("x%d", n), fmt.Sprint(rng.IntN(3)), fmt.Sprint("p", rng.IntN(4)), "ip", c.t))
			}
			if rng.IntN(4) == 0 {
				inner.failNext = 1 + rng.IntN(2)
			}
			if err := s.Write(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(3) == 0 {
				for s.Flush(context.Background()) != nil {
				}
			}
			c.advance(time.Duration(rng.IntN(240)) * time.Second)
		}
		inner.failNext = 0
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		passed := map[string]bool{}
		counted := 0
		for _, r := range inner.got {
			if f, ok := suppress.Parse(r.JSON); ok {
				counted += f.Count
				continue
			}
			if passed[r.ID] {
				t.Fatalf("seed %d: %s passed twice", seed, r.ID)
			}
			passed[r.ID] = true
		}
		st := s.Stats()
		if len(passed)+counted != n || st.Suppressed != int64(counted) || st.Pending != 0 || st.Passed != int64(len(passed)) {
			t.Fatalf("seed %d: %d alerts, %d passed, %d counted in follow-ups; stats %+v", seed, n, len(passed), counted, st)
		}
	}
}

func TestParseIgnoresOrdinaryAlerts(t *testing.T) {
	if _, ok := suppress.Parse([]byte(`{"id":"a","data":{"x":"suppressed"}}`)); ok {
		t.Error("an alert that merely mentions the word is not a follow-up")
	}
	if _, ok := suppress.Parse([]byte(`{"id":"a","suppressed":{"count":3}}`)); !ok {
		t.Error("follow-up not recognised")
	}
}

func TestNewRefusesDisabledConfig(t *testing.T) {
	if _, err := suppress.New(&recorder{}, suppress.DefaultConfig(), suppress.Options{}); err == nil ||
		!strings.Contains(err.Error(), "window") {
		t.Errorf("err = %v", err)
	}
}
