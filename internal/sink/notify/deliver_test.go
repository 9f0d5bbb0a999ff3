package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
)

func TestFlushSendsInOrderAndOnlyThen(t *testing.T) {
	srv := newServer(t)
	d, _, _ := newDeliverer(t, srv, delivery(t), nil)
	ctx := context.Background()
	batch := recs("a", "b", "c")
	if err := d.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// The record's memory is the pipeline's: overwrite it to prove Write copied.
	copy(batch[0].JSON, `{"id":"X"}`)
	if got := srv.bodies(); len(got) != 0 {
		t.Fatalf("sent before Flush: %q", got)
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":"a"}` + "\n", `{"id":"b"}` + "\n", `{"id":"c"}` + "\n"}
	if got := srv.bodies(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("bodies %q, want %q", got, want)
	}
	st := d.Stats()
	if st.Sent != 3 || st.Buffered != 0 || st.Requests != 3 || st.Retries != 0 {
		t.Errorf("stats %+v", st)
	}
	checkBalance(t, st)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.DeadLetterFile()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dead-letter file created with nothing refused: %v", err)
	}
}

func TestBatching(t *testing.T) {
	srv := newServer(t)
	d, _, _ := newDeliverer(t, srv, delivery(t), func(o *notify.Options) { o.BatchSize = 2 })
	ctx := context.Background()
	if err := d.Write(ctx, recs("a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := srv.bodies()
	if len(got) != 2 || strings.Count(got[0], "\n") != 2 || strings.Count(got[1], "\n") != 1 {
		t.Fatalf("batches %q", got)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script []int
	}{
		{"5xx", []int{500, 503}},
		{"408", []int{408}},
		{"connection dropped", []int{drop, drop}},
		{"429", []int{429}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			srv.set(tc.script...)
			d, _, _ := newDeliverer(t, srv, delivery(t), nil)
			ctx := context.Background()
			if err := d.Write(ctx, recs("a")); err != nil {
				t.Fatal(err)
			}
			if err := d.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			st := d.Stats()
			if st.Sent != 1 || st.Retries != int64(len(tc.script)) || st.DeadLettered != 0 {
				t.Errorf("stats %+v", st)
			}
			if len(srv.bodies()) != 1 {
				t.Errorf("delivered %d times", len(srv.bodies()))
			}
		})
	}
}

func TestSlowResponseTimesOutAndIsRetried(t *testing.T) {
	srv := newServer(t)
	srv.set(hang)
	dc := delivery(t)
	dc.Timeout = config.Duration(100 * time.Millisecond)
	d, _, _ := newDeliverer(t, srv, dc, nil)
	ctx := context.Background()
	if err := d.Write(ctx, recs("a")); err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := d.Stats(); st.Sent != 1 || st.Retries != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	srv := newServer(t)
	srv.set(429, 429, 429)
	srv.retryHdr = "7"
	dc := delivery(t)
	dc.MaxRetryAfter = config.Duration(5 * time.Second)
	d, sl, _ := newDeliverer(t, srv, dc, nil)
	ctx := context.Background()
	if err := d.Write(ctx, recs("a")); err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Three 429s, each asking for 7s, capped at max_retry_after (5s).
	if fmt.Sprint(sl.d) != "[5s 5s 5s]" {
		t.Errorf("waits %v, want [5s 5s 5s]", sl.d)
	}
	if st := d.Stats(); st.RateLimited != 3 || st.Sent != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestParseRetryAfterDate(t *testing.T) {
	srv := newServer(t)
	srv.set(429)
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	srv.retryHdr = now.Add(30 * time.Second).Format(http.TimeFormat)
	d, sl, _ := newDeliverer(t, srv, delivery(t), func(o *notify.Options) { o.Now = func() time.Time { return now } })
	ctx := context.Background()
	_ = d.Write(ctx, recs("a"))
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sl.d) != "[30s]" {
		t.Errorf("waits %v, want [30s]", sl.d)
	}
}

func TestPermanentRefusalGoesToDeadLetter(t *testing.T) {
	for _, code := range []int{400, 403, 404, 410, http.StatusFound} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := newServer(t)
			srv.set(code)
			d, _, logs := newDeliverer(t, srv, delivery(t), nil)
			ctx := context.Background()
			if err := d.Write(ctx, recs("bad", "good")); err != nil {
				t.Fatal(err)
			}
			if err := d.Flush(ctx); err != nil {
				t.Fatalf("a refusal must not fail Flush: %v", err)
			}
			st := d.Stats()
			if st.DeadLettered != 1 || st.Sent != 1 || st.Retries != 0 || st.Requests != 2 {
				t.Errorf("stats %+v", st)
			}
			checkBalance(t, st)
			dl := readDeadLetters(t, d.DeadLetterFile())
			if len(dl) != 1 || dl[0].AlertID != "bad" || dl[0].Status != code || dl[0].Output != "out" ||
				dl[0].Reason != fmt.Sprintf("status_%d", code) || string(dl[0].Alert) != `{"id":"bad"}` || dl[0].Attempts != 1 {
				t.Errorf("dead letters %+v", dl)
			}
			if fi, err := os.Stat(d.DeadLetterFile()); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("dead-letter file mode: %v %v", fi, err)
			}
			assertNoSecret(t, "log", logs.String())
			if !strings.Contains(logs.String(), "dead-letter") {
				t.Errorf("dead-lettering was not logged: %s", logs.String())
			}
		})
	}
}

