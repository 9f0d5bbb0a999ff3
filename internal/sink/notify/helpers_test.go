package notify_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
)

// lines is a test protocol: the body is the alerts' JSON, one per line.
type lines struct{ failEncode string }

func (l lines) Encode(alerts []notify.Alert) (notify.Request, error) {
	var b []byte
	for _, a := range alerts {
		if a.ID == l.failEncode {
			return notify.Request{}, errors.New("unencodable")
		}
		b = append(append(b, a.JSON...), '\n')
	}
	return notify.Request{Body: b, ContentType: "application/x-ndjson"}, nil
}

func (lines) Reason(_ int, body []byte) string { return notify.BodyReason(body) }

// server is a receiver with scripted faults: each request takes the next
// entry of script (status, or a negative code for a fault); when the script is
// empty it answers 200.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	script   []int
	retryHdr string
	got      []string // bodies of requests answered 2xx
	requests int
}

const (
	drop = -1 // close the connection without answering
	hang = -2 // answer only after the client gave up
)

func newServer(t *testing.T) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests++
		code := http.StatusOK
		if len(s.script) > 0 {
			code, s.script = s.script[0], s.script[1:]
		}
		if code >= 200 && code < 300 {
			s.got = append(s.got, string(body))
		}
		retry := s.retryHdr
		s.mu.Unlock()
		switch code {
		case drop:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		case hang:
			<-r.Context().Done()
			return
		}
		if code == http.StatusTooManyRequests && retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		if code == http.StatusFound {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "status_%d\n", code)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) bodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func (s *server) set(script ...int) {
	s.mu.Lock()
	s.script = script
	s.mu.Unlock()
}

// sleeps records Retry-After waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

const token = "T0123ABCD/B0456EFGH/xoxSECRETtoken1234567890"

func delivery(t *testing.T) notify.Delivery {
	d := notify.DefaultDelivery()
	d.RetryInitial = config.Duration(time.Millisecond)
	d.RetryMax = config.Duration(2 * time.Millisecond)
	d.Timeout = config.Duration(5 * time.Second)
	d.DeadLetter = config.Path(filepath.Join(t.TempDir(), "dl", "out.jsonl"))
	return d
}

func newDeliverer(t *testing.T, srv *server, d notify.Delivery, mutate func(*notify.Options)) (*notify.Deliverer, *sleeps, *bytes.Buffer) {
	t.Helper()
	sl := &sleeps{}
	logs := &bytes.Buffer{}
	o := notify.Options{
		Service:  "test",
		URL:      srv.URL + "/services/" + token,
		Delivery: d,
		Env:      notify.Env{Name: "out", Logger: slog.New(slog.NewTextHandler(logs, nil)), Sleep: sl.sleep},
	}
	if mutate != nil {
		mutate(&o)
	}
	del, err := notify.New(lines{}, o)
	if err != nil {
		t.Fatal(err)
	}
	return del, sl, logs
}

func rec(id string) sink.Record {
	return sink.Record{ID: id, Level: 10, RuleID: "100", JSON: []byte(`{"id":"` + id + `"}`)}
}

func recs(ids ...string) []sink.Record {
	out := make([]sink.Record, len(ids))
	for i, id := range ids {
		out[i] = rec(id)
	}
	return out
}

func readDeadLetters(t *testing.T, path string) []notify.DeadLetterEntry {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []notify.DeadLetterEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e notify.DeadLetterEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// checkBalance asserts the Stats invariant: every accepted alert is sent,
// dead-lettered or still buffered.
func checkBalance(t *testing.T, st notify.Stats) {
	t.Helper()
	if st.Accepted-st.Duplicates != st.Sent+st.DeadLettered+st.Buffered {
		t.Errorf("stats do not balance: %+v", st)
	}
}

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{token, "xoxSECRETtoken1234567890", "/services/"} {
		if strings.Contains(text, s) {
			t.Errorf("%s contains the secret %q: %s", what, s, text)
		}
	}
}
