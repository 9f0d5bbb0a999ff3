package app

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// `skywatch run` serves the dashboard on the API's listener: / redirects to
// /ui/, the page loads without a token, and the API behind it still wants one.
func TestServeMountsDashboard(t *testing.T) {
	tmp := t.TempDir()
	cfgPath := filepath.Join(tmp, "c.yaml")
	body := "data_dir: " + tmp + "/var\napi:\n  listen: 127.0.0.1:0\noutputs:\n  - type: file\n    path: " + tmp + "/alerts.json\n" +
		"sources:\n  - name: a\n    type: local\n    path: " + tmp + "/logs\n    log_type: cloudtrail\n"
	if err := os.MkdirAll(filepath.Join(tmp, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func() (*config.Config, error) {
		c, err := config.Load(cfgPath)
		if err == nil {
			err = c.Validate()
		}
		return c, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ServeOptions{Load: load, Listening: func(a string) { addr <- a }}) }()
	base := "http://" + <-addr
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Serve did not stop")
		}
	}()

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /: %d to %q, want 302 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, page := get(t, base+"/ui/")
	if code != 200 || !strings.Contains(page, `src="/ui/js/app.js"`) {
		t.Errorf("GET /ui/: %d %.200s", code, page)
	}
	if code, js := get(t, base+"/ui/js/app.js"); code != 200 || !strings.Contains(js, "hashchange") {
		t.Errorf("GET /ui/js/app.js: %d", code)
	}
	if code, _ := get(t, base+"/api/v1/alerts"); code != http.StatusUnauthorized {
		t.Errorf("the API without a token: %d, want 401", code)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("healthz: %d", code)
	}
}
