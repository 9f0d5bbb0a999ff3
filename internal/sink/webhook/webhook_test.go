package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
	"github.com/skywatch-dev/skywatch/internal/sink/webhook"
)

const (
	hmacKey    = "k3y-for-tests-0123456789abcdef"
	pathToken  = "hooktoken-5f0e9c2a7b1d4e88"
	bearer     = "Bearer sekret-api-token-777"
	retryAfter = "3"
)

// README snippet start
// verifySkywatch checks a skywatch webhook request and returns its body.
func verifySkywatch(r *http.Request, key []byte, now time.Time) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	ts := r.Header.Get("X-Skywatch-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, errors.New("missing or bad X-Skywatch-Timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return nil, errors.New("timestamp too far from now: possible replay")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(r.Header.Get("X-Skywatch-Signature")), []byte(want)) {
		return nil, errors.New("bad signature")
	}
	return body, nil
}

// README snippet end

// delivery is one request as the receiver saw it.
type delivery struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint that verifies signatures with the README's
// code and answers from a script of statuses (negative: drop the connection).
type receiver struct {
	*httptest.Server
	now func() time.Time

	mu       sync.Mutex
	script   []int
	got      []delivery // accepted requests
	rejected []string   // signature failures
}

func newReceiver(t *testing.T, now func() time.Time) *receiver {
	rc := &receiver{now: now}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/hooks/"+pathToken {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body, err := verifySkywatch(r, []byte(hmacKey), rc.now())
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.rejected = append(rc.rejected, err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	code := http.StatusNoContent
	if len(rc.script) > 0 {
		code, rc.script = rc.script[0], rc.script[1:]
	}
	switch {
	case code < 0:
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			c.Close()
		}
		return
	case code == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", retryAfter)
	case code < 300:
		rc.got = append(rc.got, delivery{header: r.Header.Clone(), body: body})
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, "answer %d: echo %s\n", code, r.Header.Get("Authorization"))
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

type fixture struct {
	sink  *webhook.Sink
	rc    *receiver
	logs  *bytes.Buffer
	waits []time.Duration
	clock time.Time
}

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, mutate func(*webhook.Config)) *fixture {
	t.Helper()
	f := &fixture{logs: &bytes.Buffer{}, clock: t0}
	now := func() time.Time { return f.clock }
	f.rc = newReceiver(t, now)
	cfg := webhook.DefaultConfig()
	cfg.URL = config.Secret(f.rc.URL + "/hooks/" + pathToken)
	cfg.HMACKey = hmacKey
	cfg.Headers = map[string]config.Secret{"Authorization": bearer, "x-tenant": "blue"}
	cfg.RetryInitial = config.Duration(time.Millisecond)
	cfg.RetryMax = config.Duration(time.Millisecond)
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := webhook.New(cfg, webhook.Options{
		Name: "soar", DataDir: t.TempDir(), Now: now,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
		Sleep:  func(_ context.Context, d time.Duration) error { f.waits = append(f.waits, d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.sink = s
	return f
}

func alertRec(id string) sink.Record {
	return sink.Record{ID: id, Level: 10, RuleID: "300001",
		JSON: []byte(`{"timestamp":"2024-05-01T10:00:00.000+0000","rule":{"level":10,"id":"300001","description":"Root <login> & more"},"id":"` + id + `","data":{"x":"é\u2028"}}`)}
}

func (f *fixture) send(t *testing.T, ids ...string) error {
	t.Helper()
	var rs []sink.Record
	for _, id := range ids {
		rs = append(rs, alertRec(id))
	}
	if err := f.sink.Write(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	return f.sink.Flush(context.Background())
}

func assertNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{hmacKey, pathToken, "sekret-api-token-777"} {
		if strings.Contains(text, s) {
			t.Errorf("%s contains the secret %q:\n%s", what, s, text)
		}
	}
}

func TestSingleSignedDelivery(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.send(t, "id-1", "id-2"); err != nil {
		t.Fatal(err)
	}
	got := f.rc.deliveries()
	if len(got) != 2 || len(f.rc.rejected) != 0 {
		t.Fatalf("deliveries %d, signature failures %v", len(got), f.rc.rejected)
	}
	for i, id := range []string{"id-1", "id-2"} {
		d := got[i]
		if !bytes.Equal(d.body, alertRec(id).JSON) {
			t.Errorf("body %s, want the alert exactly", d.body)
		}
		h := d.header
		checks := map[string]string{
			"Content-Type": "application/json", "Idempotency-Key": id, "X-Skywatch-Alert-Id": id,
			"X-Skywatch-Alert-Count": "1", "Authorization": bearer, "X-Tenant": "blue", "User-Agent": "skywatch",
			"X-Skywatch-Timestamp": strconv.FormatInt(t0.Unix(), 10),
		}
		for k, v := range checks {
			if h.Get(k) != v {
				t.Errorf("%s = %q, want %q", k, h.Get(k), v)
			}
		}
		// The package's own verifier agrees with the independent one.
		if err := webhook.Verify([]byte(hmacKey), h.Get("X-Skywatch-Timestamp"), h.Get("X-Skywatch-Signature"), d.body, t0, time.Minute); err != nil {
			t.Errorf("webhook.Verify: %v", err)
		}
	}
	if st := f.sink.Stats(); st.Sent != 2 || st.Requests != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestVerifierRefusesTamperingAndReplays(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.send(t, "id-1"); err != nil {
		t.Fatal(err)
	}
	d := f.rc.deliveries()[0]
	replay := func(body []byte, ts string, now time.Time) error {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header = d.header.Clone()
		if ts != "" {
			r.Header.Set("X-Skywatch-Timestamp", ts)
		}
		_, err := verifySkywatch(r, []byte(hmacKey), now)
		return err
	}
	if err := replay(d.body, "", t0); err != nil {
		t.Fatalf("the original does not verify: %v", err)
	}
	tampered := bytes.Replace(d.body, []byte(`"level":10`), []byte(`"level":1`), 1)
	if replay(tampered, "", t0) == nil {
		t.Error("a changed body verified")
	}
	if replay(d.body, strconv.FormatInt(t0.Unix()+60, 10), t0) == nil {
		t.Error("a changed timestamp verified")
	}
	if replay(d.body, "", t0.Add(time.Hour)) == nil {
		t.Error("an hour-old request verified")
	}
	if webhook.Verify([]byte(hmacKey), d.header.Get("X-Skywatch-Timestamp"), d.header.Get("X-Skywatch-Signature"), tampered, t0, time.Minute) == nil {
		t.Error("webhook.Verify accepted a changed body")
	}
}

func TestRetryIsSignedAfresh(t *testing.T) {
	rc := newReceiver(t, func() time.Time { return t0 })
	rc.script = []int{503}
	ticks := 0
	cfg := webhook.DefaultConfig()
	cfg.URL = config.Secret(rc.URL + "/hooks/" + pathToken)
	cfg.HMACKey = hmacKey
	cfg.RetryInitial = config.Duration(time.Millisecond)
	cfg.RetryMax = config.Duration(time.Millisecond)
	s, err := webhook.New(cfg, webhook.Options{DataDir: t.TempDir(), Now: func() time.Time {
		ticks++ // the clock moves on every reading
		return t0.Add(time.Duration(ticks) * time.Minute)
	}})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Write(context.Background(), []sink.Record{alertRec("id-1")})
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rc.deliveries()
	if len(got) != 1 || len(rc.rejected) != 0 {
		t.Fatalf("deliveries %d, refused %v", len(got), rc.rejected)
	}
	// The first attempt was signed at t0+1m; the accepted retry later.
	if ts := got[0].header.Get("X-Skywatch-Timestamp"); ts == strconv.FormatInt(t0.Add(time.Minute).Unix(), 10) {
		t.Errorf("the retry reused the first attempt's timestamp %s", ts)
	}
	if st := s.Stats(); st.Retries != 1 || st.Sent != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBatchFormats(t *testing.T) {
	for _, format := range []string{webhook.FormatArray, webhook.FormatNDJSON} {
		t.Run(format, func(t *testing.T) {
			f := newFixture(t, func(c *webhook.Config) { c.Format = format; c.BatchSize = 2 })
			if err := f.send(t, "a", "b", "c"); err != nil {
				t.Fatal(err)
			}
			got := f.rc.deliveries()
			if len(got) != 2 {
				t.Fatalf("%d requests, want 2", len(got))
			}
			var ids [][]string
			for _, d := range got {
				var alerts []map[string]any
				switch format {
				case webhook.FormatArray:
					if d.header.Get("Content-Type") != "application/json" {
						t.Errorf("content type %q", d.header.Get("Content-Type"))
					}
					if err := json.Unmarshal(d.body, &alerts); err != nil {
						t.Fatalf("not a JSON array: %v: %s", err, d.body)
					}
				default:
					if d.header.Get("Content-Type") != "application/x-ndjson" {
						t.Errorf("content type %q", d.header.Get("Content-Type"))
					}
					sc := bufio.NewScanner(bytes.NewReader(d.body))
					for sc.Scan() {
						var a map[string]any
						if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
							t.Fatalf("line %q: %v", sc.Text(), err)
						}
						alerts = append(alerts, a)
					}
				}
				var batch []string
				for _, a := range alerts {
					batch = append(batch, a["id"].(string))
				}
				ids = append(ids, batch)
				if d.header.Get("X-Skywatch-Alert-Count") != strconv.Itoa(len(batch)) || d.header.Get("X-Skywatch-Alert-Id") != "" ||
					!strings.HasPrefix(d.header.Get("Idempotency-Key"), "batch-") {
					t.Errorf("headers %v", d.header)
				}
			}
			if fmt.Sprint(ids) != "[[a b] [c]]" {
				t.Errorf("batches %v", ids)
			}
			if got[0].header.Get("Idempotency-Key") == got[1].header.Get("Idempotency-Key") {
				t.Error("different batches share an Idempotency-Key")
			}
		})
	}
}

func TestRateLimitAndRefusal(t *testing.T) {
	f := newFixture(t, nil)
	f.rc.script = []int{429, -1, 422}
	if err := f.send(t, "a", "b"); err != nil {
		t.Fatal(err)
	}
	// a: 429 (Retry-After 3s), then a dropped connection, which Go's transport
	// re-sends by itself (the request has an Idempotency-Key and the connection
	// was reused), answered 422 → dead letter after two attempts of ours.
	// b: delivered.
	if fmt.Sprint(f.waits) != "[3s]" {
		t.Errorf("waits %v", f.waits)
	}
	st := f.sink.Stats()
	if st.DeadLettered != 1 || st.Sent != 1 || st.RateLimited != 1 || st.Retries != 1 {
		t.Errorf("stats %+v", st)
	}
	raw, err := os.ReadFile(f.sink.DeadLetterFile())
	if err != nil {
		t.Fatal(err)
	}
	var e notify.DeadLetterEntry
	if err := json.Unmarshal(bytes.TrimSpace(raw), &e); err != nil {
		t.Fatal(err)
	}
	if e.AlertID != "a" || e.Status != 422 || e.Output != "soar" || e.Attempts != 2 || !strings.HasPrefix(e.Reason, "answer 422") {
		t.Errorf("dead letter %+v", e)
	}
	if filepath.Base(f.sink.DeadLetterFile()) != "soar.jsonl" || filepath.Base(filepath.Dir(f.sink.DeadLetterFile())) != "dead-letter" {
		t.Errorf("dead-letter file %s", f.sink.DeadLetterFile())
	}
	// The receiver echoed the Authorization header into its answer.
	assertNoSecrets(t, "dead-letter file", string(raw))
	assertNoSecrets(t, "log", f.logs.String())
}

func TestSecretsStayOutOfErrors(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) { c.MaxAttempts = 2 })
	f.rc.script = []int{500, 500}
	err := f.send(t, "a")
	if err == nil {
		t.Fatal("no error while the endpoint fails")
	}
	assertNoSecrets(t, "error", err.Error())
	assertNoSecrets(t, "log", f.logs.String())
	if !strings.Contains(err.Error(), "webhook: post to "+f.rc.URL+"/…: 500 Internal Server Error") {
		t.Errorf("error = %v", err)
	}
	// A configuration error does not repeat the URL either.
	cfg := webhook.DefaultConfig()
	cfg.URL = "ftp://x/" + pathToken
	_, err = webhook.New(cfg, webhook.Options{DataDir: t.TempDir()})
	if err == nil {
		t.Fatal("ftp URL accepted")
	}
	assertNoSecrets(t, "config error", err.Error())
	for _, v := range []any{cfg, cfg.URL, &cfg} {
		assertNoSecrets(t, "formatted config", fmt.Sprintf("%v %+v", v, v))
	}
}

func TestBadSignatureIsRefusedAndDeadLettered(t *testing.T) {
	f := newFixture(t, func(c *webhook.Config) { c.HMACKey = "a-different-key-0123456789" })
	if err := f.send(t, "a"); err != nil {
		t.Fatal(err)
	}
	if len(f.rc.rejected) != 1 || f.rc.rejected[0] != "bad signature" {
		t.Errorf("receiver verdicts %v", f.rc.rejected)
	}
	if st := f.sink.Stats(); st.DeadLettered != 1 || st.Sent != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestReadmeSnippetIsTheTestedCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("webhook_test.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindSubmatch(readme)
	s := regexp.MustCompile("(?s)// README snippet start\n(.*?)\n// README snippet end").FindSubmatch(src)
	if m == nil || s == nil {
		t.Fatal("snippet markers not found")
	}
	if strings.TrimSpace(string(m[1])) != strings.TrimSpace(string(s[1])) {
		t.Errorf("README's Go snippet differs from verifySkywatch in webhook_test.go:\n%s", m[1])
	}
}
