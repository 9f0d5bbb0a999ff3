package awssqs

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

const bucket = "logs"

// fakeS3 is gofakes3 on 127.0.0.1 behind a handler that can answer requests
// itself (fault injection) and counts object GETs.
type fakeS3 struct {
	url    string
	client *s3.Client
	mu     sync.Mutex
	fault  func(w http.ResponseWriter, r *http.Request) bool
	gets   map[string]int // by key
}

func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	f := &fakeS3{gets: map[string]int{}}
	h := gofakes3.New(s3mem.New()).Server()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		fault := f.fault
		if r.Method == http.MethodGet && !r.URL.Query().Has("list-type") {
			key, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/"+bucket+"/"))
			f.gets[key]++
		}
		f.mu.Unlock()
		if fault != nil && fault(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.client = s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(awsfake.TestKey, awsfake.TestSecret, ""),
		DisableLogOutputChecksumValidationSkipped: true})
	if _, err := f.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeS3) put(t testing.TB, key string, body []byte) {
	t.Helper()
	if _, err := f.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func (f *fakeS3) setFault(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.fault = fn
	f.mu.Unlock()
}

func (f *fakeS3) getCount(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets[key]
}

// env is one test's fakes and a configuration pointing at them.
type env struct {
	sqs  *awsfake.SQS
	s3   *fakeS3
	cfg  Config
	logs *syncBuffer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	fake, creds := awsfake.StartSQS(t)
	e := &env{sqs: fake, s3: newFakeS3(t), logs: &syncBuffer{}}
	fake.CreateQueue("notifications", 0)
	e.cfg = DefaultConfig()
	e.cfg.Queue = "notifications"
	e.cfg.LogType = "cloudtrail"
	e.cfg.AWS = creds
	e.cfg.AWS.PathStyle = true
	e.cfg.S3Endpoint = e.s3.url
	e.cfg.WaitTime = config.Duration(time.Second)
	return e
}

// source builds a source on the environment's configuration.
func (e *env) source(t testing.TB, cfg Config, once bool) *Source {
	t.Helper()
	s, err := New(cfg, Settings{Name: "queue", AgentName: "manager", Once: once, Logger: slogTo(e.logs),
		Retry: awsfake.FastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drain runs one source in once mode and fails the test on an error.
func (e *env) drain(t testing.TB, cfg Config, c *collector) *Source {
	t.Helper()
	s := e.source(t, cfg, true)
	if err := s.Run(context.Background(), c.emit); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return s
}

// serve runs a source in service mode until the test's cleanup.
func (e *env) serve(t testing.TB, cfg Config, c *collector) *Source {
	t.Helper()
	s := e.source(t, cfg, false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, c.emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && err != context.Canceled {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

// origin is where an event came from.
type origin struct {
	unit   string
	offset int64
}

// collector stands in for the pipeline. ackErr may fail a batch (by the unit of
// its first event); hold keeps acknowledgements until release.
type collector struct {
	mu     sync.Mutex
	events []event.Event
	ackErr func(unit string) error
	hold   bool
	held   map[string][]func(error)
}

func (c *collector) emit(_ context.Context, b *source.Batch) error {
	c.mu.Lock()
	for _, ev := range b.Events {
		ev.Log = append([]byte(nil), ev.Log...)
		c.events = append(c.events, ev)
	}
	unit := b.Events[0].Origin.Unit
	var err error
	if c.ackErr != nil {
		err = c.ackErr(unit)
	}
	if c.hold {
		if c.held == nil {
			c.held = map[string][]func(error){}
		}
		c.held[unit] = append(c.held[unit], b.Ack)
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	b.Ack(err)
	return nil
}

// release acknowledges the held batches of a unit.
func (c *collector) release(unit string, err error) int {
	c.mu.Lock()
	acks := c.held[unit]
	delete(c.held, unit)
	c.mu.Unlock()
	for _, a := range acks {
		a(err)
	}
	return len(acks)
}

func (c *collector) all() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]event.Event(nil), c.events...)
}

// count returns the events of each unit.
func (c *collector) count() map[string]int {
	m := map[string]int{}
	for _, ev := range c.all() {
		m[ev.Origin.Unit]++
	}
	return m
}

// origins returns how many times each (unit, offset) was emitted.
func (c *collector) origins() map[origin]int {
	m := map[origin]int{}
	for _, ev := range c.all() {
		m[origin{ev.Origin.Unit, ev.Origin.Offset}]++
	}
	return m
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDeleted waits until the source deleted n messages and the queue is empty.
func waitDeleted(t testing.TB, e *env, s *Source, n int64) {
	t.Helper()
	waitFor(t, 15*time.Second, fmt.Sprint(n, " deletions"), func() bool {
		return s.MessageStats().Deleted >= n && len(e.sqs.Messages("notifications")) == 0
	})
}

// trail returns a gzip CloudTrail object with n records.
func trail(n int, name string) []byte {
	recs := make([]string, n)
	for i := range recs {
		recs[i] = fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:%02dZ","eventSource":"iam.amazonaws.com","eventName":"%s","sourceIPAddress":"198.51.100.%d","requestID":"%s-%d","recipientAccountId":"111122223333"}`,
			i%60, name, i%250, name, i)
	}
	return gz([]byte(`{"Records":[` + strings.Join(recs, ",") + `]}`))
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// s3Event is an S3 event notification naming keys of the test bucket (URL-encoded
// as S3 encodes them).
func s3Event(keys ...string) string {
	type rec struct {
		EventVersion string         `json:"eventVersion"`
		EventSource  string         `json:"eventSource"`
		AWSRegion    string         `json:"awsRegion"`
		EventTime    string         `json:"eventTime"`
		EventName    string         `json:"eventName"`
		S3           map[string]any `json:"s3"`
	}
	var recs []rec
	for _, k := range keys {
		recs = append(recs, rec{"2.1", "aws:s3", "us-east-1", "2024-05-01T10:05:00.123Z", "ObjectCreated:Put", map[string]any{
			"s3SchemaVersion": "1.0", "bucket": map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{"key": url.QueryEscape(k), "size": 100}}})
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return string(b)
}

// snsWrap wraps a notification as SNS delivers it to SQS (raw delivery off).
func snsWrap(inner string) string {
	b, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "6b1e0b9c", "TopicArn": "arn:aws:sns:us-east-1:111122223333:s3-events",
		"Subject": "Amazon S3 Notification", "Message": inner, "Timestamp": "2024-05-01T10:05:01.000Z"})
	return string(b)
}

// eventBridge is EventBridge's Object Created event for a key (not encoded).
func eventBridge(key string) string {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
		"source": "aws.s3", "account": "111122223333", "time": "2024-05-01T10:05:00Z", "region": "us-east-1",
		"resources": []string{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{"version": "0", "bucket": map[string]any{"name": bucket},
			"object": map[string]any{"key": key, "size": 100}, "reason": "PutObject"}})
	return string(b)
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
