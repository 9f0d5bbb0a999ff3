package awsinspector

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

var (
	day  = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	noon = day.Add(12 * time.Hour)
)

// TestPagingRegionsAndShape reads findings of two regions over several pages
// and checks the events are shaped as Wazuh's module shapes them.
func TestPagingRegionsAndShape(t *testing.T) {
	fake, cfg := newFake(t)
	cfg.Regions = []string{"us-east-1", "eu-west-1"}
	fake.Inspector.MaxPage = 40
	fake.Inspector.Put(findings("a", 95, day.Add(time.Hour), time.Second)...)
	eu := findings("eu", 3, day.Add(time.Hour), time.Minute)
	for i := range eu {
		eu[i].Region = "eu-west-1"
	}
	fake.Inspector.Put(eu...)
	clk := awsfake.NewClock(noon)
	s := awsfake.MustNew(t, New, cfg, settings("insp", nil, clk, nil))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	evs := c.Take()
	if len(evs) != 98 {
		t.Fatalf("got %d events, want 98", len(evs))
	}
	byRegion := map[string]int{}
	for _, call := range fake.Calls("ListFindings") {
		byRegion[call.Region]++
	}
	if byRegion["us-east-1"] != 3 || byRegion["eu-west-1"] != 1 {
		t.Errorf("ListFindings calls per signing region = %v, want 3 pages in us-east-1 and 1 in eu-west-1", byRegion)
	}
	if w := fake.Inspector.Windows[0]; !w[0].Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) || !w[1].Equal(noon) {
		t.Errorf("first window = %v, want only_logs_after .. now", w)
	}

	ev := evs[0]
	arn := "arn:aws:inspector2:us-east-1:123456789012:finding/a0000"
	if ev.Location != "Wazuh-AWS" || ev.AgentID != "000" || ev.AgentName != "manager" ||
		ev.Origin.Source != "insp" || ev.Origin.Unit != "us-east-1/"+arn ||
		ev.Origin.Offset != day.Add(time.Hour).UnixNano() {
		t.Errorf("event metadata = %+v", ev)
	}
	var doc struct {
		Integration string         `json:"integration"`
		AWS         map[string]any `json:"aws"`
	}
	if err := json.Unmarshal(ev.Log, &doc); err != nil {
		t.Fatalf("event is not JSON: %v\n%s", err, ev.Log)
	}
	want := map[string]any{
		"findingArn": arn, "severity": "HIGH", "type": "PACKAGE_VULNERABILITY", "source": "inspector2",
		"updatedAt": "2024-03-01T01:00:00Z", "firstObservedAt": "2024-03-01T01:00:00Z", "awsAccountId": "123456789012",
	}
	if doc.Integration != "aws" {
		t.Errorf("integration = %q", doc.Integration)
	}
	for k, v := range want {
		if doc.AWS[k] != v {
			t.Errorf("aws.%s = %v, want %v", k, doc.AWS[k], v)
		}
	}
	if !strings.HasPrefix(string(ev.Log), `{"integration":"aws","aws":{"awsAccountId":`) || !strings.HasSuffix(string(ev.Log), `,"source":"inspector2"}}`) {
		t.Errorf("members not in wire order with source last: %s", ev.Log)
	}
	fields, err := ev.Fields()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fields {
		got[f.Key] = f.Value
	}
	if got["aws.severity"] != "HIGH" || got["aws.source"] != "inspector2" || got["aws.remediation.recommendation.text"] == "" {
		t.Errorf("rules would see %v", got)
	}
}

