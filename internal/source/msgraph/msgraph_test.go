package msgraph

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// TestPagingAndShape reads sign-ins over several pages and alerts, and checks
// the query, the paging and both event shapes.
func TestPagingAndShape(t *testing.T) {
	f := newFakes(t)
	f.cfg.PageSize = 100
	f.cfg.Resources = []Resource{{Resource: "auditLogs/signIns"}, {Resource: "security/alerts_v2"}}
	f.graph.Put("auditLogs/signIns", signIns("s", 250, day.Add(time.Hour), time.Second)...)
	f.graph.Put("auditLogs/signIns", signIn("yesterday", day.Add(-time.Hour), "old@contoso.com", "192.0.2.1", 0))
	f.graph.Put("security/alerts_v2", alertV2("da-1", day.Add(2*time.Hour), day.Add(3*time.Hour), "high", "new", "CredentialAccess", "Password spray"))
	clk := &clock{t: noon}
	s := mustNew(t, f.cfg, f.settings("graph", nil, clk, nil, nil))
	c := &collector{}
	mustPass(t, s, c)
	sizes := append([]int(nil), c.sizes...)
	evs := c.take()
	if len(evs) != 251 {
		t.Fatalf("got %d events, want 250 sign-ins of today and 1 alert", len(evs))
	}
	if fmt.Sprint(sizes) != "[100 100 50 1]" {
		t.Errorf("batch sizes %v, want one batch per page", sizes)
	}
	reqs := f.graph.Requests()
	if len(reqs) != 4 || reqs[1].SkipToken == "" || reqs[0].Top != 100 {
		t.Fatalf("requests %+v", reqs)
	}
	wantFilter := "createdDateTime ge 2024-03-01T00:00:00.0000000Z and createdDateTime le 2024-03-01T12:00:00.0000000Z"
	if reqs[0].Filter != wantFilter || reqs[1].Filter != wantFilter {
		t.Errorf("filter %q, want %q on every page", reqs[0].Filter, wantFilter)
	}
	if reqs[3].Filter != "lastUpdateDateTime ge 2024-03-01T00:00:00.0000000Z and lastUpdateDateTime le 2024-03-01T12:00:00.0000000Z" {
		t.Errorf("alerts filter %q", reqs[3].Filter)
	}

	ev := evs[0] // newest first, as Graph lists sign-ins
	if ev.Location != "Azure" || ev.AgentID != "000" || ev.AgentName != "manager" || ev.Origin.Source != "graph" ||
		ev.Origin.Unit != "auditLogs/signIns/s-0249" || ev.Origin.Offset != day.Add(time.Hour+249*time.Second).UnixNano() {
		t.Errorf("event metadata %+v", ev)
	}
	log := string(ev.Log)
	// The helpers write members sorted by name; the source keeps that order.
	if !strings.HasPrefix(log, `{"appDisplayName": "Graph Explorer", `) || !strings.Contains(log, `, "id": "s-0249", `) ||
		!strings.Contains(log, `"createdDateTime": "2024-03-01T01:04:09.0000000Z"`) ||
		!strings.HasSuffix(log, `, "azure_tag": "azure-ad-graph", "azure_aad_tag": "auditLogs/signIns"}`) ||
		!strings.Contains(log, `"status": {"additionalDetails": null, "errorCode": 0, "failureReason": "Other."}`) ||
		!strings.Contains(log, `"latitude": 47.68`) {
		t.Errorf("sign-in event not in the azure-logs module's shape:\n%s", log)
	}
	alert := evs[250]
	if alert.Location != "ms-graph" || !strings.HasPrefix(string(alert.Log), `{"integration":"ms-graph","ms-graph":{"@odata.type":"#microsoft.graph.security.alert","category":"CredentialAccess",`) ||
		!strings.HasSuffix(string(alert.Log), `,"resource":"security","relationship":"alerts_v2"}}`) {
		t.Errorf("alert event not in the ms-graph module's shape (%s):\n%s", alert.Location, alert.Log)
	}
	fields, err := alert.Fields()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, fl := range fields {
		got[fl.Key] = fl.Value
	}
	if got["ms-graph.severity"] != "high" || got["ms-graph.relationship"] != "alerts_v2" || got["integration"] != "ms-graph" {
		t.Errorf("rules would see %v", got)
	}
	if st := s.Stats(); st.Events != 251 || st.Errors != 0 || !st.Newest.Equal(day.Add(3*time.Hour)) {
		t.Errorf("stats %+v", st)
	}
}

