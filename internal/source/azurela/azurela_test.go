package azurela

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPassReadsTheWindow: the first pass reads [now - time_offset, now - delay):
// rows before it and rows still inside the delay are not read; each row is one
// event shaped as Wazuh's module shapes it, with typed values.
func TestPassReadsTheWindow(t *testing.T) {
	e := newEnv(t)
	e.addRows(ws1, "old", 3, noon.Add(-3*time.Hour), time.Minute)           // before the offset
	want := e.addRows(ws1, "in", 20, noon.Add(-2*time.Hour), 5*time.Minute) // 10:00 .. 11:35
	e.addRows(ws1, "late", 3, noon.Add(-4*time.Minute), time.Minute)        // inside the delay
	s := e.newSource(t, "la", nil)
	c := &collector{}
	mustRunPass(t, s, c)
	evs := c.take()
	got := users(t, evs)
	if len(got) != len(want) || len(evs) != len(want) {
		t.Fatalf("got %d events (%d users), want %d: %v", len(evs), len(got), len(want), got)
	}
	for _, u := range want {
		if got[u] != 1 {
			t.Errorf("%s delivered %d times", u, got[u])
		}
	}
	first := `{"TimeGenerated":"2024-05-01T10:00:00Z","UserPrincipalName":"in0000@contoso.com","ResultType":"0",` +
		`"Count":9007199254740993,"Status":{"errorCode":0,"n":0},"Type":"SigninLogs",` +
		`"azure_tag":"azure-log-analytics","log_analytics_tag":"signins"}`
	if string(evs[0].Log) != first {
		t.Errorf("event:\n%s\nwant\n%s", evs[0].Log, first)
	}
	ev := evs[0]
	if ev.Location != "Azure" || ev.AgentID != "000" || ev.AgentName != "manager" || ev.Origin.Source != "la" ||
		!strings.HasPrefix(ev.Origin.Unit, ws1+"/") || ev.Origin.Offset != noon.Add(-2*time.Hour).UnixNano() {
		t.Errorf("event envelope %+v", ev)
	}
	calls := e.la.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	if c := calls[0]; c.Workspace != ws1 || c.Query != e.cfg.Query || c.Timespan != "2024-05-01T10:00:00Z/2024-05-01T11:55:00Z" ||
		c.Prefer != "wait=180" {
		t.Errorf("request %+v", c)
	}
	if st := s.Stats(); st.Events != 20 || st.Errors != 0 || !st.Newest.Equal(noon.Add(-25*time.Minute)) {
		t.Errorf("stats %+v", st)
	}
}

// TestOverlapDoublesNothing: the next pass starts overlap before the last
// window's end, so rows ingested late are read, and rows read before are not
// sent again (Wazuh #9760).
func TestOverlapDoublesNothing(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	st := openStore(t, dir)
	defer st.Close()
	e.addRows(ws1, "a", 30, noon.Add(-2*time.Hour), 3*time.Minute) // to 11:27
	s := e.newSource(t, "la", st)
	c := &collector{}
	mustRunPass(t, s, c)
	if n := len(c.take()); n != 30 {
		t.Fatalf("first pass: %d events", n)
	}
	// Late rows: stamped inside the first window, ingested after it was read.
	late := e.addRows(ws1, "late", 4, noon.Add(-8*time.Minute), time.Minute) // 11:52 .. 11:55
	fresh := e.addRows(ws1, "new", 3, noon.Add(time.Minute), time.Minute)
	e.clock.Add(10 * time.Minute)
	mustRunPass(t, s, c)
	got := users(t, c.take())
	want := append(late, fresh...)
	if len(got) != len(want) {
		t.Fatalf("second pass sent %v, want %v", got, want)
	}
	for _, u := range want {
		if got[u] != 1 {
			t.Errorf("%s sent %d times", u, got[u])
		}
	}
	calls := e.la.Calls()
	if ts := calls[len(calls)-1].Timespan; ts != "2024-05-01T11:45:00Z/2024-05-01T12:05:00Z" {
		t.Errorf("second window %s, want from cursor - overlap (11:55 - 10m) to now - delay", ts)
	}
	// A third pass with nothing new sends nothing, and the seen rows older
	// than the horizon are forgotten.
	e.clock.Add(30 * time.Minute)
	mustRunPass(t, s, c)
	if n := len(c.take()); n != 0 {
		t.Errorf("third pass sent %d events", n)
	}
	var seen int
	_ = st.ForEachPrefix("la", seenPrefix, func(string, []byte) error { seen++; return nil })
	if seen != 0 {
		t.Errorf("%d seen keys kept after the window moved past them", seen)
	}
}

