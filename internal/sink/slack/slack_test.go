package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
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
	"github.com/skywatch-dev/skywatch/internal/sink/slack"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
)

const hookPath = "/services/T0AAAAAAA/B0BBBBBBB/s3cr3tW3bh00kT0k3nXYZ"

// fakeSlack implements the incoming-webhook side of Slack as documented:
// POST JSON to the hook's path; 200 "ok"; 400 invalid_payload for a body that
// is not a message; 404 no_service for an unknown hook; 429 with Retry-After
// when rate limited. fault, when set, overrides the answer of a request.
type fakeSlack struct {
	*httptest.Server
	mu       sync.Mutex
	faults   []string // per request: "ok", "429", "404 no_service", "410 channel_is_archived", "500 rollup_error", "drop"
	messages []message
}

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type block struct {
	Type     string       `json:"type"`
	Text     *textObject  `json:"text"`
	Fields   []textObject `json:"fields"`
	Elements []textObject `json:"elements"`
}

type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

// all returns every piece of text of the message.
func (m message) all() []string {
	out := []string{m.Text}
	for _, b := range m.Blocks {
		if b.Text != nil {
			out = append(out, b.Text.Text)
		}
		for _, f := range append(b.Fields, b.Elements...) {
			out = append(out, f.Text)
		}
	}
	return out
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, body string) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
	if r.Method != http.MethodPost {
		answer(405, "invalid_method")
		return
	}
	if r.URL.Path != hookPath {
		answer(404, "no_service")
		return
	}
	f.mu.Lock()
	fault := ""
	if len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	switch fault {
	case "", "ok":
	case "drop":
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			c.Close()
		}
		return
	case "429":
		w.Header().Set("Retry-After", "2")
		answer(429, "rate_limited")
		return
	default:
		var code int
		var text string
		fmt.Sscanf(fault, "%d %s", &code, &text)
		answer(code, text)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		answer(400, "invalid_payload")
		return
	}
	var m message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || (m.Text == "" && len(m.Blocks) == 0) {
		answer(400, "invalid_payload")
		return
	}
	if problem := checkLimits(m); problem != "" {
		answer(400, "invalid_blocks")
		return
	}
	f.mu.Lock()
	f.messages = append(f.messages, m)
	f.mu.Unlock()
	answer(200, "ok")
}

// checkLimits applies Block Kit's documented limits to the blocks we use.
func checkLimits(m message) string {
	if len(m.Blocks) > 50 || len(m.Text) > 40000 {
		return "too many blocks or text too long"
	}
	for _, b := range m.Blocks {
		switch b.Type {
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				return "section without text or fields"
			}
			if b.Text != nil && (len([]rune(b.Text.Text)) > 3000 || b.Text.Type != "mrkdwn") {
				return "section text"
			}
			if len(b.Fields) > 10 {
				return "too many fields"
			}
			for _, f := range b.Fields {
				if len([]rune(f.Text)) > 2000 || f.Type != "mrkdwn" {
					return "field text"
				}
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return "context elements"
			}
		default:
			return "unexpected block " + b.Type
		}
	}
	return ""
}

func (f *fakeSlack) got() []message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]message(nil), f.messages...)
}

const alertID = "4c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"

// attackAlert is an alert whose attacker-controlled values try to inject
// Slack markup.
func attackAlert(id string, level int) sink.Record {
	j := fmt.Sprintf(`{"timestamp":"2024-05-01T10:00:00.000+0000","rule":{"level":%d,"id":"300021","description":"Login by <!channel> & <https://evil.example|reset your password>","groups":["aws","cloudtrail"],"mitre":{"id":["T1078.004"],"tactic":["Initial Access"]}},"id":%q,"location":"Wazuh-AWS","data":{"aws":{"recipientAccountId":"111122223333","awsRegion":"eu-west-1","userIdentity":{"arn":"<!here> <@U123>\nFAKE LINE"},"sourceIPAddress":"192.0.2.55"}}}`, level, id)
	return sink.Record{JSON: []byte(j), ID: id, Level: level, RuleID: "300021", Groups: []string{"aws", "cloudtrail"}}
}

func render(t *testing.T, r sink.Record, dashboard string) message {
	t.Helper()
	body, err := slack.Message(r.JSON, dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if p := checkLimits(m); p != "" {
		t.Fatalf("message breaks Slack's limits: %s", p)
	}
	return m
}

func TestMessageEscapesAttackerValues(t *testing.T) {
	m := render(t, attackAlert(alertID, 12), "https://skywatch.example.com/")
	for _, text := range m.all() {
		for _, bad := range []string{"<!channel>", "<!here>", "<@U123>", "<https://evil", "\nFAKE LINE"} {
			if strings.Contains(text, bad) {
				t.Errorf("unescaped %q in %q", bad, text)
			}
		}
		// The only markup left is our own link.
		rest := strings.Replace(text, "<https://skywatch.example.com/alerts/"+alertID+"|View alert in skywatch>", "", 1)
		if strings.ContainsAny(rest, "<>") {
			t.Errorf("raw angle bracket in %q", text)
		}
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(rest, "&amp;", ""), "&lt;", ""), "&gt;", ""), "&") {
			t.Errorf("raw ampersand in %q", text)
		}
	}
	all := strings.Join(m.all(), "\n")
	for _, want := range []string{
		"&lt;!channel&gt; &amp; &lt;https://evil.example|reset your password&gt;", // description
		"&lt;!here&gt; &lt;@U123&gt; FAKE LINE",                                   // principal, one line
		"*ATT&amp;CK*\nT1078.004",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("message lacks %q:\n%s", want, all)
		}
	}
}

