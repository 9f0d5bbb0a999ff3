package awsfake

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// The access key Start registers with the fake and puts in the configuration.
const (
	TestKey    = "AKIDSKYWATCHTEST"
	TestSecret = "s3cr3t-key-never-logged"
)

// IsolateEnv keeps the SDK away from this machine's AWS settings for the rest of
// the test.
func IsolateEnv(tb testing.TB) {
	tb.Helper()
	dir := tb.TempDir()
	tb.Setenv("AWS_CA_BUNDLE", "")
	tb.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		tb.Setenv(v, "")
	}
}

// Start isolates the test from this machine's AWS settings (IsolateEnv), starts a
// fake that accepts TestKey, and returns it with a credentials configuration that
// points at it: region us-east-1, TestKey and TestSecret, endpoint URL.
func Start(tb testing.TB) (*Server, awsclient.Config) {
	tb.Helper()
	IsolateEnv(tb)
	fake := New(tb)
	fake.AddKey(TestKey, TestSecret, "")
	return fake, awsclient.Config{Region: "us-east-1", AccessKeyID: TestKey, SecretAccessKey: TestSecret, Endpoint: fake.URL}
}

// FastRetry is a retry policy for tests: six attempts, a few milliseconds apart.
var FastRetry = retry.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 6}

// Logger returns a debug-level JSON logger writing to buf, or nil (the source's
// default) when buf is nil.
func Logger(buf *bytes.Buffer) *slog.Logger {
	if buf == nil {
		return nil
	}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// OpenStore opens the checkpoint store at path, failing the test on an error.
func OpenStore(tb testing.TB, path string) *checkpoint.Store {
	tb.Helper()
	st, err := checkpoint.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// Clock is a settable time source.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the time the clock is set to.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Collector stands in for the pipeline: it keeps every event and acknowledges
// batches at once, or holds the acknowledgements when Hold is set.
type Collector struct {
	// Hold keeps the batches' acknowledgements in Acks instead of calling them.
	Hold bool
	Acks []func(error)

	mu     sync.Mutex
	events []event.Event
}

// Emit is the source.Emit that collects.
func (c *Collector) Emit(_ context.Context, b *source.Batch) error {
	c.mu.Lock()
	for _, ev := range b.Events {
		ev.Log = append([]byte(nil), ev.Log...)
		c.events = append(c.events, ev)
	}
	hold := c.Hold
	if hold {
		c.Acks = append(c.Acks, b.Ack)
	}
	c.mu.Unlock()
	if !hold {
		b.Ack(nil)
	}
	return nil
}

// Take returns the events collected so far and forgets them.
func (c *Collector) Take() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.events
	c.events = nil
	return ev
}

// ErrOutput is an error to acknowledge a batch with, as an output that could not
// take it.
var ErrOutput = errors.New("output failed")

// Units counts the events of each unit (Origin.Unit).
func Units(evs []event.Event) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		m[e.Origin.Unit]++
	}
	return m
}

// CommittingSource is a source that commits its checkpoints when asked.
type CommittingSource interface {
	source.Source
	source.Committer
}

// RunPass does one pass of src into c and the Commit the pipeline would do after
// the acknowledgements; a failed Commit fails the test. It returns Run's error.
func RunPass(tb testing.TB, src CommittingSource, c *Collector) error {
	tb.Helper()
	err := src.Run(context.Background(), c.Emit)
	if cerr := src.Commit(); cerr != nil {
		tb.Fatal(cerr)
	}
	return err
}

// MustRunPass is RunPass that fails the test when the pass fails.
func MustRunPass(tb testing.TB, src CommittingSource, c *Collector) {
	tb.Helper()
	if err := RunPass(tb, src, c); err != nil {
		tb.Fatal(err)
	}
}

// MustNew returns newSource(cfg, set), failing the test on an error:
//
//	s := awsfake.MustNew(t, awslogs.New, cfg, set)
func MustNew[C, S, T any](tb testing.TB, newSource func(C, S) (T, error), cfg C, set S) T {
	tb.Helper()
	src, err := newSource(cfg, set)
	if err != nil {
		tb.Fatal(err)
	}
	return src
}
