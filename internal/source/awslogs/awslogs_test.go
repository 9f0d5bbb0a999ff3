package awslogs

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

var (
	day  = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	noon = day.Add(12 * time.Hour)
)

const (
	group  = "/aws/lambda/app"
	stream = "2024/03/01/[$LATEST]0123abcd"
)

// TestReadsStreamsAsIs reads several streams of two groups in two regions over
// several pages of streams and of events, and sends each message as it is.
func TestReadsStreamsAsIs(t *testing.T) {
	fake, cfg := newFake(t)
	cfg.Regions = []string{"us-east-1", "eu-west-1"}
	cfg.LogGroups = []string{group, "app-logs"}
	cfg.BatchSize = 100
	fake.Logs.MaxEvents = 250
	fake.Logs.Put("us-east-1", group, stream, events("big", 600, day.Add(time.Hour))...)
	for i := range 55 { // two pages of streams
		fake.Logs.Put("us-east-1", group, fmt.Sprintf("s%02d", i), events(fmt.Sprintf("s%02d", i), 1, day.Add(2*time.Hour))...)
	}
	fake.Logs.Put("us-east-1", group, "zz-empty")
	fake.Logs.DeleteStream("us-east-1", group, "zz-empty")
	fake.Logs.Put("us-east-1", group, "zz-empty") // exists, no events
	fake.Logs.Put("us-east-1", group, "old", events("old", 2, day.Add(-100*24*time.Hour))...)
	fake.Logs.CreateGroup("us-east-1", "app-logs")
	fake.Logs.Put("eu-west-1", group, "eu", awsfake.LogEvent{Timestamp: day.Add(time.Hour).UnixMilli(), Message: `{"kind":"eks audit"}`})
	fake.Logs.CreateGroup("eu-west-1", "app-logs")
	fake.Inject("GetLogEvents", awsfake.EmptyPage)

	s := awsfake.MustNew(t, New, cfg, settings("cw", nil, awsfake.NewClock(noon), nil))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	evs := c.Take()
	if len(evs) != 600+55+1 {
		t.Fatalf("got %d events, want 656", len(evs))
	}
	var big []string
	for _, e := range evs {
		if e.Origin.Unit == "us-east-1/"+group+"/"+stream {
			big = append(big, string(e.Log))
		}
	}
	if len(big) != 600 || big[0] != "big-0" || big[599] != "big-599" {
		t.Errorf("big stream: %d events, first %q", len(big), big[:1])
	}
	last := evs[len(evs)-1]
	if string(last.Log) != `{"kind":"eks audit"}` || last.Location != "Wazuh-AWS" || last.AgentID != "000" ||
		last.Origin.Unit != "eu-west-1/"+group+"/eu" || last.Origin.Offset != day.Add(time.Hour).UnixMilli()*1_000_000 {
		t.Errorf("eu event = %+v %s", last, last.Log)
	}
	describe := map[string]int{}
	for _, call := range fake.Calls("DescribeLogStreams") {
		describe[call.Region]++
	}
	if describe["us-east-1"] != 3 || describe["eu-west-1"] != 2 {
		t.Errorf("DescribeLogStreams calls per region = %v, want 2 pages + 1 in us-east-1, 1 + 1 in eu-west-1", describe)
	}
	for _, call := range fake.Calls("GetLogEvents") {
		if strings.Contains(string(call.Body), "zz-empty") || strings.Contains(string(call.Body), `"old"`) {
			t.Errorf("read a stream with nothing to read: %s", call.Body)
		}
	}
}