func TestMessageContent(t *testing.T) {
	m := render(t, attackAlert(alertID, 12), "https://skywatch.example.com/")
	head := m.Blocks[0].Text.Text
	if !strings.HasPrefix(head, ":red_circle: *High* · level 12 · rule 300021\n*Login by") ||
		!strings.HasSuffix(head, "\n<https://skywatch.example.com/alerts/"+alertID+"|View alert in skywatch>") {
		t.Errorf("head %q", head)
	}
	fields := map[string]string{}
	for _, f := range m.Blocks[1].Fields {
		name, value, _ := strings.Cut(f.Text, "\n")
		fields[name] = value
	}
	want := map[string]string{
		"*Provider*": "aws", "*Account*": "111122223333", "*Region*": "eu-west-1", "*Source IP*": "192.0.2.55",
		"*ATT&amp;CK*": "T1078.004", "*Tactics*": "Initial Access", "*Time*": "2024-05-01 10:00:00 UTC",
		"*Principal*": "&lt;!here&gt; &lt;@U123&gt; FAKE LINE",
	}
	if fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("fields %v\nwant   %v", fields, want)
	}
	ctx := m.Blocks[2].Elements[0].Text
	if ctx != "alert "+alertID+" · Wazuh-AWS · aws, cloudtrail" {
		t.Errorf("context %q", ctx)
	}
	if !strings.HasPrefix(m.Text, ":red_circle: High (level 12): Login by &lt;!channel&gt;") || !strings.HasSuffix(m.Text, " from 192.0.2.55") {
		t.Errorf("fallback text %q", m.Text)
	}
}

func TestSeverityBandsInMessage(t *testing.T) {
	for level, want := range map[int]string{3: ":large_blue_circle: *Notable*", 5: ":large_yellow_circle: *Suspicious*",
		8: ":large_orange_circle: *Likely malicious*", 11: ":red_circle: *High*", 15: ":rotating_light: *Critical*"} {
		m := render(t, attackAlert(alertID, level), "")
		if h := m.Blocks[0].Text.Text; !strings.HasPrefix(h, want+fmt.Sprintf(" · level %d", level)) {
			t.Errorf("level %d: %q", level, h)
		}
	}
}

func TestNoDashboardNoLink(t *testing.T) {
	m := render(t, attackAlert(alertID, 12), "")
	if strings.Contains(strings.Join(m.all(), ""), "View alert") {
		t.Error("link without dashboard_url")
	}
}

func TestLongValuesAreCut(t *testing.T) {
	long := strings.Repeat("<&>", 2000)
	r := sink.Record{ID: "x", Level: 7, JSON: []byte(`{"rule":{"level":7,"id":"1","description":"` + long + `"},"id":"x","data":{"aws":{"userIdentity":{"arn":"` + long + `"}}}}`)}
	m := render(t, r, "") // render checks the limits
	if !strings.Contains(m.Blocks[0].Text.Text, "…") {
		t.Error("long description not cut")
	}
}

type harness struct {
	slack *fakeSlack
	sink  *slack.Sink
	logs  *bytes.Buffer
	waits []time.Duration
}

func newHarness(t *testing.T, path string, mutate func(*slack.Config)) *harness {
	t.Helper()
	h := &harness{slack: newFakeSlack(t), logs: &bytes.Buffer{}}
	cfg := slack.DefaultConfig()
	cfg.WebhookURL = config.Secret(h.slack.URL + path)
	cfg.DashboardURL = "https://skywatch.example.com"
	cfg.RetryInitial = config.Duration(time.Millisecond)
	cfg.RetryMax = config.Duration(time.Millisecond)
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := slack.New(cfg, slack.Options{
		Name: "slack-secops", DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(h.logs, nil)),
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

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, "s3cr3tW3bh00kT0k3nXYZ") || strings.Contains(text, "/services/") {
		t.Errorf("%s contains the webhook URL:\n%s", what, text)
	}
}