// TestLookbackNeverDoubles: each window starts a lookback before the last
// one's end; a record made visible late inside the overlap is delivered, and
// the records already delivered there are not (Wazuh #9760).
func TestLookbackNeverDoubles(t *testing.T) {
	f := newFakes(t)
	f.cfg.Resources = []Resource{{Resource: "auditLogs/signIns"}}
	f.graph.Put("auditLogs/signIns", signIns("a", 20, noon.Add(-10*time.Minute), 30*time.Second)...)
	clk := &clock{t: noon}
	s := mustNew(t, f.cfg, f.settings("graph", nil, clk, nil, nil))
	c := &collector{}
	mustPass(t, s, c)
	if n := len(c.take()); n != 20 {
		t.Fatalf("first pass: %d events", n)
	}
	// A sign-in of 11:55 shows up only after the first pass.
	f.graph.Put("auditLogs/signIns", signIn("late", noon.Add(-5*time.Minute), "late@contoso.com", "192.0.2.8", 0))
	clk.Set(noon.Add(5 * time.Minute))
	mustPass(t, s, c)
	got := units(c.take())
	if len(got) != 1 || got["auditLogs/signIns/late"] != 1 {
		t.Errorf("second pass delivered %v, want only the late sign-in", got)
	}
	reqs := f.graph.Requests()
	if !strings.HasPrefix(reqs[1].Filter, "createdDateTime ge 2024-03-01T11:45:00.0000000Z and createdDateTime le 2024-03-01T12:05:00.0000000Z") {
		t.Errorf("second window %q, want 15 minutes before the first one's end", reqs[1].Filter)
	}
	clk.Set(noon.Add(10 * time.Minute))
	mustPass(t, s, c)
	if evs := c.take(); len(evs) != 0 {
		t.Errorf("third pass delivered %v", units(evs))
	}
	if st := s.Stats(); st.Skipped == 0 {
		t.Errorf("stats %+v: the overlap's records were not counted as skipped", st)
	}
}

// TestAlertUpdatesAreNewVersions: an alert whose status changes is listed
// again with a new lastUpdateDateTime and delivered again, once.
func TestAlertUpdatesAreNewVersions(t *testing.T) {
	f := newFakes(t)
	f.cfg.Resources = []Resource{{Resource: "security/alerts_v2", Filter: "severity eq 'high'"}}
	created := day.Add(9 * time.Hour)
	f.graph.Put("security/alerts_v2",
		alertV2("a1", created, created, "high", "new", "Execution", "Malware"),
		alertV2("a2", created, created, "low", "new", "Execution", "Adware"))
	clk := &clock{t: noon}
	s := mustNew(t, f.cfg, f.settings("graph", nil, clk, nil, nil))
	c := &collector{}
	mustPass(t, s, c)
	if got := units(c.take()); len(got) != 1 || got["security/alerts_v2?severity eq 'high'/a1"] != 1 {
		t.Fatalf("first pass %v, want the high alert only (extra filter)", got)
	}
	if r := f.graph.Requests()[0]; !strings.HasSuffix(r.Filter, " and (severity eq 'high')") {
		t.Errorf("filter %q does not AND the configured one", r.Filter)
	}
	f.graph.Put("security/alerts_v2", alertV2("a1", created, noon.Add(time.Minute), "high", "resolved", "Execution", "Malware"))
	clk.Set(noon.Add(5 * time.Minute))
	mustPass(t, s, c)
	evs := c.take()
	if len(evs) != 1 || !strings.Contains(string(evs[0].Log), `"status":"resolved"`) {
		t.Fatalf("second pass %v, want the resolved version", units(evs))
	}
	clk.Set(noon.Add(10 * time.Minute))
	mustPass(t, s, c)
	if evs := c.take(); len(evs) != 0 {
		t.Errorf("third pass repeated %v", units(evs))
	}
}

// TestBacklogInWindows: a first run days back is read in max_window steps,
// each settled before the next, and the checkpoint keeps only the versions
// the lookback can list again.
func TestBacklogInWindows(t *testing.T) {
	f := newFakes(t)
	f.cfg.Resources = []Resource{{Resource: "auditLogs/directoryAudits"}}
	f.cfg.OnlyLogsAfter = "2024-02-28"
	f.cfg.MaxWindow = config.Duration(6 * time.Hour)
	var recs []json.RawMessage
	for i := 0; i < 300; i++ { // every 12 minutes from Feb 28 to Mar 2 12:00
		at := time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 12 * time.Minute)
		recs = append(recs, audit(fmt.Sprintf("d%03d", i), at, "Update user", "success", "admin@contoso.com"))
	}
	end := time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)
	recs = append(recs, audit("near1", end.Add(-10*time.Minute), "Update user", "success", "a@contoso.com"),
		audit("near2", end.Add(-time.Minute), "Update user", "success", "a@contoso.com"))
	f.graph.Put("auditLogs/directoryAudits", recs...)
	path := storePath(t)
	st := openStore(t, path)
	defer st.Close()
	clk := &clock{t: time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)}
	s := mustNew(t, f.cfg, f.settings("graph", st, clk, nil, nil))
	c := &collector{}
	mustPass(t, s, c)
	got := units(c.take())
	if len(got) != 302 {
		t.Fatalf("delivered %d distinct records, want 302", len(got))
	}
	for u, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", u, n)
		}
	}
	if n := len(f.graph.Requests()); n != 14 {
		t.Errorf("%d requests, want 14 windows of 6h from Feb 28 to Mar 2 12:00 (2024 is a leap year)", n)
	}
	var seen int
	_ = st.ForEach("graph", func(k string, _ []byte) error {
		if strings.HasPrefix(k, seenPrefix) {
			seen++
		}
		return nil
	})
	if seen != 2 { // near1 and near2 are inside the last 15 minutes
		t.Errorf("%d versions kept in the checkpoint, want only those inside the lookback", seen)
	}
}