// TestBoundaryAndRestart: a restarted source with the same state store reads on
// after the last event delivered; events at the same millisecond as it, even
// identical ones, are delivered once, with stable ids.
func TestBoundaryAndRestart(t *testing.T) {
	fake, cfg := newFake(t)
	path := filepath.Join(t.TempDir(), "state.db")
	t1 := day.Add(time.Hour).UnixMilli()
	fake.Logs.Put("us-east-1", group, stream,
		awsfake.LogEvent{Timestamp: t1 - 5, Message: "a"},
		awsfake.LogEvent{Timestamp: t1, Message: "dup", IngestionTime: t1 + 10},
		awsfake.LogEvent{Timestamp: t1, Message: "dup", IngestionTime: t1 + 10})
	clk := awsfake.NewClock(noon)
	c := &awsfake.Collector{}
	st := awsfake.OpenStore(t, path)
	s := awsfake.MustNew(t, New, cfg, settings("cw", st, clk, nil))
	awsfake.MustRunPass(t, s, c)
	first := c.Take()
	if got := messages(first); !slices.Equal(got, []string{"a", "dup", "dup"}) {
		t.Fatalf("first run: %q", got)
	}
	st.Close()

	// Same millisecond: an identical third copy and another event; then later ones.
	fake.Logs.Put("us-east-1", group, stream,
		awsfake.LogEvent{Timestamp: t1, Message: "dup", IngestionTime: t1 + 10},
		awsfake.LogEvent{Timestamp: t1, Message: "late"},
		awsfake.LogEvent{Timestamp: t1 + 1, Message: "next"})
	st = awsfake.OpenStore(t, path)
	defer st.Close()
	s = awsfake.MustNew(t, New, cfg, settings("cw", st, clk, nil))
	awsfake.MustRunPass(t, s, c)
	second := c.Take()
	if got := messages(second); !slices.Equal(got, []string{"dup", "late", "next"}) {
		t.Fatalf("after restart: %q, want the third dup, late and next", got)
	}
	offsets := map[int64]bool{}
	for _, e := range append(first, second...) {
		if offsets[e.Origin.Offset] {
			t.Errorf("offset %d used twice", e.Origin.Offset)
		}
		offsets[e.Origin.Offset] = true
	}
	if second[0].Origin.Offset != t1*1_000_000+2 {
		t.Errorf("third event at %d has offset %d, want index 2 in its millisecond", t1, second[0].Origin.Offset)
	}
	awsfake.MustRunPass(t, s, c)
	if evs := c.Take(); len(evs) != 0 {
		t.Errorf("third run delivered %q", messages(evs))
	}
}

// TestCrashMidStream: the position only moves over the contiguous prefix of
// acknowledged batches; after a crash the rest is read again with the same ids.
func TestCrashMidStream(t *testing.T) {
	fake, cfg := newFake(t)
	cfg.BatchSize = 100
	fake.Logs.Put("us-east-1", group, stream, events("e", 350, day.Add(time.Hour))...)
	path := filepath.Join(t.TempDir(), "state.db")
	clk := awsfake.NewClock(noon)
	st := awsfake.OpenStore(t, path)
	s := awsfake.MustNew(t, New, cfg, settings("cw", st, clk, nil))
	c := &awsfake.Collector{Hold: true}
	awsfake.MustRunPass(t, s, c)
	first := c.Take()
	if len(c.Acks) != 4 {
		t.Fatalf("%d batches, want 4", len(c.Acks))
	}
	c.Acks[0](nil)
	c.Acks[2](nil) // acknowledged, but after a gap
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = awsfake.OpenStore(t, path)
	defer st.Close()
	s = awsfake.MustNew(t, New, cfg, settings("cw", st, clk, nil))
	c = &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	again := c.Take()
	if len(again) != 250 || string(again[0].Log) != "e-100" {
		t.Fatalf("after the crash: %d events from %q, want 250 from e-100", len(again), again[0].Log)
	}
	for i, e := range again {
		if e.Origin != first[100+i].Origin {
			t.Fatalf("event %q has origin %+v, was %+v", e.Log, e.Origin, first[100+i].Origin)
		}
	}
}

// TestFailedBatchIsReadAgain: a batch the outputs refused holds the position, so
// the next pass delivers it and what followed it.
func TestFailedBatchIsReadAgain(t *testing.T) {
	fake, cfg := newFake(t)
	cfg.BatchSize = 10
	fake.Logs.Put("us-east-1", group, stream, events("e", 30, day.Add(time.Hour))...)
	s := awsfake.MustNew(t, New, cfg, settings("cw", nil, awsfake.NewClock(noon), nil))
	c := &awsfake.Collector{Hold: true}
	awsfake.MustRunPass(t, s, c)
	c.Take()
	c.Acks[0](nil)
	c.Acks[1](awsfake.ErrOutput)
	c.Acks[2](nil)
	c.Hold, c.Acks = false, nil
	fake.Logs.Put("us-east-1", group, stream, events("f", 1, day.Add(2*time.Hour))...)
	awsfake.MustRunPass(t, s, c)
	got := messages(c.Take())
	if len(got) != 21 || got[0] != "e-10" || got[20] != "f-0" {
		t.Errorf("second pass: %d events %q..., want e-10 .. e-29 and f-0", len(got), got[:1])
	}
}