func deadLetters(t *testing.T, path string) []notify.DeadLetterEntry {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []notify.DeadLetterEntry
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var e notify.DeadLetterEntry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestDeliveryAndSlackAnswers(t *testing.T) {
	h := newHarness(t, hookPath, nil)
	h.slack.faults = []string{
		"429", "500 rollup_error", "drop", "ok", // a: retried, then delivered
		"400 invalid_payload",     // b
		"410 channel_is_archived", // c
		"403 action_prohibited",   // d
	}
	err := h.deliver(t, attackAlert("a", 12), attackAlert("b", 12), attackAlert("c", 12), attackAlert("d", 12), attackAlert("e", 12))
	if err != nil {
		t.Fatal(err)
	}
	got := h.slack.got()
	if len(got) != 2 || !strings.Contains(got[0].Blocks[2].Elements[0].Text, "alert a ") || !strings.Contains(got[1].Blocks[2].Elements[0].Text, "alert e ") {
		t.Fatalf("delivered %d messages: %+v", len(got), got)
	}
	if fmt.Sprint(h.waits) != "[2s]" {
		t.Errorf("Retry-After waits %v, want [2s]", h.waits)
	}
	dl := deadLetters(t, h.sink.DeadLetterFile())
	var seen []string
	for _, e := range dl {
		seen = append(seen, fmt.Sprintf("%s %d %s", e.AlertID, e.Status, e.Reason))
	}
	if strings.Join(seen, "|") != "b 400 invalid_payload|c 410 channel_is_archived|d 403 action_prohibited" {
		t.Errorf("dead letters %v", seen)
	}
	st := h.sink.Stats()
	if st.Sent != 2 || st.DeadLettered != 3 || st.RateLimited != 1 || st.Buffered != 0 {
		t.Errorf("stats %+v", st)
	}
	assertNoSecret(t, "log", h.logs.String())
}

func TestUnknownHookIsNoService(t *testing.T) {
	h := newHarness(t, "/services/T0AAAAAAA/B0BBBBBBB/s3cr3tW3bh00kT0k3nXYZ-revoked", nil)
	if err := h.deliver(t, attackAlert("a", 12)); err != nil {
		t.Fatal(err)
	}
	dl := deadLetters(t, h.sink.DeadLetterFile())
	if len(dl) != 1 || dl[0].Status != 404 || dl[0].Reason != "no_service" {
		t.Errorf("dead letters %+v", dl)
	}
	assertNoSecret(t, "log", h.logs.String())
	raw, _ := os.ReadFile(h.sink.DeadLetterFile())
	assertNoSecret(t, "dead-letter file", string(raw))
}

func TestOutageErrorHidesURL(t *testing.T) {
	h := newHarness(t, hookPath, func(c *slack.Config) { c.MaxAttempts = 2 })
	h.slack.faults = []string{"503 service_unavailable", "drop"}
	err := h.deliver(t, attackAlert("a", 12))
	if err == nil {
		t.Fatal("no error")
	}
	assertNoSecret(t, "error", err.Error())
	assertNoSecret(t, "log", h.logs.String())
	if !strings.HasPrefix(err.Error(), "slack: post to "+h.slack.URL+"/…: ") {
		t.Errorf("error = %v", err)
	}
	if st := h.sink.Stats(); st.Buffered != 1 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
	// Slack is back: the alert kept from the failed flush goes out.
	if err := h.sink.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.slack.got()) != 1 {
		t.Error("not delivered after recovery")
	}
}

func TestUnreadableAlertIsDeadLettered(t *testing.T) {
	h := newHarness(t, hookPath, nil)
	if err := h.deliver(t, sink.Record{ID: "bad", JSON: []byte(`{"rule":`)}); err != nil {
		t.Fatal(err)
	}
	dl := deadLetters(t, h.sink.DeadLetterFile())
	if len(dl) != 1 || dl[0].AlertID != "bad" || !strings.HasPrefix(dl[0].Reason, "cannot encode") {
		t.Errorf("dead letters %+v", dl)
	}
}

func TestSuppressedBurstPostsOnceAndAFollowUp(t *testing.T) {
	h := newHarness(t, hookPath, nil)
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	cfg := suppress.DefaultConfig()
	cfg.Window = config.Duration(10 * time.Minute)
	s, err := suppress.New(h.sink, cfg, suppress.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		if err := s.Write(ctx, []sink.Record{attackAlert(fmt.Sprint("burst-", i), 12)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
	}
	if n := len(h.slack.got()); n != 1 {
		t.Fatalf("%d messages during the burst, want 1", n)
	}
	now = now.Add(10 * time.Minute)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := h.slack.got()
	if len(got) != 2 {
		t.Fatalf("%d messages, want the first and a follow-up", len(got))
	}
	note := got[1].Blocks[1].Text.Text
	if !strings.HasPrefix(note, ":repeat: *4 more* like this were held back between 2024-05-01T10:00:00.000+0000 and 2024-05-01T10:00:00.000+0000 (window 10m)") ||
		!strings.HasPrefix(got[1].Text, ":red_circle: 4 more held back: High (level 12)") {
		t.Errorf("follow-up %q / %q", note, got[1].Text)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
