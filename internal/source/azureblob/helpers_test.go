package azureblob

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

// Azurite's well-known development account.
const (
	devAccount = azurefake.DevAccount
	devKey     = azurefake.DevKey
)

// One Azurite serves the package's tests; each test uses containers of its own.
var azurite azurefake.Azurite

func TestMain(m *testing.M) {
	code := m.Run()
	azurite.Stop()
	os.Exit(code)
}

// azuriteEndpoint returns the shared Azurite's endpoint; without Azurite the
// test is skipped, loudly.
func azuriteEndpoint(t testing.TB) string {
	t.Helper()
	return azurite.Endpoint(t)
}

var containerSeq atomic.Int64

// newContainer creates a fresh container and returns its name and a client.
func newContainer(t testing.TB) (string, *azblob.Client) {
	t.Helper()
	ep := azuriteEndpoint(t)
	cred, err := azblob.NewSharedKeyCredential(devAccount, devKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential(ep, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("c%d-%d", time.Now().UnixNano()%1e9, containerSeq.Add(1))
	if _, err := c.CreateContainer(context.Background(), name, nil); err != nil {
		t.Fatal(err)
	}
	return name, c
}

func put(t testing.TB, c *azblob.Client, container, name string, data []byte) {
	t.Helper()
	if _, err := c.UploadBuffer(context.Background(), container, name, data, nil); err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
}

// baseConfig reads container from Azurite with the shared key.
func baseConfig(container string) Config {
	c := DefaultConfig()
	c.AccountName, c.AccountKey = devAccount, config.Secret(devKey)
	c.Endpoint = azurite.URL()
	c.Container = container
	c.Tag = "t1"
	c.OnlyLogsAfter = "2024-01-01"
	return c
}

func openStore(t testing.TB, dir string) *checkpoint.Store {
	t.Helper()
	st, err := checkpoint.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// fixedNow is the clock of the tests: 2024-05-03 12:00 UTC.
var fixedNow = time.Date(2024, 5, 3, 12, 0, 0, 0, time.UTC)

func newSource(t testing.TB, cfg Config, st *checkpoint.Store, logs *bytes.Buffer) *Source {
	t.Helper()
	return newSourceFull(t, cfg, st, logs, nil)
}

func newSourceWith(t testing.TB, cfg Config, logs *bytes.Buffer, hc *http.Client) *Source {
	t.Helper()
	return newSourceFull(t, cfg, openStore(t, t.TempDir()), logs, hc)
}

func newSourceFull(t testing.TB, cfg Config, st *checkpoint.Store, logs *bytes.Buffer, hc *http.Client) *Source {
	t.Helper()
	s := Settings{Name: "blob", State: st, HTTPClient: hc, AgentName: "mgr", Now: func() time.Time { return fixedNow },
		PageSize: 2, RetryDelay: time.Millisecond}
	if logs != nil {
		s.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	src, err := New(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// collector is the pipeline of the tests: it keeps every event and
// acknowledges batches at once (or as hold decides).
type collector struct {
	mu     sync.Mutex
	events []event.Event
	// hold, when set, is asked for each batch; true keeps it unacknowledged
	// and its events out of the collection (a crash before the flush).
	hold func(n int) bool
	n    int
}

func (c *collector) emit(_ context.Context, b *source.Batch) error {
	c.mu.Lock()
	c.n++
	held := c.hold != nil && c.hold(c.n)
	if !held {
		for _, ev := range b.Events {
			ev.Log = append([]byte(nil), ev.Log...)
			c.events = append(c.events, ev)
		}
	}
	c.mu.Unlock()
	if !held {
		b.Ack(nil)
	}
	return nil
}

func (c *collector) take() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.events
	c.events = nil
	return ev
}

func logs(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Log)
	}
	return out
}

// runPass runs one pass and fails the test on error.
func runPass(t testing.TB, s *Source, c *collector) []event.Event {
	t.Helper()
	if err := s.Run(context.Background(), c.emit); err != nil {
		t.Fatalf("pass: %v", err)
	}
	return c.take()
}

// keysOf lists the checkpoint keys of the source.
func keysOf(t testing.TB, st *checkpoint.Store) []string {
	t.Helper()
	var keys []string
	if err := st.ForEach("blob", func(k string, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}

func countPrefix(keys []string, p string) int {
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, p) {
			n++
		}
	}
	return n
}
