package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

func writeTrail(t *testing.T, dir, name string, events ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var recs []string
	for i, e := range events {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":%q,"requestParameters":{"name":"t"},"userIdentity":{"arn":"arn:aws:iam::1:user/x"},"requestID":"%s-%d","sourceIPAddress":"10.0.0.1","readOnly":false}`, e, name, i))
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"Records":[`+strings.Join(recs, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The service processes, serves metrics and health, refuses a broken reload while
// it keeps running, applies a good one, and stops cleanly.
func TestServeReloadMetricsAndStop(t *testing.T) {
	tmp := t.TempDir()
	logsA, logsB := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	writeTrail(t, logsA, "one.json", "StopLogging", "DeleteTrail")
	writeTrail(t, logsB, "two.json", "StopLogging")
	alerts := filepath.Join(tmp, "alerts.json")
	cfgPath := filepath.Join(tmp, "c.yaml")
	base := "data_dir: " + tmp + "/var\napi:\n  listen: 127.0.0.1:0\nservice:\n  shutdown_timeout: 10s\noutputs:\n  - type: file\n    path: " + alerts + "\nsources:\n  - name: a\n    type: local\n    path: " + logsA + "\n    log_type: cloudtrail\n"
	if err := os.WriteFile(cfgPath, []byte(base), 0o644); err != nil {
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
	reload := make(chan struct{})
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeOptions{Load: load, Reload: reload, Listening: func(a string) { addr <- a }})
	}()
	base_ := "http://" + <-addr
	count := func() int {
		b, _ := os.ReadFile(alerts)
		return strings.Count(string(b), "\n")
	}
	waitFor(t, "the first source's 2 alerts", func() bool { return count() == 2 })
	if code, _ := get(t, base_+"/readyz"); code != 200 {
		t.Fatalf("readyz %d while running", code)
	}
	if code, body := get(t, base_+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz %d %q", code, body)
	}
	_, m := get(t, base_+"/metrics")
	for _, want := range []string{`skywatch_events_total 2`, `skywatch_source_events_total{source="a"} 2`, `skywatch_alerts_total{level="12"} 2`,
		`skywatch_output_alerts_written_total{output="file"} 2`, `skywatch_rule_matches_total{rule_id="300001"} 2`, `skywatch_ready 1`, `skywatch_source_lag_seconds{source="a"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// A broken configuration is refused; the old one keeps running.
	if err := os.WriteFile(cfgPath, []byte(base+"bogus_key: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	waitFor(t, "the refused reload to be counted", func() bool {
		_, m := get(t, base_+"/metrics")
		return strings.Contains(m, "skywatch_reload_failures_total 1")
	})
	if code, _ := get(t, base_+"/readyz"); code != 200 {
		t.Fatalf("not ready after a refused reload")
	}

	// A good one adds a source; the first source's files are not read again.
	good := base + "  - name: b\n    type: local\n    path: " + logsB + "\n    log_type: cloudtrail\n"
	if err := os.WriteFile(cfgPath, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	waitFor(t, "the new source's alert", func() bool { return count() == 3 })
	_, m = get(t, base_+"/metrics")
	if !strings.Contains(m, "skywatch_reloads_total 1") || !strings.Contains(m, `skywatch_source_events_total{source="b"} 1`) {
		t.Errorf("metrics after reload:\n%s", grepLines(m, "skywatch_reload", "source_events"))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if count() != 3 {
		t.Fatalf("%d alerts after stop, want 3 (nothing read twice)", count())
	}
}

func grepLines(s string, subs ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(l, sub) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}
