package pagerduty_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
	"github.com/skywatch-dev/skywatch/internal/sink/pagerduty"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
)

const routingKey = "R0UT1NGKEYabcdef0123456789abcdef" // 32 characters

// fakePD implements the enqueue endpoint of the Events API v2 as documented:
// it validates the event and answers 202 {"status":"success",...}, or 400
// {"status":"invalid event","message":...,"errors":[...]}. faults, per request,
// override the answer: "429", "500", "drop" or "ok".
type fakePD struct {
	*httptest.Server
	mu     sync.Mutex
	faults []string
	events []map[string]any
}

func newFakePD(t *testing.T) *fakePD {
	f := &fakePD{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakePD) serve(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	invalid := func(errs ...string) {
		reply(400, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": errs})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		reply(404, map[string]any{"status": "not found"})
		return
	}
	f.mu.Lock()
	fault := ""
	if len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	switch fault {
	case "429":
		reply(429, map[string]any{"status": "throttle event", "message": "Requests for this service are arriving too quickly. Please retry later."})
		return
	case "500":
		w.WriteHeader(500)
		return
	case "drop":
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(body) > 512<<10 {
		invalid("Event is too large")
		return
	}
	var ev struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Payload     *struct {
			Summary  string `json:"summary"`
			Source   string `json:"source"`
			Severity string `json:"severity"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		invalid("Event object is not valid JSON")
		return
	}
	var errs []string
	if len(ev.RoutingKey) != 32 {
		errs = append(errs, "Length of 'routing_key' is incorrect (should be 32 characters)")
	}
	switch ev.EventAction {
	case "trigger", "acknowledge", "resolve":
	default:
		errs = append(errs, "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
	}
	if len(ev.DedupKey) > 255 {
		errs = append(errs, "'dedup_key' is too long")
	}
	switch {
	case ev.Payload == nil:
		errs = append(errs, "'payload' is missing or blank")
	default:
		if ev.Payload.Summary == "" || len([]rune(ev.Payload.Summary)) > 1024 {
			errs = append(errs, "'payload.summary' is missing, blank or too long")
		}
		if ev.Payload.Source == "" {
			errs = append(errs, "'payload.source' is missing or blank")
		}
		switch ev.Payload.Severity {
		case "critical", "error", "warning", "info":
		default:
			errs = append(errs, "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')")
		}
	}
	if fault == "invalid" {
		errs = append(errs, "injected")
	}
	if len(errs) > 0 {
		invalid(errs...)
		return
	}
	var all map[string]any
	_ = json.Unmarshal(body, &all)
	f.mu.Lock()
	f.events = append(f.events, all)
	f.mu.Unlock()
	reply(202, map[string]any{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

func (f *fakePD) got() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.events...)
}

func alertRec(id string, level int, description string) sink.Record {
	d, _ := json.Marshal(description)
	j := fmt.Sprintf(`{"timestamp":"2024-05-01T12:00:00.000+0200","rule":{"level":%d,"id":"300021","description":%s,"groups":["aws","cloudtrail"],"mitre":{"id":["T1078.004"],"tactic":["Initial Access"]}},"id":%q,"location":"Wazuh-AWS","data":{"aws":{"recipientAccountId":"111122223333","awsRegion":"eu-west-1","userIdentity":{"arn":"arn:aws:iam::111122223333:root"},"sourceIPAddress":"192.0.2.55"}}}`, level, d, id)
	return sink.Record{JSON: []byte(j), ID: id, Level: level, RuleID: "300021"}
}

type harness struct {
	pd    *fakePD
	sink  *pagerduty.Sink
	logs  *bytes.Buffer
	waits []time.Duration
}

func newHarness(t *testing.T, mutate func(*pagerduty.Config)) *harness {
	t.Helper()
	h := &harness{pd: newFakePD(t), logs: &bytes.Buffer{}}
	cfg := pagerduty.DefaultConfig()
	cfg.RoutingKey = routingKey
	cfg.Endpoint = h.pd.URL + "/v2/enqueue"
	cfg.DashboardURL = "https://skywatch.example.com"
	cfg.RetryInitial = config.Duration(time.Millisecond)
	cfg.RetryMax = config.Duration(time.Millisecond)
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := pagerduty.New(cfg, pagerduty.Options{
		DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(h.logs, nil)),
		Sleep: func(_ context.Context, d time.Duration) error { h.waits = append(h.waits, d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.sink = s
	return h
}

func (h *harness) deliver(t *testing.T, rs ...sink.Record) error {
	t.Helper()
	if err := h.sink.Write(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	return h.sink.Flush(context.Background())
}

func assertNoKey(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, routingKey) || strings.Contains(text, "R0UT1NGKEY") {
		t.Errorf("%s contains the routing key:\n%s", what, text)
	}
}

func TestEventContent(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.deliver(t, alertRec("4c1d", 12, "Root console login")); err != nil {
		t.Fatal(err)
	}
	got := h.pd.got()
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	ev, _ := json.Marshal(got[0])
	var e pagerduty.Event
	if err := json.Unmarshal(ev, &e); err != nil {
		t.Fatal(err)
	}
	p := e.Payload
	if e.RoutingKey != routingKey || e.EventAction != "trigger" || e.DedupKey != "4c1d" || e.Client != "skywatch" ||
		e.ClientURL != "https://skywatch.example.com" {
		t.Errorf("event %+v", e)
	}
	if p.Summary != "[high] Root console login — arn:aws:iam::111122223333:root from 192.0.2.55" || p.Source != "aws:111122223333:eu-west-1" ||
		p.Severity != "error" || p.Timestamp != "2024-05-01T12:00:00.000+02:00" || p.Component != "arn:aws:iam::111122223333:root" ||
		p.Group != "aws" || p.Class != "rule 300021" {
		t.Errorf("payload %+v", p)
	}
	cd := fmt.Sprint(p.CustomDetails)
	for _, want := range []string{"alert_id:4c1d", "rule_id:300021", "level:12", "principal:arn:aws:iam::111122223333:root", "srcip:192.0.2.55",
		"mitre_techniques:[T1078.004]", "mitre_tactics:[Initial Access]", "account:111122223333", "region:eu-west-1", "severity:high"} {
		if !strings.Contains(cd, want) {
			t.Errorf("custom_details lacks %s: %s", want, cd)
		}
	}
	if len(e.Links) != 1 || e.Links[0].Href != "https://skywatch.example.com/alerts/4c1d" {
		t.Errorf("links %+v", e.Links)
	}
}

func TestSeverityMapping(t *testing.T) {
	for level, want := range map[int]string{3: "info", 4: "info", 5: "warning", 8: "warning", 10: "error", 12: "error", 13: "critical", 16: "critical"} {
		e, err := pagerduty.NewEvent(alertRec("x", level, "d").JSON, routingKey, "")
		if err != nil {
			t.Fatal(err)
		}
		if e.Payload.Severity != want {
			t.Errorf("level %d: %s, want %s", level, e.Payload.Severity, want)
		}
	}
}

func TestLongSummaryIsCut(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.deliver(t, alertRec("x", 12, strings.Repeat("ü", 2000))); err != nil {
		t.Fatal(err)
	}
	got := h.pd.got() // the fake refuses summaries over 1024 characters
	if len(got) != 1 {
		t.Fatalf("not accepted; dead letters at %s", h.sink.DeadLetterFile())
	}
	s := got[0]["payload"].(map[string]any)["summary"].(string)
	if len(s) > 1024 || !strings.HasSuffix(s, "…") {
		t.Errorf("summary of %d bytes", len(s))
	}
}

func TestAnswers(t *testing.T) {
	h := newHarness(t, nil)
	h.pd.faults = []string{"429", "500", "drop", "ok", "invalid"}
	if err := h.deliver(t, alertRec("a", 12, "d"), alertRec("b", 12, "d"), alertRec("c", 12, "d")); err != nil {
		t.Fatal(err)
	}
	st := h.sink.Stats()
	if st.Sent != 2 || st.DeadLettered != 1 || st.RateLimited != 1 || st.Retries != 3 || st.Buffered != 0 {
		t.Errorf("stats %+v", st)
	}
	raw, err := os.ReadFile(h.sink.DeadLetterFile())
	if err != nil {
		t.Fatal(err)
	}
	var e notify.DeadLetterEntry
	if err := json.Unmarshal(bytes.TrimSpace(raw), &e); err != nil {
		t.Fatal(err)
	}
	if e.AlertID != "b" || e.Status != 400 || e.Reason != "Event object is invalid: injected" {
		t.Errorf("dead letter %+v", e)
	}
	if len(h.waits) != 0 {
		t.Errorf("waited %v without a Retry-After", h.waits)
	}
	assertNoKey(t, "dead-letter file", string(raw))
	assertNoKey(t, "log", h.logs.String())
}

func TestWrongRoutingKey(t *testing.T) {
	h := newHarness(t, func(c *pagerduty.Config) { c.RoutingKey = "R0UT1NGKEY-too-short" })
	if err := h.deliver(t, alertRec("a", 12, "d")); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(h.sink.DeadLetterFile())
	if !strings.Contains(string(raw), "Length of 'routing_key' is incorrect") {
		t.Errorf("dead-letter file %s", raw)
	}
	assertNoKey(t, "dead-letter file", string(raw))
}

func TestOutageKeepsAlertsAndHidesKey(t *testing.T) {
	h := newHarness(t, func(c *pagerduty.Config) { c.MaxAttempts = 3 })
	h.pd.faults = []string{"500", "500", "500"}
	err := h.deliver(t, alertRec("a", 12, "d"))
	if err == nil {
		t.Fatal("no error")
	}
	assertNoKey(t, "error", err.Error())
	assertNoKey(t, "log", h.logs.String())
	if !strings.HasPrefix(err.Error(), "pagerduty: post to "+h.pd.URL+"/…: 500 Internal Server Error") {
		t.Errorf("error %v", err)
	}
	if err := h.sink.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.pd.got()) != 1 {
		t.Error("not delivered after recovery")
	}
}

func TestFollowUpUsesTheFirstAlertsDedupKey(t *testing.T) {
	h := newHarness(t, nil)
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	cfg := suppress.DefaultConfig()
	cfg.Window = config.Duration(30 * time.Minute)
	s, err := suppress.New(h.sink, cfg, suppress.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"first", "second", "third"} {
		if err := s.Write(ctx, []sink.Record{alertRec(id, 13, "Root console login")}); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(30 * time.Minute)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := h.pd.got()
	if len(got) != 2 {
		t.Fatalf("%d events", len(got))
	}
	fu := got[1]
	p := fu["payload"].(map[string]any)
	sup := p["custom_details"].(map[string]any)["suppressed"].(map[string]any)
	if fu["dedup_key"] != "first" || !strings.HasPrefix(p["summary"].(string), "[critical] 2 more held back: Root console login") ||
		sup["count"] != float64(2) || p["custom_details"].(map[string]any)["alert_id"] != "third" {
		t.Errorf("follow-up %v", fu)
	}
}
