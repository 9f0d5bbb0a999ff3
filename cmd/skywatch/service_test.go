package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a process's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tokenCreate(t *testing.T, cfgPath, role string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run([]string{"token", "create", "--config", cfgPath, "--role", role, "--name", "test-" + role}, nil, &out, &errb); code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errb.String())
	}
	tok := strings.TrimSpace(out.String())
	if !strings.HasPrefix(tok, "swk_") || strings.Contains(tok, "\n") {
		t.Fatalf("token create printed %q; want only the token", out.String())
	}
	return tok
}

func request(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The service as users run it: a real process reading a local S3 bucket with
// static credentials, serving the API. Every API route refuses a missing, wrong or
// revoked token and a read token on admin routes; SIGHUP reloads; SIGTERM stops
// cleanly; and neither the tokens nor the cloud secret ever reach the logs.
func TestServiceAPISecurityAndSignals(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "")
	srv, _ := startBucket(t, "trail", 3, 20)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "skywatch.yaml")
	const secret = "test-secret" // the bucket's secret access key
	cfg := fmt.Sprintf(`data_dir: %s/var
api:
  listen: 127.0.0.1:0
outputs:
  - type: file
    path: %s/alerts.json
sources:
  - name: trail
    type: aws-s3
    bucket: trail
    log_type: cloudtrail
    only_logs_after: 2024-05-01
    region: us-east-1
    access_key_id: AKIDTEST
    secret_access_key: %s
    endpoint: %s
    path_style: true
`, dir, dir, secret, srv.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := tokenCreate(t, cfgPath, "admin")
	read := tokenCreate(t, cfgPath, "read")
	revoked := tokenCreate(t, cfgPath, "read")
	var list bytes.Buffer
	run([]string{"token", "list", "--config", cfgPath}, nil, &list, io.Discard)
	for _, tok := range []string{admin, read, revoked} {
		if strings.Contains(list.String(), tok) {
			t.Fatal("token list shows a token")
		}
	}
	revokedID := ""
	for _, l := range strings.Split(list.String(), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[1] == "read" {
			revokedID = f[0] // the second read token is listed last
		}
	}
	if code := run([]string{"token", "revoke", "--config", cfgPath, revokedID}, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("token revoke %s: exit %d", revokedID, code)
	}

	logs := &lockedBuffer{}
	proc := skywatchProcess(t, "run", "--config", cfgPath, "--log-format", "json")
	proc.Stderr = logs
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	defer proc.Process.Kill()
	addrRE := regexp.MustCompile(`"addr":"(https?://127\.0\.0\.1:\d+)/api/v1/"`)
	var base string
	deadline := time.Now().Add(30 * time.Second)
	for base == "" {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the API did not start:\n%s", logs.String())
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for time.Now().Before(deadline) && countLines(filepath.Join(dir, "alerts.json")) < 60 {
		time.Sleep(20 * time.Millisecond)
	}

	routes := []struct{ method, path, body string }{
		{"GET", "/api/v1/alerts", ""},
		{"GET", "/api/v1/alerts/0123456789abcdef0123456789abcdef", ""},
		{"GET", "/api/v1/alerts/stats", ""},
		{"GET", "/api/v1/rules", ""},
		{"GET", "/api/v1/rules/300001", ""},
		{"GET", "/api/v1/sources", ""},
		{"POST", "/api/v1/logtest", `{"event":"{}","location":"Wazuh-AWS"}`},
	}
	for _, r := range routes {
		for name, tok := range map[string]string{"no token": "", "wrong token": "swk_" + strings.Repeat("A", 43), "revoked token": revoked, "not a bearer": "x"} {
			if code, _ := request(t, r.method, base+r.path, tok, r.body); code != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: %d, want 401", r.method, r.path, name, code)
			}
		}
	}
	if code, _ := request(t, "POST", base+"/api/v1/logtest", read, `{"event":"{}"}`); code != http.StatusForbidden {
		t.Errorf("read token on logtest: %d, want 403", code)
	}
	if code, body := request(t, "GET", base+"/api/v1/rules/300001", read, ""); code != 200 || !strings.Contains(body, "CloudTrail") {
		t.Errorf("read token on a rule: %d %s", code, body)
	}
	code, body := request(t, "GET", base+"/api/v1/sources", read, "")
	if code != 200 || !strings.Contains(body, `"name":"trail"`) || !strings.Contains(body, `"events":60`) {
		t.Errorf("sources: %d %s", code, body)
	}
	stop := `{"integration":"aws","aws":{"source":"cloudtrail","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","requestParameters":{"name":"t"},"userIdentity":{"arn":"arn:aws:iam::1:user/x"}}}`
	lt, _ := json.Marshal(map[string]string{"event": stop, "location": "Wazuh-AWS"})
	if code, body := request(t, "POST", base+"/api/v1/logtest", admin, string(lt)); code != 200 || !strings.Contains(body, `"id":"300001"`) {
		t.Errorf("admin logtest: %d %s", code, body)
	}
	if code, body := request(t, "GET", base+"/metrics", "", ""); code != 200 || !strings.Contains(body, `skywatch_source_events_total{source="trail"} 60`) {
		t.Errorf("metrics: %d\n%s", code, grep(body, "source_events"))
	}

	// SIGHUP: configuration and rules reloaded, the API keeps answering.
	proc.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "configuration reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := request(t, "GET", base+"/api/v1/rules", read, ""); code != 200 {
		t.Errorf("rules after reload: %d", code)
	}
	if countLines(filepath.Join(dir, "alerts.json")) != 60 {
		t.Errorf("reload read the bucket again: %d alerts", countLines(filepath.Join(dir, "alerts.json")))
	}

	// SIGTERM: a clean, prompt exit.
	proc.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("no exit 40s after SIGTERM")
	}
	out := logs.String()
	for name, s := range map[string]string{"admin token": admin, "read token": read, "revoked token": revoked, "secret access key": secret} {
		if strings.Contains(out, s) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Errorf("log line is not JSON: %s", sc.Text())
		}
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
