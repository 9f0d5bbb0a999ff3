package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/api"
)

// syncBuffer collects the server's log; the server writes from its goroutines
// while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one API server on 127.0.0.1 with its data directory and log.
type env struct {
	t       *testing.T
	srv     *api.Server
	base    string // http://127.0.0.1:port
	dataDir string
	tokens  string // the tokens file
	logs    *syncBuffer
	client  *http.Client
}

func testConfig() api.Config {
	cfg := api.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	return cfg
}

// start runs a server until the test ends; setup may change the configuration
// and options first (dataDir is already set).
func start(t *testing.T, setup func(*api.Config, *api.Options)) *env {
	t.Helper()
	e := &env{t: t, dataDir: t.TempDir(), logs: &syncBuffer{}}
	cfg := testConfig()
	opt := api.Options{
		DataDir: e.dataDir,
		Logger:  slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if setup != nil {
		setup(&cfg, &opt)
	}
	e.tokens = cfg.TokensPath(e.dataDir)
	srv, err := api.New(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.base = "http://" + srv.Addr().String()
	if cfg.TLS() {
		e.base = "https://" + srv.Addr().String()
	}
	e.client = &http.Client{Timeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return e
}

// token creates a token of the given role in the server's tokens file.
func (e *env) token(role api.Role) string {
	e.t.Helper()
	tok, _, err := api.CreateToken(e.tokens, role, "test "+string(role))
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorText is the "error" of a JSON error body, failing the test when the body
// is not one.
func (r response) errorText(t *testing.T) string {
	t.Helper()
	var b struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error == nil {
		t.Fatalf("status %d: body is not a JSON error: %q", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q", ct)
	}
	return *b.Error
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request; auth is the whole Authorization header ("" for none).
func (e *env) do(method, path, auth, contentType string, body io.Reader) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (e *env) get(path, token string) response {
	e.t.Helper()
	return e.do("GET", path, "Bearer "+token, "", nil)
}

func (e *env) postJSON(path, token, body string) response {
	e.t.Helper()
	return e.do("POST", path, "Bearer "+token, "application/json", strings.NewReader(body))
}

// fakeLogtester answers each event with a fixed object naming it.
type fakeLogtester struct {
	mu    sync.Mutex
	calls int
	fn    func(ctx context.Context, location string, events []string) ([]json.RawMessage, error)
}

func (f *fakeLogtester) Logtest(ctx context.Context, location string, events []string) ([]json.RawMessage, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if f.fn != nil {
		return f.fn(ctx, location, events)
	}
	out := make([]json.RawMessage, len(events))
	for i, ev := range events {
		b, _ := json.Marshal(map[string]any{"output": map[string]string{"full_log": ev, "location": location}, "alert": false})
		out[i] = b
	}
	return out, nil
}

// fakeRules is a fixed rule catalog.
type fakeRules []api.RuleInfo

func (f fakeRules) Rules() []api.RuleInfo { return f }

// fakeSources is a fixed source list.
type fakeSources []api.SourceInfo

func (f fakeSources) Sources() []api.SourceInfo { return f }

var testRules = fakeRules{
	{ID: 300001, Level: 12, Description: "AWS CloudTrail logging disabled", Groups: []string{"aws", "defense_evasion"}, Mitre: []string{"T1562.008"}, File: "0101-skywatch-aws-evasion_rules.xml"},
	{ID: 80202, Level: 3, Description: "AWS CloudTrail event", Groups: []string{"aws", "aws_cloudtrail"}, File: "0350-amazon_rules.xml"},
	{ID: 300100, Level: 8, Description: "AWS CloudTrail trail narrowed", Groups: []string{"aws", "defense_evasion"}, Mitre: []string{"T1562.008"}, File: "0101-skywatch-aws-evasion_rules.xml"},
	{ID: 500010, Level: 5, Description: "Azure sign-in failure", Groups: []string{"azure"}, File: "0200-azure.xml"},
}

// quiet drops the log of servers whose log a test does not read.
var quiet = slog.New(slog.DiscardHandler)

func tokensPathIn(dir string) string { return filepath.Join(dir, api.DefaultTokensFile) }