// TestBoundaryAndUpdates: the next window starts at the greatest updatedAt
// delivered, inclusive; findings at that very millisecond are not sent twice,
// new ones at it are, and an updated finding is a new event.
func TestBoundaryAndUpdates(t *testing.T) {
	fake, cfg := newFake(t)
	t2 := day.Add(2 * time.Hour)
	fs := []awsfake.Finding{
		{ARN: "arn:f/a", UpdatedAt: day.Add(time.Hour), Severity: "LOW", Type: "NETWORK_REACHABILITY"},
		{ARN: "arn:f/b", UpdatedAt: t2.Add(123 * time.Millisecond), Severity: "LOW"},
		{ARN: "arn:f/c", UpdatedAt: t2.Add(123 * time.Millisecond), Severity: "LOW"},
	}
	fake.Inspector.Put(fs...)
	clk := awsfake.NewClock(noon)
	s := awsfake.MustNew(t, New, cfg, settings("insp", nil, clk, nil))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	if n := len(c.Take()); n != 3 {
		t.Fatalf("first pass: %d events, want 3", n)
	}

	// Same millisecond as the cursor, a new finding; and a's update.
	fake.Inspector.Put(awsfake.Finding{ARN: "arn:f/d", UpdatedAt: t2.Add(123 * time.Millisecond), Severity: "HIGH"},
		awsfake.Finding{ARN: "arn:f/a", UpdatedAt: noon.Add(time.Minute), Severity: "HIGH"})
	clk.Set(noon.Add(time.Hour))
	awsfake.MustRunPass(t, s, c)
	got := awsfake.Units(c.Take())
	if len(got) != 2 || got["us-east-1/arn:f/d"] != 1 || got["us-east-1/arn:f/a"] != 1 {
		t.Errorf("second pass delivered %v, want d and the new version of a", got)
	}
	w := fake.Inspector.Windows[1]
	if !w[0].Equal(t2.Add(123 * time.Millisecond)) {
		t.Errorf("second window starts at %v, want the cursor %v (inclusive)", w[0], t2.Add(123*time.Millisecond))
	}

	// Nothing new: nothing sent, and the window starts at a's update.
	clk.Set(noon.Add(2 * time.Hour))
	awsfake.MustRunPass(t, s, c)
	if evs := c.Take(); len(evs) != 0 {
		t.Errorf("third pass delivered %v", awsfake.Units(evs))
	}
	if w := fake.Inspector.Windows[2]; !w[0].Equal(noon.Add(time.Minute)) {
		t.Errorf("third window starts at %v", w[0])
	}
}

// TestRestartResumes: a new process with the same state store neither repeats
// nor loses findings.
func TestRestartResumes(t *testing.T) {
	fake, cfg := newFake(t)
	fake.Inspector.Put(findings("a", 150, day.Add(time.Hour), time.Second)...)
	path := filepath.Join(t.TempDir(), "state.db")
	clk := awsfake.NewClock(noon)
	c := &awsfake.Collector{}

	st := awsfake.OpenStore(t, path)
	s := awsfake.MustNew(t, New, cfg, settings("insp", st, clk, nil))
	awsfake.MustRunPass(t, s, c)
	if n := len(c.Take()); n != 150 {
		t.Fatalf("first run: %d events", n)
	}
	st.Close()

	fake.Inspector.Put(findings("b", 2, noon.Add(-time.Minute), time.Millisecond)...)
	clk.Set(noon.Add(time.Hour))
	st = awsfake.OpenStore(t, path)
	defer st.Close()
	s = awsfake.MustNew(t, New, cfg, settings("insp", st, clk, nil))
	awsfake.MustRunPass(t, s, c)
	got := awsfake.Units(c.Take())
	if len(got) != 2 || got["us-east-1/arn:aws:inspector2:us-east-1:123456789012:finding/b0000"] != 1 {
		t.Errorf("after restart delivered %v, want the two new findings", got)
	}
}

