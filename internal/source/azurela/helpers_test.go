package azurela

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

const (
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testClient = "5a3f0c1e-7b2d-4e8f-9a6b-1c2d3e4f5a6b"
	testSecret = "la-client-secret-never-logged-42"
	ws1        = "0b6f3c8e-1d2a-4c5b-9e7f-a1b2c3d4e5f6"
	ws2        = "9c8d7e6f-5a4b-4c3d-8e2f-1a0b9c8d7e6f"
)

// noon is the test clock's start; rows are placed around it.
var noon = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

var fastRetry = retry.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 6}

// env is a fake token authority and query API with a configuration that
// points at them.
type env struct {
	entra *azurefake.Entra
	la    *azurefake.LogAnalytics
	cfg   Config
	clock *clock
	logs  *bytes.Buffer
	waits []time.Duration // Retry-After waits asked for
	mu    sync.Mutex
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{entra: azurefake.NewEntra(testClient, testSecret), clock: &clock{t: noon}, logs: &bytes.Buffer{}}
	t.Cleanup(e.entra.Close)
	e.la = azurefake.NewLogAnalytics(e.entra)
	t.Cleanup(e.la.Close)
	e.la.SetColumns(testColumns...)
	e.cfg = DefaultConfig()
	e.cfg.Azure.TenantID, e.cfg.Azure.ClientID, e.cfg.Azure.ClientSecret = testTenant, testClient, config.Secret(testSecret)
	e.cfg.Azure.AuthorityHost = e.entra.AuthorityHost()
	e.cfg.Endpoint = e.la.Endpoint()
	e.cfg.Workspace = ws1
	e.cfg.Query = "SigninLogs | project TimeGenerated, UserPrincipalName, ResultType, Count, Status, Type"
	e.cfg.Tag = "signins"
	e.cfg.TimeOffset = "2h"
	return e
}

// settings returns source settings for name with the env's clock, logs and a
// recording Sleep.
func (e *env) settings(name string, st *checkpoint.Store) Settings {
	return Settings{Name: name, State: st, AgentName: "manager", Now: e.clock.Now, Retry: fastRetry,
		HTTPClient: e.entra.Server.Client(), // the fakes share httptest's certificate
		Logger:     slog.New(slog.NewJSONHandler(&lockedWriter{w: e.logs, mu: &e.mu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep: func(_ context.Context, d time.Duration) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.waits = append(e.waits, d)
			return nil
		}}
}

func (e *env) newSource(t *testing.T, name string, st *checkpoint.Store) *Source {
	t.Helper()
	s, err := New(e.cfg, e.settings(name, st))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var testColumns = []azurefake.LAColumn{
	{Name: "TimeGenerated", Type: "datetime"}, {Name: "UserPrincipalName", Type: "string"},
	{Name: "ResultType", Type: "string"}, {Name: "Count", Type: "long"}, {Name: "Status", Type: "dynamic"},
	{Name: "Type", Type: "string"},
}

// addRows stores n sign-in rows in workspace ws, from base, step apart, named
// prefix0000...; it returns the user names.
func (e *env) addRows(ws, prefix string, n int, base time.Time, step time.Duration) []string {
	var users []string
	for i := range n {
		at := base.Add(time.Duration(i) * step)
		user := fmt.Sprintf("%s%04d@contoso.com", prefix, i)
		status, _ := json.Marshal(fmt.Sprintf(`{"errorCode":0,"n":%d}`, i))
		row := fmt.Sprintf(`[%q,%q,"0",%d,%s,"SigninLogs"]`, at.Format(time.RFC3339Nano), user, 9007199254740993+int64(i), status)
		e.la.AddRow(ws, at, json.RawMessage(row))
		users = append(users, user)
	}
	return users
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

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// collector stands in for the pipeline: it keeps every event and acknowledges
// batches at once, or holds the acknowledgements when hold is set.
type collector struct {
	hold bool
	acks []func(error)

	mu     sync.Mutex
	events []event.Event
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

func (c *collector) take() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.events
	c.events = nil
	return ev
}

var errOutput = errors.New("output failed")

// runPass runs one pass and commits, as the pipeline does after acknowledging.
func runPass(t *testing.T, s *Source, c *collector) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := s.Run(ctx, c.emit)
	if cerr := s.Commit(); cerr != nil {
		t.Fatalf("commit: %v", cerr)
	}
	return err
}

func mustRunPass(t *testing.T, s *Source, c *collector) {
	t.Helper()
	if err := runPass(t, s, c); err != nil {
		t.Fatalf("pass: %v", err)
	}
}

// users returns the UserPrincipalName of each event, failing on duplicates
// when unique is set.
func users(t *testing.T, evs []event.Event) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, ev := range evs {
		var v struct{ UserPrincipalName string }
		if err := json.Unmarshal(ev.Log, &v); err != nil {
			t.Fatalf("event is not JSON: %v\n%s", err, ev.Log)
		}
		m[v.UserPrincipalName]++
	}
	return m
}

func openStore(t *testing.T, dir string) *checkpoint.Store {
	t.Helper()
	st, err := checkpoint.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}
