package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRedirectsToUI(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/", "/ui"} {
		r := serve(t, h, "GET", p)
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/ui/" {
			t.Errorf("GET %s: %d Location %q, want 302 to /ui/", p, r.StatusCode, r.Header.Get("Location"))
		}
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/ui/", "/ui/app.css", "/ui/js/app.js", "/ui/nope.js", "/", "/ui/alerts/x"} {
		r := serve(t, h, "GET", p)
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows inline code", p, csp)
		}
		for k, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", p, k, got, want)
			}
		}
	}
}

func TestAssetsAndFallback(t *testing.T) {
	h := Handler()
	cases := []struct {
		path, ctype string
		status      int
		contains    string
	}{
		{"/ui/", "text/html; charset=utf-8", 200, `<script type="module" src="/ui/js/app.js">`},
		{"/ui/index.html", "text/html; charset=utf-8", 200, "<title>skywatch</title>"},
		{"/ui/js/app.js", "text/javascript; charset=utf-8", 200, "hashchange"},
		{"/ui/app.css", "text/css; charset=utf-8", 200, "--crit"},
		{"/ui/favicon.svg", "image/svg+xml", 200, "<svg"},
		{"/ui/alerts", "text/html; charset=utf-8", 200, "<title>skywatch</title>"}, // a client route
		{"/ui/js/missing.js", "", 404, ""},
		{"/elsewhere", "", 404, ""},
	}
	for _, c := range cases {
		r := serve(t, h, "GET", c.path)
		b := body(t, r)
		if r.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.path, r.StatusCode, c.status)
			continue
		}
		if c.ctype != "" && r.Header.Get("Content-Type") != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", c.path, r.Header.Get("Content-Type"), c.ctype)
		}
		if !strings.Contains(b, c.contains) {
			t.Errorf("%s: body lacks %q", c.path, c.contains)
		}
	}
}

// The browser revalidates every asset; an unchanged one costs a 304.
func TestETagRevalidation(t *testing.T) {
	h := Handler()
	r := serve(t, h, "GET", "/ui/js/app.js")
	etag := r.Header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(etag) || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, r.Header.Get("Cache-Control"))
	}
	if r2 := serve(t, h, "GET", "/ui/js/app.js", "If-None-Match", etag); r2.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: %d, want 304", r2.StatusCode)
	}
	if r3 := serve(t, h, "GET", "/ui/js/app.js", "If-None-Match", `"other"`); r3.StatusCode != http.StatusOK {
		t.Errorf("If-None-Match with another ETag: %d, want 200", r3.StatusCode)
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	h := Handler()
	if r := serve(t, h, "HEAD", "/ui/"); r.StatusCode != 200 {
		t.Errorf("HEAD: %d", r.StatusCode)
	}
	r := serve(t, h, "POST", "/ui/")
	if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", r.StatusCode, r.Header.Get("Allow"))
	}
}

// The assets must not reach for another origin or run inline code: the CSP
// would block it, and the dashboard has to work offline.
func TestAssetsAreSelfContained(t *testing.T) {
	h := Handler().(*handler)
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import\s+url\(\s*["']?https?:|fetch\(\s*["']https?:`)
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|\son[a-z]+\s*=\s*["']|style\s*=\s*["']|javascript:`)
	for name, a := range h.files {
		if external.Match(a.body) {
			t.Errorf("%s loads something from another origin: %q", name, external.Find(a.body))
		}
		if strings.HasSuffix(name, ".html") && inline.Match(a.body) {
			t.Errorf("%s has inline script or style: %q", name, inline.Find(a.body))
		}
		if strings.HasSuffix(name, ".js") && regexp.MustCompile(`\.innerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(`).Match(a.body) {
			t.Errorf("%s builds HTML from strings or evaluates code", name)
		}
	}
}
