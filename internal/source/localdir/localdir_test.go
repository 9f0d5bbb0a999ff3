package localdir

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/source"
)

func ctRecords(n int, from int) []byte {
	var recs []string
	for i := from; i < from+n; i++ {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventName":"E%d","eventSource":"iam.amazonaws.com","sourceIPAddress":"10.0.0.%d","recipientAccountId":"111122223333"}`, i, i%250))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// collector is an Emit that keeps events and acknowledges batches as told.
type collector struct {
	mu     sync.Mutex
	events []string // log texts
	units  []string
	offs   []int64
	// ackErr decides each batch's acknowledgement (nil: success).
	ackErr func(n int) error
	n      int
}

func (c *collector) emit(_ context.Context, b *source.Batch) error {
	c.mu.Lock()
	for _, ev := range b.Events {
		c.events = append(c.events, string(ev.Log))
		c.units = append(c.units, ev.Origin.Unit)
		c.offs = append(c.offs, ev.Origin.Offset)
	}
	var err error
	if c.ackErr != nil {
		err = c.ackErr(c.n)
	}
	c.n++
	c.mu.Unlock()
	b.Ack(err)
	return nil
}

func newSource(t *testing.T, dir string, state *checkpoint.Store, mut func(*Config)) *Source {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Path = config.Path(dir)
	cfg.BatchSize = 4
	cfg.Parallel = 2
	if mut != nil {
		mut(&cfg)
	}
	s, err := New(cfg, Settings{Name: "t", State: state, AgentName: "mgr"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openState(t *testing.T) *checkpoint.Store {
	t.Helper()
	st, err := checkpoint.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, s *Source, c *collector) {
	t.Helper()
	if err := s.Run(context.Background(), c.emit); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := s.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func TestCloudTrailWrappedAndSecondRunAddsNothing(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a", "111122223333_CloudTrail_us-east-1_20240501T0800Z_x.json.gz"), gz(ctRecords(10, 0)))
	write(t, filepath.Join(dir, "b.json"), ctRecords(5, 100))
	state := openState(t)
	c := &collector{}
	run(t, newSource(t, dir, state, nil), c)
	if len(c.events) != 15 {
		t.Fatalf("%d events, want 15", len(c.events))
	}
	var ev struct {
		Integration string `json:"integration"`
		AWS         struct {
			Source   string                   `json:"source"`
			Account  string                   `json:"aws_account_id"`
			LogInfo  struct{ LogFile string } `json:"log_info"`
			IP       string                   `json:"source_ip_address"`
			EventNam string                   `json:"eventName"`
		} `json:"aws"`
	}
	if err := json.Unmarshal([]byte(c.events[0]), &ev); err != nil {
		t.Fatalf("event is not JSON: %v: %s", err, c.events[0])
	}
	if ev.Integration != "aws" || ev.AWS.Source != "cloudtrail" || ev.AWS.Account != "111122223333" || ev.AWS.IP == "" {
		t.Errorf("not wrapped like Wazuh's AWS module: %s", c.events[0])
	}
	c2 := &collector{}
	s2 := newSource(t, dir, state, nil)
	run(t, s2, c2)
	if len(c2.events) != 0 || s2.Stats().Skipped != 2 {
		t.Fatalf("second run emitted %d events, skipped %d files; want 0 and 2", len(c2.events), s2.Stats().Skipped)
	}
}

func TestResumesAfterUnacknowledgedBatches(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "f.json"), ctRecords(10, 0)) // batches of 4: 4+4+2
	state := openState(t)
	// The first batch is acknowledged, the second fails (its alerts were not durable).
	c := &collector{ackErr: func(n int) error {
		if n == 0 {
			return nil
		}
		return fmt.Errorf("output down")
	}}
	run(t, newSource(t, dir, state, func(c *Config) { c.Parallel = 1 }), c)
	c2 := &collector{}
	run(t, newSource(t, dir, state, nil), c2)
	if len(c2.events) != 6 || c2.offs[0] != 4 {
		t.Fatalf("resumed with %d events from offset %v, want 6 from 4", len(c2.events), c2.offs)
	}
	c3 := &collector{}
	run(t, newSource(t, dir, state, nil), c3)
	if len(c3.events) != 0 {
		t.Fatalf("third run emitted %d events", len(c3.events))
	}
}

func TestAppendedLinesAreReadFromWhereTheyStopped(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "events.jsonl")
	write(t, p, []byte("{\"a\":1}\n{\"a\":2}\n"))
	state := openState(t)
	run(t, newSource(t, dir, state, nil), &collector{})
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{\"a\":3}\n")
	f.Close()
	c := &collector{}
	run(t, newSource(t, dir, state, nil), c)
	if len(c.events) != 1 || c.events[0] != `{"a":3}` {
		t.Fatalf("after append got %q, want only the new line", c.events)
	}
}

func TestBadInputIsCountedAndNothingElseLost(t *testing.T) {
	dir := t.TempDir()
	// A JSON-lines file with a malformed line and invalid UTF-8 in the middle.
	write(t, filepath.Join(dir, "lines.jsonl"), []byte("{\"n\":1}\n{\"n\":\n{\"n\":3}\n{\"s\":\"\xff\xfe\"}\n{\"n\":5}\n"))
	// A truncated gzip CloudTrail object: the records before the cut still arrive.
	full := gz(ctRecords(200, 0))
	write(t, filepath.Join(dir, "trunc.json.gz"), full[:len(full)*2/3])
	// A zip holding a CloudTrail document.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("inner.json")
	w.Write(ctRecords(3, 0))
	zw.Close()
	write(t, filepath.Join(dir, "z.zip"), zb.Bytes())
	state := openState(t)
	s := newSource(t, dir, state, nil)
	c := &collector{}
	run(t, s, c)
	var lines, trunc, zipped int
	for _, u := range c.units {
		switch filepath.Base(u) {
		case "lines.jsonl":
			lines++
		case "trunc.json.gz":
			trunc++
		case "z.zip":
			zipped++
		}
	}
	if lines != 3 {
		t.Errorf("lines.jsonl: %d events, want the 3 well-formed ones (the malformed line and the invalid UTF-8 one are refused)", lines)
	}
	if trunc == 0 || trunc >= 200 {
		t.Errorf("truncated gzip: %d events, want some but not all", trunc)
	}
	if zipped != 3 {
		t.Errorf("zip: %d events, want 3", zipped)
	}
	if st := s.Stats(); st.Errors < 3 {
		t.Errorf("errors counted %d, want at least 3 (bad line, invalid UTF-8, truncated gzip)", st.Errors)
	}
}

func TestLargeSingleRecord(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", 50<<20)
	write(t, filepath.Join(dir, "big.jsonl"), []byte(`{"big":"`+big+`"}`+"\n"+`{"small":1}`+"\n"))
	c := &collector{}
	run(t, newSource(t, dir, openState(t), nil), c)
	if len(c.events) != 2 || len(c.events[0]) < 50<<20 {
		t.Fatalf("got %d events (first %d bytes), want the 50 MB record and the small one", len(c.events), len(c.events[0]))
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{LogType: "nope", Parallel: -1}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "path") || !strings.Contains(err.Error(), "log_type") || !strings.Contains(err.Error(), "parallel") {
		t.Fatalf("Validate() = %v, want errors for path, log_type and parallel", err)
	}
}

func TestReplacedFileIsReadAgain(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "events.jsonl")
	write(t, p, []byte("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"))
	state := openState(t)
	run(t, newSource(t, dir, state, nil), &collector{})
	// A new file under the same name, shorter than the old one.
	write(t, p, []byte("{\"b\":1}\n{\"b\":2}\n"))
	c := &collector{}
	run(t, newSource(t, dir, state, nil), c)
	if len(c.events) != 2 || c.events[0] != `{"b":1}` {
		t.Fatalf("replaced file gave %q, want both new records", c.events)
	}
}

func TestTruncatedFileKeepsRecordsBeforeTheBreak(t *testing.T) {
	dir := t.TempDir()
	// Six complete records and one cut off: with batches of 4 the last two complete
	// records sit in a batch that is still open when the break is found.
	write(t, filepath.Join(dir, "cut.json"), []byte(`{"Records":[{"a":1},{"a":2},{"a":3},{"a":4},{"a":5},{"a":6},{"a":`))
	state := openState(t)
	c := &collector{}
	run(t, newSource(t, dir, state, nil), c)
	if len(c.events) != 6 {
		t.Fatalf("%d events, want the 6 complete records", len(c.events))
	}
	c2 := &collector{}
	s2 := newSource(t, dir, state, nil)
	run(t, s2, c2)
	if len(c2.events) != 0 || s2.Stats().Skipped != 1 {
		t.Fatalf("second run: %d events, %d skipped; the broken file must be done", len(c2.events), s2.Stats().Skipped)
	}
}

func TestAutoDetectsAzureRecordsAsJSON(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "azure.json"), []byte(`{"records":[{"operationName":"x","category":"Administrative"}]}`))
	c := &collector{}
	run(t, newSource(t, dir, openState(t), nil), c)
	if len(c.events) != 1 || c.events[0] != `{"operationName":"x","category":"Administrative"}` {
		t.Fatalf("got %q, want the record as it is", c.events)
	}
}