// TestIdleStreamsAreNotRead: a stream whose last ingestion time has not moved is
// not read again; one that has is.
func TestIdleStreamsAreNotRead(t *testing.T) {
	fake, cfg := newFake(t)
	fake.Logs.Put("us-east-1", group, "idle", events("i", 3, day.Add(time.Hour))...)
	fake.Logs.Put("us-east-1", group, "busy", events("b", 3, day.Add(time.Hour))...)
	s := awsfake.MustNew(t, New, cfg, settings("cw", nil, awsfake.NewClock(noon), nil))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	c.Take()
	before := len(fake.Calls("GetLogEvents"))
	time.Sleep(2 * time.Millisecond) // a later ingestion time
	fake.Logs.Put("us-east-1", group, "busy", events("c", 1, day.Add(2*time.Hour))...)
	awsfake.MustRunPass(t, s, c)
	if got := messages(c.Take()); !slices.Equal(got, []string{"c-0"}) {
		t.Errorf("second pass: %q", got)
	}
	for _, call := range fake.Calls("GetLogEvents")[before:] {
		if strings.Contains(string(call.Body), `"idle"`) {
			t.Errorf("idle stream read again: %s", call.Body)
		}
	}
}

// TestGoneStreamsAreForgotten: a stream missing from the listing is marked, and
// its checkpoint removed once it has been gone for forget_after.
func TestGoneStreamsAreForgotten(t *testing.T) {
	fake, cfg := newFake(t)
	fake.Logs.Put("us-east-1", group, "keep", events("k", 1, day.Add(time.Hour))...)
	fake.Logs.Put("us-east-1", group, "drop", events("d", 1, day.Add(time.Hour))...)
	st := awsfake.OpenStore(t, filepath.Join(t.TempDir(), "state.db"))
	defer st.Close()
	clk := awsfake.NewClock(noon)
	s := awsfake.MustNew(t, New, cfg, settings("cw", st, clk, nil))
	c := &awsfake.Collector{}
	keys := func() []string {
		var ks []string
		_ = st.ForEach("cw", func(k string, _ []byte) error { ks = append(ks, k); return nil })
		return ks
	}
	for _, step := range []struct {
		at   time.Duration
		want []string
	}{
		{0, []string{"s:us-east-1:/aws/lambda/app:drop", "s:us-east-1:/aws/lambda/app:keep", "start:us-east-1:/aws/lambda/app"}},
		{time.Hour, []string{"s:us-east-1:/aws/lambda/app:drop", "s:us-east-1:/aws/lambda/app:keep", "start:us-east-1:/aws/lambda/app"}},
		{26 * time.Hour, []string{"s:us-east-1:/aws/lambda/app:keep", "start:us-east-1:/aws/lambda/app"}},
	} {
		clk.Set(noon.Add(step.at))
		awsfake.MustRunPass(t, s, c)
		if got := keys(); !slices.Equal(got, step.want) {
			t.Errorf("after %v: keys %q, want %q", step.at, got, step.want)
		}
		fake.Logs.DeleteStream("us-east-1", group, "drop")
	}
}

// TestDefaultStartIsKept: without only_logs_after a group is read from midnight
// UTC of its first pass, and that start is kept: a restart days later reads new
// streams from it, not from the new day.
func TestDefaultStartIsKept(t *testing.T) {
	fake, cfg := newFake(t)
	cfg.OnlyLogsAfter = ""
	fake.Logs.Put("us-east-1", group, "a", events("yesterday", 1, day.Add(-time.Hour))...)
	fake.Logs.Put("us-east-1", group, "a", events("today", 1, day.Add(time.Hour))...)
	path := filepath.Join(t.TempDir(), "state.db")
	clk := awsfake.NewClock(noon)
	st := awsfake.OpenStore(t, path)
	s := awsfake.MustNew(t, New, cfg, settings("cw", st, clk, nil))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	if got := messages(c.Take()); !slices.Equal(got, []string{"today-0"}) {
		t.Errorf("first pass: %q", got)
	}
	st.Close()

	fake.Logs.Put("us-east-1", group, "b", events("between", 1, day.Add(30*time.Hour))...)
	clk.Set(day.Add(72 * time.Hour))
	st = awsfake.OpenStore(t, path)
	defer st.Close()
	s = awsfake.MustNew(t, New, cfg, settings("cw", st, clk, nil))
	awsfake.MustRunPass(t, s, c)
	if got := messages(c.Take()); !slices.Equal(got, []string{"between-0"}) {
		t.Errorf("restart two days later: %q, want the new stream's event of the day in between", got)
	}
}
