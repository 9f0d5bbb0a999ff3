package azureblob

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
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
)

// Azurite's well-known development account.
const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// One Azurite serves the package's tests; each test uses containers of its own.
var azurite struct {
	once     sync.Once
	endpoint string
	skip     string
	err      error
	cmd      *exec.Cmd
	dir      string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if c := azurite.cmd; c != nil {
		_ = c.Process.Kill() // by its PID
		_ = c.Wait()
	}
	if azurite.dir != "" {
		_ = os.RemoveAll(azurite.dir)
	}
	os.Exit(code)
}

// azuriteEndpoint starts Azurite's blob service on a free loopback port (once)
// and returns its endpoint. Without Azurite the test is skipped, loudly.
func azuriteEndpoint(t testing.TB) string {
	t.Helper()
	azurite.once.Do(startAzurite)
	if azurite.skip != "" {
		t.Skip(azurite.skip)
	}
	if azurite.err != nil {
		t.Fatal(azurite.err)
	}
	return azurite.endpoint
}

func startAzurite() {
	bin := os.Getenv("SKYWATCH_AZURITE")
	if bin == "" {
		p, err := exec.LookPath("azurite-blob")
		if err != nil {
			azurite.skip = "SKIP: needs Azurite: run make test (or set SKYWATCH_AZURITE to an azurite-blob executable)"
			return
		}
		bin = p
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		azurite.err = err
		return
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir, err := os.MkdirTemp("", "skywatch-azurite-")
	if err != nil {
		azurite.err = err
		return
	}
	azurite.dir = dir
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port),
		"--location", dir, "--silent", "--skipApiVersionCheck")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		azurite.err = fmt.Errorf("start azurite (%s): %w", bin, err)
		return
	}
	azurite.cmd = cmd
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			azurite.endpoint = "http://" + addr + "/" + devAccount
			return
		}
	}
	azurite.err = fmt.Errorf("azurite did not listen on %s within 60s: %s", addr, out.String())
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
	c.Endpoint = azurite.endpoint
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
