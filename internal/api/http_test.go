package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/api"
	"github.com/skywatch-dev/skywatch/internal/config"
)

func TestBodyLimits(t *testing.T) {
	e := start(t, func(cfg *api.Config, opt *api.Options) {
		fullOptions(opt)
		cfg.MaxBody = 1 << 10
		cfg.LogtestMaxBody = 8 << 10
	})
	admin := e.token(api.RoleAdmin)
	big := `{"event":"` + strings.Repeat("a", 9<<10) + `"}`
	if r := e.postJSON("/api/v1/logtest", admin, big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("9 KiB logtest body: %d (%d bytes of answer)", r.status, len(r.body))
	}
	// Without a Content-Length the limit is met while reading.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(big))
		pw.Close()
	}()
	if r := e.do("POST", "/api/v1/logtest", "Bearer "+admin, "application/json", pr); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 9 KiB logtest body: %d (%d bytes of answer)", r.status, len(r.body))
	} else if !strings.Contains(r.errorText(t), "8192") {
		t.Errorf("413 message: %s", r.body)
	}
	// Within the logtest limit, above the general one: accepted.
	mid := `{"event":"` + strings.Repeat("a", 4<<10) + `"}`
	if r := e.postJSON("/api/v1/logtest", admin, mid); r.status != http.StatusOK {
		t.Errorf("4 KiB logtest body: %d %s", r.status, r.body)
	}
	// A GET with a body over max_body.
	if r := e.do("GET", "/api/v1/rules", "Bearer "+admin, "application/json", strings.NewReader(strings.Repeat("x", 2<<10))); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("GET with a 2 KiB body: %d", r.status)
	}
}

func TestLogtestRequests(t *testing.T) {
	lt := &fakeLogtester{}
	e := start(t, func(cfg *api.Config, opt *api.Options) {
		fullOptions(opt)
		opt.Logtester = lt
		cfg.LogtestMaxEvents = 3
	})
	admin := e.token(api.RoleAdmin)
	var out struct {
		Results []struct {
			Output struct {
				FullLog  string `json:"full_log"`
				Location string `json:"location"`
			} `json:"output"`
		} `json:"results"`
	}
	e.postJSON("/api/v1/logtest", admin, `{"events":["a","b"],"location":"Wazuh-AWS"}`).decode(t, &out)
	if len(out.Results) != 2 || out.Results[1].Output.FullLog != "b" || out.Results[0].Output.Location != "Wazuh-AWS" {
		t.Errorf("results: %+v", out)
	}
	e.postJSON("/api/v1/logtest", admin, `{"event":""}`).decode(t, &out)
	if len(out.Results) != 1 || out.Results[0].Output.Location != api.DefaultLogtestLocation {
		t.Errorf("one empty event: %+v", out)
	}
	bad := map[string]string{
		`{"event":"a","events":["b"]}`:   "not both",
		`{"events":[]}`:                  "events",
		`{}`:                             "events",
		`{"events":["1","2","3","4"]}`:   "at most 3",
		`{"event":"a","location":"x\n"}`: "location",
		`{"event":"a","extra":1}`:        "unknown field",
		`{"event":"a"} {"event":"b"}`:    "data after",
		`{"event":`:                      "invalid JSON",
		`["a"]`:                          "invalid JSON",
		``:                               "invalid JSON",
	}
	before := lt.calls
	for body, want := range bad {
		r := e.postJSON("/api/v1/logtest", admin, body)
		if r.status != http.StatusBadRequest || !strings.Contains(r.errorText(t), want) {
			t.Errorf("body %q: %d %s, want 400 with %q", body, r.status, r.body, want)
		}
	}
	if r := e.do("POST", "/api/v1/logtest", "Bearer "+admin, "text/plain", strings.NewReader(`{"event":"a"}`)); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d", r.status)
	}
	if r := e.postJSON("/api/v1/logtest?debug=1", admin, `{"event":"a"}`); r.status != http.StatusBadRequest || !strings.Contains(r.errorText(t), "debug") {
		t.Errorf("unknown query parameter: %d %s", r.status, r.body)
	}
	if lt.calls != before {
		t.Errorf("the engine ran %d times for refused requests", lt.calls-before)
	}

	// A failing engine: a bare 500, the detail only in the log.
	lt.fn = func(context.Context, string, []string) ([]json.RawMessage, error) {
		return nil, errors.New("matcher exploded at /secret/path")
	}
	r := e.postJSON("/api/v1/logtest", admin, `{"event":"a"}`)
	if r.status != http.StatusInternalServerError || r.errorText(t) != "internal error" {
		t.Errorf("engine error: %d %s", r.status, r.body)
	}
	if !strings.Contains(e.logs.String(), "matcher exploded") {
		t.Error("the engine error is not logged")
	}
	// The wrong number of results is an engine bug, not a success.
	lt.fn = func(context.Context, string, []string) ([]json.RawMessage, error) { return nil, nil }
	if r := e.postJSON("/api/v1/logtest", admin, `{"event":"a"}`); r.status != http.StatusInternalServerError {
		t.Errorf("no results for one event: %d", r.status)
	}
	// A panic: 500 as JSON, no stack trace in the answer, the server lives on.
	lt.fn = func(context.Context, string, []string) ([]json.RawMessage, error) { panic("boom in the matcher") }
	r = e.postJSON("/api/v1/logtest", admin, `{"event":"a"}`)
	if r.status != http.StatusInternalServerError || r.errorText(t) != "internal error" || strings.Contains(string(r.body), "goroutine") {
		t.Errorf("panic: %d %s", r.status, r.body)
	}
	if !strings.Contains(e.logs.String(), "boom in the matcher") {
		t.Error("the panic is not logged")
	}
	lt.fn = nil
	if r := e.postJSON("/api/v1/logtest", admin, `{"event":"a"}`); r.status != http.StatusOK {
		t.Errorf("after a panic: %d", r.status)
	}
}

