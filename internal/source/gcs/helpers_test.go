package gcs

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/daycursor"
)

const bucket = "log-bucket"

// fakeGCS is fake-gcs-server on 127.0.0.1 behind a handler that can inject
// faults; the storage client finds it through STORAGE_EMULATOR_HOST.
type fakeGCS struct {
	gcs   *fakestorage.Server
	http  *httptest.Server
	mu    sync.Mutex
	fault func(w http.ResponseWriter, r *http.Request) bool
	gets  atomic.Int64 // object downloads
	lists atomic.Int64 // listing calls
}

func newFakeGCS(t testing.TB) *fakeGCS {
	t.Helper()
	// The client reads objects at /<bucket>/<object> on the emulator host;
	// fake-gcs-server serves that path for its public host only.
	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeGCS{gcs: gcs}
	f.http = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/o") {
			f.lists.Add(1)
		} else if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/storage/") {
			f.gets.Add(1)
		}
		f.mu.Lock()
		fault := f.fault
		f.mu.Unlock()
		if fault != nil && fault(w, r) {
			return
		}
		f.serve(w, r)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.http.Listener = ln
	f.http.Start()
	t.Cleanup(f.http.Close)
	gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	t.Setenv("STORAGE_EMULATOR_HOST", ln.Addr().String())
	return f
}

// serve passes a request to fake-gcs-server. GCS ignores the Range of a read of
// a gzip-encoded object and sends it whole (cloud.google.com/storage/docs/
// transcoding#range), and the client relies on that when it resumes a broken
// download; fake-gcs-server honours the range, so the range is dropped here.
func (f *fakeGCS) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Range") != "" && r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/storage/") {
		name, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/"+bucket+"/"))
		if o, err := f.gcs.GetObject(bucket, name); err == nil && o.ContentEncoding == "gzip" {
			r.Header.Del("Range")
		}
	}
	f.gcs.HTTPHandler().ServeHTTP(w, r)
}

func (f *fakeGCS) setFault(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.fault = fn
	f.mu.Unlock()
}

// put stores an object; encoding "gzip" stores body gzipped with that
// Content-Encoding, as gsutil cp -Z does.
func (f *fakeGCS) put(name string, body []byte, encoding string) {
	if encoding == "gzip" {
		body = gzipped(body)
	}
	f.gcs.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{
		BucketName: bucket, Name: name, ContentEncoding: encoding}, Content: body})
}

// remove deletes an object through the fake's JSON API.
func (f *fakeGCS) remove(name string) {
	r := httptest.NewRequest(http.MethodDelete, "/storage/v1/b/"+bucket+"/o/"+url.PathEscape(name), nil)
	w := httptest.NewRecorder()
	f.gcs.HTTPHandler().ServeHTTP(w, r)
	if w.Code/100 != 2 {
		panic(fmt.Sprintf("delete %s: %d %s", name, w.Code, w.Body))
	}
}

func (f *fakeGCS) names() []string {
	res, err := f.gcs.ListObjectsWithOptionsPaginated(bucket, fakestorage.ListOptions{})
	if err != nil || res.NextPageToken != "" {
		panic(fmt.Sprint("list: ", err, res.NextPageToken))
	}
	var out []string
	for _, o := range res.Objects {
		out = append(out, o.Name)
	}
	return out
}

// isGet reports whether r downloads the object with the name suffix.
func isGet(r *http.Request, suffix string) bool {
	return r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/storage/") && strings.HasSuffix(r.URL.Path, suffix)
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// entries returns n LogEntry lines; tag marks them.
func entries(n int, tag string) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"insertId":"%s-%d","logName":"projects/p/logs/cloudaudit.googleapis.com%%2Factivity","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","methodName":"v1.compute.instances.insert","requestMetadata":{"callerIp":"198.51.100.%d"},"serviceName":"compute.googleapis.com"},"resource":{"type":"gce_instance","labels":{"project_id":"p"}},"severity":"NOTICE","timestamp":"2024-05-01T10:%02d:%02d.%06dZ"}`+"\n",
			tag, i, i%250, i/60%60, i%60, i)
	}
	return b.Bytes()
}

const activity = "cloudaudit.googleapis.com/activity/"

// hourFile names the export object of one hour of a day (YYYY/MM/DD).
func hourFile(log, day string, hour int, shard string) string {
	return fmt.Sprintf("%s%s/%02d:00:00_%02d:59:59_%s.json", log, day, hour, hour, shard)
}

func testConfig(logType string) Config {
	cfg := DefaultConfig()
	cfg.Bucket = bucket
	cfg.LogType = logType
	cfg.OnlyLogsAfter = "2024-05-01"
	return cfg
}

var fastRetry = retry.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 4}

func newSource(t testing.TB, cfg Config, st *checkpoint.Store, now time.Time, logs *syncBuffer) *Source {
	t.Helper()
	set := Settings{Name: "gcs-test", State: st, Now: func() time.Time { return now }, Retry: fastRetry, AgentName: "manager"}
	if logs != nil {
		set.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	s, err := New(context.Background(), cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// syncBuffer is a log destination safe for the workers' concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// collector is an Emit that keeps events and acknowledges batches as told.
type collector struct {
	mu     sync.Mutex
	events []gotEvent
	// ackErr, when set, decides a batch's acknowledgement from its unit.
	ackErr func(unit string) error
	// hold, when set, is asked for each batch (numbered from 1): true leaves
	// it unacknowledged, as batches in flight when a process dies.
	hold    func(n int) bool
	batches int
}

type gotEvent struct {
	log, unit, location string
	off                 int64
}

func (c *collector) emit(_ context.Context, b *source.Batch) error {
	c.mu.Lock()
	c.batches++
	n := c.batches
	var err error
	for _, ev := range b.Events {
		c.events = append(c.events, gotEvent{log: string(ev.Log), unit: ev.Origin.Unit, location: ev.Location, off: ev.Origin.Offset})
		if c.ackErr != nil && err == nil {
			err = c.ackErr(ev.Origin.Unit)
		}
	}
	hold := c.hold != nil && c.hold(n)
	c.mu.Unlock()
	if !hold {
		b.Ack(err)
	}
	return nil
}

func (c *collector) count(unitSuffix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.events {
		if strings.HasSuffix(e.unit, unitSuffix) {
			n++
		}
	}
	return n
}

// keys returns "unit@offset" of every event, sorted.
func (c *collector) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.events {
		out = append(out, fmt.Sprintf("%s@%d", e.unit, e.off))
	}
	sort.Strings(out)
	return out
}

func openState(t testing.TB, dir string) *checkpoint.Store {
	t.Helper()
	st, err := checkpoint.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// poll runs one poll and commits, as the pipeline does.
func poll(t testing.TB, s *Source, c *collector) {
	t.Helper()
	if err := s.Run(context.Background(), c.emit); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := s.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func stateKeys(t testing.TB, st *checkpoint.Store) (keys, cursors int) {
	t.Helper()
	st.ForEach("gcs-test", func(k string, _ []byte) error {
		if strings.HasPrefix(k, daycursor.KeyPrefix) {
			keys++
		} else {
			cursors++
		}
		return nil
	})
	return keys, cursors
}

var noon = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
