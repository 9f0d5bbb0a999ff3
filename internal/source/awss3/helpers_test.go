package awss3

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/daycursor"
)

// fakeS3 is gofakes3 on 127.0.0.1 behind a handler that can inject faults.
type fakeS3 struct {
	srv    *httptest.Server
	client *s3.Client
	// fault, when set, may answer a request itself (returning true).
	mu    sync.Mutex
	fault func(w http.ResponseWriter, r *http.Request) bool
	gets  atomic.Int64
}

func newFakeS3(t *testing.T, bucket string) *fakeS3 {
	t.Helper()
	t.Setenv("AWS_CA_BUNDLE", "")
	f := &fakeS3{}
	faker := gofakes3.New(s3mem.New())
	h := faker.Server()
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && !r.URL.Query().Has("list-type") && r.URL.RawQuery == "" {
			f.gets.Add(1)
		}
		f.mu.Lock()
		fault := f.fault
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
	f.srv.Listener = ln
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	cfg := testConfig(f.srv.URL, bucket)
	awsCfg, err := cfg.AWS.Load(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.client = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(f.srv.URL)
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	if _, err := f.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeS3) setFault(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.fault = fn
	f.mu.Unlock()
}

func (f *fakeS3) put(t *testing.T, bucket, key string, body []byte) {
	t.Helper()
	_, err := f.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func testConfig(endpoint, bucket string) Config {
	cfg := DefaultConfig()
	cfg.Bucket = bucket
	cfg.LogType = "cloudtrail"
	cfg.OnlyLogsAfter = "2024-05-01"
	cfg.AWS.Region = "us-east-1"
	cfg.AWS.AccessKeyID = "AKIDTEST"
	cfg.AWS.SecretAccessKey = "secret-test-key"
	cfg.AWS.Endpoint = endpoint
	cfg.AWS.PathStyle = true
	return cfg
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// trail returns a CloudTrail document with n records named from the given prefix.
func trail(n int, name string) []byte {
	var recs []string
	for i := 0; i < n; i++ {
		// Varied content, so gzip writes many blocks and a cut object still holds
		// complete records.
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2024-05-01T10:%02d:%02dZ","eventSource":"iam.amazonaws.com","eventName":"%s","sourceIPAddress":"198.51.%d.%d","requestID":"%x","recipientAccountId":"111122223333"}`,
			i/60%60, i%60, name, i%250, (i*7)%250, uint64(i)*0x9E3779B97F4A7C15))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

// collector is an Emit that keeps events and acknowledges batches as told.
type collector struct {
	mu     sync.Mutex
	events []string
	units  []string
	offs   []int64
	ackErr func(unit string) error
}

func (c *collector) emit(_ context.Context, b *source.Batch) error {
	c.mu.Lock()
	var err error
	for _, ev := range b.Events {
		c.events = append(c.events, string(ev.Log))
		c.units = append(c.units, ev.Origin.Unit)
		c.offs = append(c.offs, ev.Origin.Offset)
		if c.ackErr != nil && err == nil {
			err = c.ackErr(ev.Origin.Unit)
		}
	}
	c.mu.Unlock()
	b.Ack(err)
	return nil
}

func (c *collector) count(unitSuffix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, u := range c.units {
		if strings.HasSuffix(u, unitSuffix) {
			n++
		}
	}
	return n
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

// poll runs one poll of a source built from cfg and commits its checkpoints.
func poll(t *testing.T, f *fakeS3, cfg Config, state *checkpoint.Store, now time.Time, c *collector) *Source {
	t.Helper()
	s := newWithClient(cfg, Settings{Name: "trail", State: state, Now: func() time.Time { return now }}, f.client)
	if err := s.Run(context.Background(), c.emit); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := s.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return s
}

func stateKeys(t *testing.T, st *checkpoint.Store) (keys, cursors int) {
	t.Helper()
	st.ForEach("trail", func(k string, _ []byte) error {
		if strings.HasPrefix(k, daycursor.KeyPrefix) {
			keys++
		} else {
			cursors++
		}
		return nil
	})
	return keys, cursors
}

func listInput(b string) *s3.ListObjectsV2Input {
	return &s3.ListObjectsV2Input{Bucket: aws.String(b)}
}