// clock is a settable time source for the rate limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLogtestRateLimit(t *testing.T) {
	clk := &clock{t: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
	lt := &fakeLogtester{}
	e := start(t, func(cfg *api.Config, opt *api.Options) {
		fullOptions(opt)
		opt.Logtester = lt
		opt.Now = clk.Now
		cfg.LogtestRate = 2
		cfg.LogtestBurst = 5
		cfg.LogtestMaxEvents = 5
	})
	a, b := e.token(api.RoleAdmin), e.token(api.RoleAdmin)
	three := `{"events":["1","2","3"]}`
	if r := e.postJSON("/api/v1/logtest", a, three); r.status != http.StatusOK {
		t.Fatalf("first: %d", r.status)
	}
	r := e.postJSON("/api/v1/logtest", a, three)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Fatalf("over the burst: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	r.errorText(t)
	if lt.calls != 1 {
		t.Errorf("the engine ran %d times, want 1", lt.calls)
	}
	// The limit is per token.
	if r := e.postJSON("/api/v1/logtest", b, three); r.status != http.StatusOK {
		t.Errorf("another token: %d", r.status)
	}
	clk.add(500 * time.Millisecond) // 2 left + 1 refilled
	if r := e.postJSON("/api/v1/logtest", a, three); r.status != http.StatusOK {
		t.Errorf("after the refill: %d", r.status)
	}
	if r := e.postJSON("/api/v1/logtest", a, `{"event":"x"}`); r.status != http.StatusTooManyRequests {
		t.Errorf("empty bucket: %d", r.status)
	}
}

func TestRequestTimeout(t *testing.T) {
	lt := &fakeLogtester{fn: func(ctx context.Context, _ string, _ []string) ([]json.RawMessage, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	e := start(t, func(cfg *api.Config, opt *api.Options) {
		fullOptions(opt)
		opt.Logtester = lt
		cfg.RequestTimeout = config.Duration(50 * time.Millisecond)
	})
	admin := e.token(api.RoleAdmin)
	r := e.postJSON("/api/v1/logtest", admin, `{"event":"a"}`)
	if r.status != http.StatusServiceUnavailable || r.errorText(t) != "request timed out" {
		t.Errorf("a request past request_timeout: %d %s", r.status, r.body)
	}
}

func TestHeadersAndCORS(t *testing.T) {
	e := start(t, func(cfg *api.Config, opt *api.Options) {
		fullOptions(opt)
		cfg.CORSOrigins = []string{"https://soc.example.com"}
	})
	read := e.token(api.RoleRead)
	for _, r := range []response{e.get("/api/v1/rules", read), e.get("/api/v1/rules", "wrong"), e.get("/api/v1/none", read)} {
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Content-Type": "application/json",
			"X-Frame-Options": "DENY",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("status %d: %s = %q, want %q", r.status, k, got, want)
			}
		}
		if r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("CORS header without an Origin")
		}
	}
	send := func(method, origin, auth string) *http.Response {
		req, _ := http.NewRequest(method, e.base+"/api/v1/rules", nil)
		req.Header.Set("Origin", origin)
		if method == "OPTIONS" {
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "authorization")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := send("OPTIONS", "https://soc.example.com", ""); resp.StatusCode != http.StatusNoContent ||
		resp.Header.Get("Access-Control-Allow-Origin") != "https://soc.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from an allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := send("OPTIONS", "https://evil.example.com", ""); resp.StatusCode != http.StatusUnauthorized ||
		resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := send("GET", "https://soc.example.com", "Bearer "+read); resp.StatusCode != http.StatusOK ||
		resp.Header.Get("Access-Control-Allow-Origin") != "https://soc.example.com" {
		t.Errorf("GET from an allowed origin: %d %v", resp.StatusCode, resp.Header)
	}

	// CORS is off by default.
	e2 := start(t, func(_ *api.Config, opt *api.Options) { fullOptions(opt) })
	e = e2
	if resp := send("OPTIONS", "https://soc.example.com", ""); resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("preflight with CORS off: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestHandleMountsWithoutAuth(t *testing.T) {
	var srv *api.Server
	e := start(t, func(_ *api.Config, opt *api.Options) { fullOptions(opt) })
	srv = e.srv
	// Handle after Start but before any request: http.ServeMux allows it.
	srv.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	resp, err := e.client.Get(e.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	for _, p := range []string{"/api/v1/x", "GET /api/", "/", "/api", "example.com/api/v1/"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not refuse a pattern over the API", p)
				}
			}()
			srv.Handle(p, http.NotFoundHandler())
		}()
	}
}