func TestEncodeFailureGoesToDeadLetter(t *testing.T) {
	srv := newServer(t)
	dc := delivery(t)
	d, err := notify.New(lines{failEncode: "x"}, notify.Options{Service: "test", URL: srv.URL, Delivery: dc, Env: notify.Env{Name: "out"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = d.Write(ctx, recs("x", "y"))
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dl := readDeadLetters(t, d.DeadLetterFile())
	if len(dl) != 1 || dl[0].AlertID != "x" || !strings.Contains(dl[0].Reason, "unencodable") || dl[0].Attempts != 0 {
		t.Errorf("dead letters %+v", dl)
	}
	if len(srv.bodies()) != 1 {
		t.Errorf("bodies %q", srv.bodies())
	}
}

func TestGiveUpFailKeepsAlerts(t *testing.T) {
	srv := newServer(t)
	srv.set(503, 503, 503, 503) // max_attempts is 4
	d, _, logs := newDeliverer(t, srv, delivery(t), nil)
	ctx := context.Background()
	if err := d.Write(ctx, recs("a", "b")); err != nil {
		t.Fatal(err)
	}
	err := d.Flush(ctx)
	if err == nil {
		t.Fatal("Flush succeeded while the service was down")
	}
	assertNoSecret(t, "error", err.Error())
	assertNoSecret(t, "log", logs.String())
	if !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), srv.Listener.Addr().String()) {
		t.Errorf("error does not say what failed where: %v", err)
	}
	st := d.Stats()
	if st.Buffered != 2 || st.Sent != 0 || st.Failed != 1 || st.DeadLettered != 0 {
		t.Errorf("stats %+v", st)
	}
	// The pipeline redelivers the batch it could not acknowledge: not queued twice.
	if err := d.Write(ctx, recs("a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st = d.Stats()
	if st.Sent != 3 || st.Duplicates != 2 || st.Buffered != 0 {
		t.Errorf("stats %+v", st)
	}
	checkBalance(t, st)
	if got := srv.bodies(); len(got) != 3 || !strings.Contains(got[0], `"a"`) {
		t.Errorf("bodies %q", got)
	}
}

func TestGiveUpDeadLetter(t *testing.T) {
	srv := newServer(t)
	srv.set(503, 503, 503, 503, 500)
	dc := delivery(t)
	dc.OnGiveUp = notify.GiveUpDeadLetter
	d, _, _ := newDeliverer(t, srv, dc, nil)
	ctx := context.Background()
	_ = d.Write(ctx, recs("a", "b", "c"))
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dl := readDeadLetters(t, d.DeadLetterFile())
	// "a" used its 4 attempts; "b" then gets one attempt (500) and is given up too.
	if len(dl) != 2 || dl[0].AlertID != "a" || dl[0].Attempts != 4 || dl[1].AlertID != "b" || dl[1].Attempts != 1 ||
		!strings.HasPrefix(dl[0].Reason, "gave up after 4 attempts: 503") || dl[0].Status != 503 {
		t.Errorf("dead letters %+v", dl)
	}
	st := d.Stats()
	if st.Sent != 1 || st.DeadLettered != 2 {
		t.Errorf("stats %+v", st)
	}
	checkBalance(t, st)
}

func TestConnectionRefusedErrorHasNoSecret(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	dc := delivery(t)
	dc.MaxAttempts = 2
	logs := &bytes.Buffer{}
	d, err := notify.New(lines{}, notify.Options{
		Service: "test", URL: "http://user:hunter2pass@" + addr + "/services/" + token + "?api_key=querysecret99",
		Delivery: dc, Env: notify.Env{Name: "out", Logger: slog.New(slog.NewTextHandler(logs, nil))},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = d.Write(ctx, recs("a"))
	err = d.Flush(ctx)
	if err == nil {
		t.Fatal("no error")
	}
	for _, text := range []string{err.Error(), logs.String()} {
		assertNoSecret(t, "error/log", text)
		for _, s := range []string{"hunter2pass", "querysecret99", "api_key"} {
			if strings.Contains(text, s) {
				t.Errorf("%q leaks %q", text, s)
			}
		}
	}
	if !strings.Contains(err.Error(), "http://"+addr+"/…") {
		t.Errorf("error does not name the host: %v", err)
	}
	var ne *net.OpError
	if !errors.As(err, &ne) {
		t.Errorf("the cause is not reachable with errors.As: %#v", err)
	}
}

func TestScrubsSecretsEchoedByTheService(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		fmt.Fprintf(w, "bad request to %s with key routing-key-abcdef123456", r.URL.Path)
	}))
	defer srv.Close()
	dc := delivery(t)
	d, err := notify.New(lines{}, notify.Options{Service: "test", URL: srv.URL + "/services/" + token,
		Delivery: dc, Secrets: []string{"routing-key-abcdef123456"}, Env: notify.Env{Name: "out"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = d.Write(ctx, recs("a"))
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(d.DeadLetterFile())
	assertNoSecret(t, "dead-letter file", string(raw))
	if strings.Contains(string(raw), "routing-key-abcdef123456") || !strings.Contains(string(raw), "[redacted]") {
		t.Errorf("dead-letter file: %s", raw)
	}
}

func TestBufferBound(t *testing.T) {
	srv := newServer(t)
	dc := delivery(t)
	dc.MaxBuffered = 3
	d, _, _ := newDeliverer(t, srv, dc, nil)
	ctx := context.Background()
	if err := d.Write(ctx, recs("a", "b")); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(ctx, recs("c", "d")); !errors.Is(err, notify.ErrFull) {
		t.Fatalf("err = %v, want ErrFull", err)
	}
	if st := d.Stats(); st.Accepted != 2 || st.Buffered != 2 {
		t.Errorf("a refused batch was partly taken: %+v", st)
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(ctx, recs("c", "d")); err != nil {
		t.Fatal(err)
	}
}

func TestContextCancelledKeepsAlerts(t *testing.T) {
	srv := newServer(t)
	srv.set(503, 503, 503, 503, 503)
	dc := delivery(t)
	dc.OnGiveUp = notify.GiveUpDeadLetter
	ctx, cancel := context.WithCancel(context.Background())
	d, _, _ := newDeliverer(t, srv, dc, func(o *notify.Options) {
		o.Sleep = func(context.Context, time.Duration) error { return nil }
	})
	_ = d.Write(ctx, recs("a"))
	cancel()
	if err := d.Flush(ctx); err == nil {
		t.Fatal("Flush with a cancelled context succeeded")
	}
	if st := d.Stats(); st.Buffered != 1 || st.DeadLettered != 0 {
		t.Errorf("a cancelled Flush must keep, not dead-letter: %+v", st)
	}
}

func TestCloseFlushesAndRefusesLaterCalls(t *testing.T) {
	srv := newServer(t)
	d, _, _ := newDeliverer(t, srv, delivery(t), nil)
	ctx := context.Background()
	_ = d.Write(ctx, recs("a"))
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if len(srv.bodies()) != 1 {
		t.Errorf("Close did not deliver")
	}
	if err := d.Write(ctx, recs("b")); !errors.Is(err, notify.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

func TestSeverityBands(t *testing.T) {
	want := map[int]string{0: "notable", 3: "notable", 4: "notable", 5: "suspicious", 6: "suspicious", 7: "likely malicious",
		9: "likely malicious", 10: "high", 12: "high", 13: "critical", 15: "critical", 16: "critical"}
	pd := map[string]string{"notable": "info", "suspicious": "warning", "likely malicious": "warning", "high": "error", "critical": "critical"}
	for level, word := range want {
		s := notify.SeverityOf(level)
		if s.Word != word || s.PagerDuty != pd[word] || s.Emoji == "" {
			t.Errorf("level %d: %+v, want %s", level, s, word)
		}
	}
}

func TestTruncateKeepsUTF8(t *testing.T) {
	s := strings.Repeat("é", 10) // 20 bytes
	got := notify.Truncate(s, 10)
	if len(got) > 10 || !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("Truncate = %q", got)
	}
	if notify.Truncate("short", 10) != "short" {
		t.Error("short strings must stay")
	}
}

func TestDeadLetterPath(t *testing.T) {
	if got := notify.DeadLetterPath("/var/sky", "slack"); got != filepath.Join("/var/sky", "dead-letter", "slack.jsonl") {
		t.Errorf("got %s", got)
	}
	if got := notify.DeadLetterPath("/var/sky", "../../etc/x"); strings.Contains(got, "..") && filepath.Dir(got) != filepath.Join("/var/sky", "dead-letter") {
		t.Errorf("name escaped the directory: %s", got)
	}
}
