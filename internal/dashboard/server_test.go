package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/skywatch-dev/skywatch/internal/api"
)

// The API's collaborators other than the store: a rule catalog, source status
// and a logtester that answer as the service's do.
type fakeRules struct{}

func (fakeRules) Rules() []api.RuleInfo {
	out := make([]api.RuleInfo, len(seedRules))
	for i, r := range seedRules {
		out[i] = r.info()
	}
	return out
}

type fakeSources struct{ now time.Time }

func (f fakeSources) Sources() []api.SourceInfo {
	n := f.now
	return []api.SourceInfo{
		{Name: "cloudtrail-prod", Type: "aws-s3", LastRunStart: n.Add(-2 * time.Minute), LastRunEnd: n.Add(-110 * time.Second), LagSeconds: 320, Objects: 1234, Events: 98765},
		{Name: "azure-activity", Type: "azure-log-analytics", LastRunStart: n.Add(-20 * time.Second), LastRunEnd: n.Add(-5 * time.Minute), LagSeconds: 75, Objects: 88, Events: 4321},
		{Name: "gcp-audit", Type: "gcp-pubsub", LastRunStart: n.Add(-10 * time.Minute), LastRunEnd: n.Add(-9 * time.Minute), LagSeconds: 7200, Events: 310, Errors: 3,
			LastError: "rpc error: code = PermissionDenied desc = the caller does not have permission"},
	}
}

type fakeLogtest struct{}

func (fakeLogtest) Logtest(_ context.Context, location string, events []string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for _, e := range events {
		alertOut := strings.Contains(e, "StopLogging")
		rule := `{"level":12,"description":"AWS CloudTrail: logging was stopped (StopLogging).","id":"300001","groups":["aws","cloudtrail"]}`
		if !alertOut {
			rule = `{"level":0,"description":"AWS CloudTrail events.","id":"80200","groups":["aws"]}`
		}
		loc, _ := json.Marshal(location)
		full, _ := json.Marshal(e)
		out = append(out, json.RawMessage(fmt.Sprintf(`{"output":{"timestamp":"2024-05-01T10:00:00.000+0000","rule":%s,"location":%s,"full_log":%s},"alert":%t}`,
			rule, loc, full, alertOut)))
	}
	return out, nil
}

// testServer is the real API over a seeded store, with the dashboard mounted
// as the service mounts it.
type testServer struct {
	base        string
	tokens      string // the tokens file
	admin, read string
	srv         *api.Server
	calls       *callLog
}

// callLog reads the API's request log: which calls a page made and how long
// the server took, so the tests can hold pages to a few cheap calls.
type callLog struct {
	mu    sync.Mutex
	calls []call
}

type call struct {
	path string
	ms   int64
}

func (l *callLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *callLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *callLog) WithGroup(string) slog.Handler            { return l }
func (l *callLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "api request" {
		return nil
	}
	var c call
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "path":
			c.path = a.Value.String()
		case "ms":
			c.ms = a.Value.Int64()
		}
		return true
	})
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
	return nil
}