// TLS with a certificate made here: HTTPS works, plain HTTP does not.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	e := start(t, func(cfg *api.Config, opt *api.Options) {
		fullOptions(opt)
		cfg.CertFile, cfg.KeyFile = config.Path(certFile), config.Path(keyFile)
	})
	e.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	read := e.token(api.RoleRead)
	r := e.get("/api/v1/sources", read)
	if r.status != http.StatusOK || !strings.Contains(r.header.Get("Strict-Transport-Security"), "max-age") {
		t.Errorf("over TLS: %d %v", r.status, r.header)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	resp, err := plain.Get(strings.Replace(e.base, "https://", "http://", 1) + "/api/v1/sources")
	if err == nil {
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port: %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	// TLS 1.1 is refused.
	conn, err := tls.Dial("tcp", e.srv.Addr().String(), &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Error("TLS 1.1 handshake succeeded")
	}

	cfg := testConfig()
	cfg.CertFile, cfg.KeyFile = config.Path(certFile), config.Path(filepath.Join(dir, "missing.pem"))
	if _, err := api.New(cfg, api.Options{DataDir: dir, Logger: quiet}); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("New with a missing key: %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "skywatch test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestRunStops(t *testing.T) {
	cfg := testConfig()
	srv, err := api.New(cfg, api.Options{DataDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	// Run binds before serving; wait for the address, then stop.
	for srv.Addr() == nil {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	if err := srv.Run(context.Background()); err == nil {
		t.Error("a second Run: no error")
	}

	// A port in use is reported by Start.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg.Listen = ln.Addr().String()
	srv2, err := api.New(cfg, api.Options{DataDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv2.Start(); err == nil {
		t.Error("Start on a port in use: no error")
	}
}