// TestDefaultStartIsKept: without only_logs_after the first pass starts at
// midnight UTC and stores it; a restart days later reads the days in between.
func TestDefaultStartIsKept(t *testing.T) {
	fake, cfg := newFake(t)
	cfg.OnlyLogsAfter = ""
	fake.Inspector.Put(findings("old", 1, day.Add(-time.Hour), time.Second)...)
	path := filepath.Join(t.TempDir(), "state.db")
	clk := awsfake.NewClock(noon)
	st := awsfake.OpenStore(t, path)
	s := awsfake.MustNew(t, New, cfg, settings("insp", st, clk, nil))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	if evs := c.Take(); len(evs) != 0 {
		t.Errorf("first pass read %v from before today", awsfake.Units(evs))
	}
	st.Close()

	fake.Inspector.Put(findings("mid", 1, day.Add(30*time.Hour), time.Second)...)
	clk.Set(day.Add(72 * time.Hour))
	st = awsfake.OpenStore(t, path)
	defer st.Close()
	s = awsfake.MustNew(t, New, cfg, settings("insp", st, clk, nil))
	awsfake.MustRunPass(t, s, c)
	if got := awsfake.Units(c.Take()); len(got) != 1 {
		t.Errorf("restart two days later read %v, want the finding of the day in between", got)
	}
	if w := fake.Inspector.Windows[1]; !w[0].Equal(day) {
		t.Errorf("second window starts at %v, want the stored start %v", w[0], day)
	}
}

// TestCrashInsideWindow: findings acknowledged before a crash are remembered one
// by one, so the restarted pass sends exactly the others; once the window is
// complete the per-finding entries are dropped.
func TestCrashInsideWindow(t *testing.T) {
	fake, cfg := newFake(t)
	fake.Inspector.MaxPage = 50
	fake.Inspector.Put(findings("a", 120, day.Add(time.Hour), time.Second)...)
	path := filepath.Join(t.TempDir(), "state.db")
	clk := awsfake.NewClock(noon)

	st := awsfake.OpenStore(t, path)
	s := awsfake.MustNew(t, New, cfg, settings("insp", st, clk, nil))
	c := &awsfake.Collector{Hold: true}
	awsfake.MustRunPass(t, s, c)
	first := c.Take()
	if len(first) != 120 || len(c.Acks) != 3 {
		t.Fatalf("%d events in %d batches, want 120 in 3", len(first), len(c.Acks))
	}
	c.Acks[1](nil) // only the second page reaches the outputs before the crash
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close() // crash: the other batches are never acknowledged

	st = awsfake.OpenStore(t, path)
	defer st.Close()
	s = awsfake.MustNew(t, New, cfg, settings("insp", st, clk, nil))
	c = &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	again := awsfake.Units(c.Take())
	if len(again) != 70 {
		t.Errorf("after the crash %d findings were sent again, want the 70 not acknowledged", len(again))
	}
	for _, ev := range first[50:100] {
		if again[ev.Origin.Unit] > 0 {
			t.Errorf("%s was acknowledged before the crash and sent again", ev.Origin.Unit)
		}
	}
	var keys []string
	_ = st.ForEach("insp", func(k string, _ []byte) error { keys = append(keys, k); return nil })
	if len(keys) != 1 || keys[0] != "cursor/us-east-1" {
		t.Errorf("checkpoint keys after the window completed: %v, want only the cursor", keys)
	}
}

// TestFailedBatchIsSentAgain: a batch the outputs could not take is delivered
// again on the next pass, the acknowledged ones are not.
func TestFailedBatchIsSentAgain(t *testing.T) {
	fake, cfg := newFake(t)
	fake.Inspector.MaxPage = 10
	fake.Inspector.Put(findings("a", 30, day.Add(time.Hour), time.Second)...)
	clk := awsfake.NewClock(noon)
	s := awsfake.MustNew(t, New, cfg, settings("insp", nil, clk, nil))
	c := &awsfake.Collector{Hold: true}
	awsfake.MustRunPass(t, s, c)
	evs := c.Take()
	c.Acks[0](nil)
	c.Acks[1](awsfake.ErrOutput)
	c.Acks[2](nil)
	c.Hold, c.Acks = false, nil
	awsfake.MustRunPass(t, s, c)
	got := awsfake.Units(c.Take())
	if len(got) != 10 {
		t.Fatalf("second pass sent %d findings, want the 10 of the failed batch", len(got))
	}
	for _, ev := range evs[10:20] {
		if got[ev.Origin.Unit] != 1 {
			t.Errorf("%s of the failed batch not sent again", ev.Origin.Unit)
		}
	}
}
