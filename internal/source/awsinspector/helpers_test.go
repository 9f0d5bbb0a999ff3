package awsinspector

import (
	"bytes"
	"context"
	"fmt"
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
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

const (
	testKey    = "AKIDSKYWATCHTEST"
	testSecret = "s3cr3t-key-never-logged"
)

// testEnv keeps the SDK away from this machine's AWS settings.
func testEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(v, "")
	}
}

// newFake starts the fake with the test key and returns a configuration that
// points at it.
func newFake(t *testing.T) (*awsfake.Server, Config) {
	t.Helper()
	testEnv(t)
	fake := awsfake.New(t)
	fake.AddKey(testKey, testSecret, "")
	cfg := DefaultConfig()
	cfg.AWS = awsclient.Config{Region: "us-east-1", AccessKeyID: testKey, SecretAccessKey: testSecret, Endpoint: fake.URL}
	cfg.OnlyLogsAfter = "2024-01-01"
	return fake, cfg
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// collector stands in for the pipeline: it keeps every event and acknowledges
// batches at once, or holds the acknowledgements when hold is set.
type collector struct {
	mu     sync.Mutex
	events []event.Event
	hold   bool
	acks   []func(error)
}

func (c *collector) emit(_ context.Context, b *source.Batch) error {
	c.mu.Lock()
	for _, ev := range b.Events {
		ev.Log = append([]byte(nil), ev.Log...)
		c.events = append(c.events, ev)
	}
	hold := c.hold
	if hold {
		c.acks = append(c.acks, b.Ack)
	}
	c.mu.Unlock()
	if !hold {
		b.Ack(nil)
	}
	return nil
}

// take returns the events collected so far and forgets them.
func (c *collector) take() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.events
	c.events = nil
	return ev
}

func units(evs []event.Event) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		m[e.Origin.Unit]++
	}
	return m
}

// settings returns test settings: fast retries, a log buffer and the clock.
func settings(name string, st *checkpoint.Store, clk *clock, logs *bytes.Buffer) Settings {
	s := Settings{Name: name, State: st, AgentName: "manager", Now: clk.Now,
		Retry: retry.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 6}}
	if logs != nil {
		s.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return s
}

func openStore(t *testing.T, path string) *checkpoint.Store {
	t.Helper()
	st, err := checkpoint.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// run does one pass and the Commit the pipeline would do after the acks.
func run(t *testing.T, s *Source, c *collector) error {
	t.Helper()
	err := s.Run(context.Background(), c.emit)
	if cerr := s.Commit(); cerr != nil {
		t.Fatal(cerr)
	}
	return err
}

// findings makes n findings updated at base + i*step.
func findings(prefix string, n int, base time.Time, step time.Duration) []awsfake.Finding {
	out := make([]awsfake.Finding, n)
	for i := range out {
		out[i] = awsfake.Finding{
			ARN:       fmt.Sprintf("arn:aws:inspector2:us-east-1:123456789012:finding/%s%04d", prefix, i),
			AccountID: "123456789012", UpdatedAt: base.Add(time.Duration(i) * step),
			Severity: "HIGH", Type: "PACKAGE_VULNERABILITY", Title: fmt.Sprintf("CVE-2024-%04d - openssl", i),
		}
	}
	return out
}
