package opensearch_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/opensearch"
)

// day0 is the date of most test alerts.
var day0 = time.Date(2024, 5, 1, 23, 59, 0, 0, time.UTC)

// cloudtrail returns alert data for a CloudTrail event whose requestParameters
// is params.
func cloudtrail(params string) string {
	return `{"integration":"aws","aws":{"eventName":"DescribeInstances","sourceIPAddress":"cloudformation.amazonaws.com","requestParameters":` + params + `,"responseElements":null,"eventTime":"2024-05-01T10:00:00Z"}}`
}

// mkAlert encodes alert number i as the engine would.
func mkAlert(i int, ts time.Time, data string) sink.Record {
	a := alert.Alert{
		Timestamp: ts,
		Rule:      alert.Rule{Level: 3 + i%12, ID: "300001", Description: "AWS: DescribeInstances", Groups: []string{"aws", "cloudtrail"}},
		Agent:     alert.Agent{ID: "000", Name: "skywatch"},
		Manager:   "skywatch",
		ID:        alert.ID("test", "unit", int64(i), "300001"),
		Data:      []byte(data),
		Location:  "aws-cloudtrail",
	}
	js := a.AppendJSON(nil)
	return sink.Record{JSON: js, ID: a.ID, Level: a.Rule.Level, RuleID: a.Rule.ID, Groups: a.Rule.Groups}
}

func mkAlerts(from, n int, ts time.Time) []sink.Record {
	out := make([]sink.Record, n)
	for i := range out {
		out[i] = mkAlert(from+i, ts, cloudtrail(`{"instancesSet":{"items":[{"instanceId":"i-1"}]}}`))
	}
	return out
}

// testConfig is a configuration for url with quick retries.
func testConfig(url string) opensearch.Config {
	c := opensearch.DefaultConfig()
	c.URL = url
	c.RetryAttempts = 4
	c.RetryInitial = config.Duration(5 * time.Millisecond)
	c.RetryMax = config.Duration(50 * time.Millisecond)
	c.Timeout = config.Duration(5 * time.Second)
	return c
}

// logBuffer collects log output for checks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type harness struct {
	s   *opensearch.Sink
	dir string // data dir
	log *logBuffer
}

func newSink(t *testing.T, product opensearch.Product, cfg opensearch.Config) harness {
	t.Helper()
	h := harness{dir: t.TempDir(), log: &logBuffer{}}
	s, err := opensearch.New(cfg, opensearch.Options{
		Product: product, Name: "search", DataDir: h.dir,
		Logger: slog.New(slog.NewTextHandler(h.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	h.s = s
	return h
}

func (h harness) deliver(t *testing.T, recs []sink.Record) {
	t.Helper()
	ctx := context.Background()
	if err := h.s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func (h harness) deadLetters(t *testing.T) []opensearch.DeadLetter {
	t.Helper()
	f, err := os.Open(filepath.Join(h.dir, "dead-letter", "search.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []opensearch.DeadLetter
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var d opensearch.DeadLetter
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		out = append(out, d)
	}
	return out
}

// checkExactlyOnce asserts the fake holds each record once, written once
// (create) and with the alert's content.
func checkExactlyOnce(t *testing.T, f *fakeES, recs []sink.Record, creates bool) {
	t.Helper()
	docs := f.docs()
	if len(docs) != len(recs) {
		t.Errorf("the server holds %d documents, want %d", len(docs), len(recs))
	}
	for _, r := range recs {
		d, ok := docs[r.ID]
		if !ok {
			t.Errorf("alert %s was not delivered", r.ID)
			continue
		}
		if creates {
			if n := f.writeCount(r.ID); n != 1 {
				t.Errorf("alert %s was written %d times", r.ID, n)
			}
		}
		var got, want map[string]any
		if err := json.Unmarshal(d.doc, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(r.JSON, &want); err != nil {
			t.Fatal(err)
		}
		if got["id"] != want["id"] || got["timestamp"] != want["timestamp"] || got["@timestamp"] == nil {
			t.Errorf("alert %s stored as %s", r.ID, d.doc)
		}
	}
}