// TestTruncatedWindowIsSplit: a reply the service truncates (PartialError) is
// discarded and the window read in halves until every piece is complete; no
// row is lost or doubled.
func TestTruncatedWindowIsSplit(t *testing.T) {
	e := newEnv(t)
	e.la.RowLimit = 10
	want := e.addRows(ws1, "r", 73, noon.Add(-100*time.Minute), time.Minute)
	s := e.newSource(t, "la", nil)
	c := &collector{}
	mustRunPass(t, s, c)
	got := users(t, c.take())
	if len(got) != 73 {
		t.Fatalf("%d distinct rows, want 73", len(got))
	}
	for _, u := range want {
		if got[u] != 1 {
			t.Errorf("%s sent %d times", u, got[u])
		}
	}
	partial, complete := 0, 0
	for _, call := range e.la.Calls() {
		if call.Partial {
			partial++
		} else {
			complete++
		}
	}
	if partial == 0 || complete < 8 {
		t.Errorf("%d partial and %d complete replies; want splits down to windows of at most 10 rows", partial, complete)
	}
	if !strings.Contains(e.logs.String(), "window truncated by the service") {
		t.Error("the split was not logged")
	}
}

// TestFullReplyIsSplit: a reply with as many rows as the service's limit is
// taken as truncated even without a PartialError.
func TestFullReplyIsSplit(t *testing.T) {
	e := newEnv(t)
	e.la.RowLimit = 0 // the fake never truncates
	e.addRows(ws1, "r", 25, noon.Add(-100*time.Minute), time.Minute)
	set := e.settings("la", nil)
	set.RowLimit = 8
	s, err := New(e.cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	mustRunPass(t, s, c)
	if got := users(t, c.take()); len(got) != 25 {
		t.Fatalf("%d distinct rows, want 25", len(got))
	}
	if n := len(e.la.Calls()); n < 5 {
		t.Errorf("%d calls, want the window split", n)
	}
}

// TestWorkspacesHaveTheirOwnCheckpoints: workspace and workspaces are read
// with the same query, each from its own cursor.
func TestWorkspacesHaveTheirOwnCheckpoints(t *testing.T) {
	e := newEnv(t)
	e.cfg.Workspaces = []string{ws2}
	st := openStore(t, t.TempDir())
	defer st.Close()
	a := e.addRows(ws1, "one", 5, noon.Add(-time.Hour), time.Minute)
	b := e.addRows(ws2, "two", 7, noon.Add(-time.Hour), time.Minute)
	s := e.newSource(t, "la", st)
	c := &collector{}
	mustRunPass(t, s, c)
	got := users(t, c.take())
	if len(got) != len(a)+len(b) {
		t.Fatalf("got %v", got)
	}
	var keys []string
	_ = st.ForEachPrefix("la", cursorPrefix, func(k string, v []byte) error {
		keys = append(keys, k+"="+string(v))
		return nil
	})
	if len(keys) != 2 || !strings.Contains(strings.Join(keys, " "), ws2) {
		t.Errorf("cursors %v, want one per workspace", keys)
	}
	if p := s.Progress(); p.Done != 2 || p.Total != 2 || p.Unit != "workspaces" {
		t.Errorf("progress %+v", p)
	}
}

// TestFailedBatchIsSentAgain: a batch the outputs could not take is delivered
// again by the next pass, the acknowledged ones are not.
func TestFailedBatchIsSentAgain(t *testing.T) {
	e := newEnv(t)
	e.cfg.BatchSize = 10
	e.addRows(ws1, "r", 30, noon.Add(-time.Hour), time.Minute)
	s := e.newSource(t, "la", nil)
	c := &collector{hold: true}
	mustRunPass(t, s, c)
	evs := c.take()
	c.acks[0](nil)
	c.acks[1](errOutput)
	c.acks[2](nil)
	c.hold, c.acks = false, nil
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	mustRunPass(t, s, c)
	got := users(t, c.take())
	if len(got) != 10 {
		t.Fatalf("second pass sent %d rows, want the 10 of the failed batch: %v", len(got), got)
	}
	for _, ev := range evs[10:20] {
		var v struct{ UserPrincipalName string }
		_ = json.Unmarshal(ev.Log, &v)
		if got[v.UserPrincipalName] != 1 {
			t.Errorf("%s of the failed batch not sent again", v.UserPrincipalName)
		}
	}
}

// TestIdenticalRowsStayDistinct: rows equal in every column are two events,
// and stay two (not four) when a later window returns them again.
func TestIdenticalRowsStayDistinct(t *testing.T) {
	e := newEnv(t)
	at := noon.Add(-8 * time.Minute) // read by the first window, and again in the second's overlap
	row := json.RawMessage(fmt.Sprintf(`[%q,"twin@contoso.com","0",1,null,"SigninLogs"]`, at.Format(time.RFC3339)))
	e.la.AddRow(ws1, at, row)
	e.la.AddRow(ws1, at, row)
	s := e.newSource(t, "la", nil)
	c := &collector{}
	mustRunPass(t, s, c)
	e.clock.Add(10 * time.Minute)
	mustRunPass(t, s, c)
	if got := users(t, c.take()); got["twin@contoso.com"] != 2 {
		t.Errorf("twin rows delivered %d times, want 2", got["twin@contoso.com"])
	}
}