// take returns the calls since the last take.
func (l *callLog) take() []call {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

func startServer(t *testing.T, alerts int) *testServer {
	t.Helper()
	st := seedStore(t, alerts)
	dir := t.TempDir()
	ts := &testServer{tokens: filepath.Join(dir, api.DefaultTokensFile), calls: &callLog{}}
	var err error
	if ts.admin, _, err = api.CreateToken(ts.tokens, api.RoleAdmin, "analyst-admin"); err != nil {
		t.Fatal(err)
	}
	if ts.read, _, err = api.CreateToken(ts.tokens, api.RoleRead, "analyst"); err != nil {
		t.Fatal(err)
	}
	cfg := api.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	ts.srv, err = api.New(cfg, api.Options{DataDir: dir, Alerts: st, Rules: fakeRules{}, Sources: fakeSources{time.Now()},
		Logtester: fakeLogtest{}, Logger: slog.New(ts.calls)})
	if err != nil {
		t.Fatal(err)
	}
	h := Handler()
	ts.srv.Handle("GET /{$}", h)
	ts.srv.Handle(Prefix, h)
	if err := ts.srv.Start(); err != nil {
		t.Fatal(err)
	}
	ts.base = "http://" + ts.srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ts
}

// hasRoute reports whether the API serves a route (parts of the contract may
// land after the dashboard).
func (ts *testServer) hasRoute(path string) bool {
	for _, r := range ts.srv.Routes() {
		if r.Path == path {
			return true
		}
	}
	return false
}

// chromiumPath finds Debian's chromium; the tests never download a browser.
func chromiumPath(t *testing.T) string {
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	msg := "SKIP: needs chromium: run make test (it installs Debian's chromium as root) or apt-get install -y chromium"
	fmt.Fprintln(os.Stderr, "dashboard browser tests: "+msg)
	t.Skip(msg)
	return ""
}

// console collects what the page writes to its console. Exceptions, console
// errors and security (CSP) reports fail the test; the browser's network log
// (a 401 the login page expects, say) is only kept for the failure message.
type console struct {
	mu   sync.Mutex
	bad  []string
	seen []string
}

func (c *console) watch(ctx context.Context) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.seen = append(c.seen, fmt.Sprintf("%s [%s] %s", m.Type, m.Source, m.Text))
			bad := m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") ||
				m.Source == "security" || strings.Contains(m.Text, "Content Security Policy")
			if bad {
				c.bad = append(c.bad, m.String()+" at "+m.URL)
			}
			c.mu.Unlock()
		}
	}()
}

// check fails the test on console errors since the last check.
func (c *console) check(t *testing.T, where string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) > 0 {
		t.Errorf("%s: console errors:\n  %s\nall messages:\n  %s", where, strings.Join(c.bad, "\n  "), strings.Join(c.seen, "\n  "))
	}
	c.bad = nil
}

// newBrowser starts headless chromium with a tab whose console is watched.
func newBrowser(t *testing.T) (context.Context, *console) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	c := &console{}
	c.watch(ctx)
	return ctx, c
}

// screenshotDir is $SKYWATCH_SCREENSHOTS, or testdata/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SKYWATCH_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	// From the top, so that the sticky header is where a user sees it.
	mustRun(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(screenshotDir(t), name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

// js evaluates an expression (awaiting a promise) and returns its value.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is truthy.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash + " | " + (document.getElementById('main')?.innerText || document.body.innerText).slice(0, 600)`))
		t.Fatalf("waiting for %s (%s): %v\npage: %s", what, cond, err, state)
	}
}

// budget checks the API calls a page made since the last check: at most max,
// and logs each with the server's time.
func (ts *testServer) budget(t *testing.T, page string, max int) {
	t.Helper()
	calls := ts.calls.take()
	var desc []string
	for _, c := range calls {
		desc = append(desc, fmt.Sprintf("%s %dms", c.path, c.ms))
	}
	t.Logf("%s: %d API calls: %s", page, len(calls), strings.Join(desc, ", "))
	if len(calls) > max {
		t.Errorf("%s made %d API calls, want at most %d", page, len(calls), max)
	}
}

// open goes to a route and waits until its page has loaded all its data.
func open(t *testing.T, ctx context.Context, route string) {
	t.Helper()
	mustRun(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById('main')?.removeAttribute('data-ready'); location.hash = %q`, route)))
	waitReady(t, ctx, route)
}

// act runs an action that navigates inside the app, then waits for the page.
func act(t *testing.T, ctx context.Context, what string, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	mustRun(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('main')?.removeAttribute('data-ready')`))
	mustRun(t, ctx, a)
	waitReady(t, ctx, what)
}

func waitReady(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	waitFor(t, ctx, what+" to load", `document.querySelector('main[data-ready]') !== null`)
}

func mustRun(t *testing.T, ctx context.Context, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := chromedp.Run(ctx, a); err != nil {
		t.Fatal(err)
	}
}
