package api_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/api"
)

// call is one request to a route with a valid path and body.
type call struct {
	method, path, body string
	role               api.Role
}

// calls returns one well-formed request for every route the server registers.
func calls(t *testing.T, srv *api.Server) []call {
	t.Helper()
	var out []call
	for _, rt := range srv.Routes() {
		c := call{method: rt.Method, role: rt.Role, path: rt.Path}
		switch {
		case strings.HasSuffix(rt.Path, "/alerts/{id}"):
			c.path = strings.Replace(rt.Path, "{id}", "0123456789abcdef0123456789abcdef", 1)
		case strings.HasSuffix(rt.Path, "/rules/{id}"):
			c.path = strings.Replace(rt.Path, "{id}", "300001", 1)
		case strings.Contains(rt.Path, "{"):
			t.Fatalf("route %s %s: the test does not know how to fill its path", rt.Method, rt.Path)
		}
		if rt.Method == "POST" {
			c.body = `{"event":"hello"}`
		}
		out = append(out, c)
	}
	if len(out) < 7 {
		t.Fatalf("only %d routes", len(out))
	}
	return out
}

func (e *env) call(c call, auth string) response {
	e.t.Helper()
	var ct string
	var body *strings.Reader
	if c.body != "" {
		ct, body = "application/json", strings.NewReader(c.body)
	} else {
		body = strings.NewReader("")
	}
	return e.do(c.method, c.path, auth, ct, body)
}

func fullOptions(opt *api.Options) {
	opt.Rules = testRules
	opt.Sources = fakeSources{{Name: "trail", Type: "aws-s3"}}
	opt.Logtester = &fakeLogtester{}
}

func TestAuthorization(t *testing.T) {
	e := start(t, func(_ *api.Config, opt *api.Options) { fullOptions(opt) })
	admin := e.token(api.RoleAdmin)
	read := e.token(api.RoleRead)
	revoked := e.token(api.RoleAdmin)
	list, err := api.ListTokens(e.tokens)
	if err != nil || len(list) != 3 {
		t.Fatalf("ListTokens = %v, %v", list, err)
	}
	if err := api.RevokeToken(e.tokens, list[2].ID); err != nil {
		t.Fatal(err)
	}
	unknown := api.TokenPrefix + strings.Repeat("A", 43)

	refused := map[string]string{
		"no header":          "",
		"empty bearer":       "Bearer",
		"bearer and spaces":  "Bearer    ",
		"basic":              "Basic YWRtaW46YWRtaW4=",
		"token scheme":       "Token " + admin,
		"no scheme":          admin,
		"two words":          "Bearer " + admin + " extra",
		"truncated token":    "Bearer " + admin[:len(admin)-1],
		"token with a tail":  "Bearer " + admin + "x",
		"unknown token":      "Bearer " + unknown,
		"no prefix":          "Bearer " + strings.TrimPrefix(admin, api.TokenPrefix),
		"revoked token":      "Bearer " + revoked,
		"hash as the token":  "Bearer " + strings.Repeat("0", 64),
		"token in the realm": `Bearer realm="` + admin + `"`,
	}
	for _, c := range calls(t, e.srv) {
		for name, auth := range refused {
			r := e.call(c, auth)
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: status %d, want 401: %s", c.method, c.path, name, r.status, r.body)
				continue
			}
			r.errorText(t)
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with %s: WWW-Authenticate = %q", c.method, c.path, name, r.header.Get("WWW-Authenticate"))
			}
		}
		r := e.call(c, "Bearer "+admin)
		if r.status != http.StatusOK && r.status != http.StatusNotFound && r.status != http.StatusServiceUnavailable {
			t.Errorf("%s %s with an admin token: status %d: %s", c.method, c.path, r.status, r.body)
		}
		// The scheme is case-insensitive (RFC 9110).
		if r := e.call(c, "bearer "+admin); r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
			t.Errorf("%s %s with 'bearer': status %d", c.method, c.path, r.status)
		}
		r = e.call(c, "Bearer "+read)
		switch {
		case c.role == api.RoleAdmin && r.status != http.StatusForbidden:
			t.Errorf("%s %s (admin route) with a read token: status %d, want 403", c.method, c.path, r.status)
		case c.role == api.RoleAdmin:
			if msg := r.errorText(t); !strings.Contains(msg, "admin") {
				t.Errorf("403 message %q does not name the role", msg)
			}
		case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
			t.Errorf("%s %s (read route) with a read token: status %d", c.method, c.path, r.status)
		}
	}
	// Two Authorization headers are ambiguous: refused.
	req, _ := http.NewRequest("GET", e.base+"/api/v1/rules", nil)
	req.Header.Add("Authorization", "Bearer "+unknown)
	req.Header.Add("Authorization", "Bearer "+admin)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("two Authorization headers: status %d", resp.StatusCode)
	}

	// Unknown routes and methods say nothing to callers without a token.
	for _, p := range []string{"/api/v1/nothing", "/api/v2/alerts", "/api/"} {
		if r := e.get(p, unknown); r.status != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d", p, r.status)
		}
		if r := e.get(p, read); r.status != http.StatusNotFound || r.errorText(t) != "no such route" {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
	if r := e.postJSON("/api/v1/alerts", read, "{}"); r.status != http.StatusMethodNotAllowed || !strings.Contains(r.header.Get("Allow"), "GET") {
		t.Errorf("POST /api/v1/alerts: %d, Allow %q", r.status, r.header.Get("Allow"))
	}
	if r := e.get("/api/v1/logtest", admin); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET /api/v1/logtest: %d, Allow %q", r.status, r.header.Get("Allow"))
	}

	// No token ever reaches the log, not even one sent in a URL.
	e.get("/api/v1/alerts/"+admin, admin)
	e.get("/api/v1/rules?q="+read, read)
	logs := e.logs.String()
	if !strings.Contains(logs, "api request") || !strings.Contains(logs, list[0].ID) {
		t.Fatalf("the request log is missing or does not name token ids:\n%s", logs)
	}
	for _, tok := range []string{admin, read, revoked, unknown, admin[len(api.TokenPrefix):], read[len(api.TokenPrefix):]} {
		if strings.Contains(logs, tok) {
			t.Errorf("the log holds a token %s...:\n%s", tok[:8], logs)
		}
	}
}

func TestNoTokensRefusesEverything(t *testing.T) {
	e := start(t, func(_ *api.Config, opt *api.Options) { fullOptions(opt) })
	if !strings.Contains(e.logs.String(), "skywatch token create") {
		t.Errorf("the start log does not say how to create a token:\n%s", e.logs.String())
	}
	for _, c := range calls(t, e.srv) {
		for _, auth := range []string{"", "Bearer " + api.TokenPrefix + strings.Repeat("x", 43), "Bearer admin", "Basic YWRtaW46"} {
			if r := e.call(c, auth); r.status != http.StatusUnauthorized {
				t.Errorf("%s %s (%q) with no tokens: %d", c.method, c.path, auth, r.status)
			}
		}
	}
}

// The server picks up tokens created and revoked while it runs, and a broken
// file fails closed.
func TestTokensFileChanges(t *testing.T) {
	e := start(t, func(_ *api.Config, opt *api.Options) { fullOptions(opt) })
	old := e.token(api.RoleRead)
	if r := e.get("/api/v1/rules", old); r.status != http.StatusOK {
		t.Fatalf("a token created after the start: %d %s", r.status, r.body)
	}
	newer := e.token(api.RoleAdmin)
	list, _ := api.ListTokens(e.tokens)
	if err := api.RevokeToken(e.tokens, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if r := e.get("/api/v1/rules", old); r.status != http.StatusUnauthorized {
		t.Errorf("revoked while running: %d", r.status)
	}
	if r := e.get("/api/v1/rules", newer); r.status != http.StatusOK {
		t.Errorf("the other token after a revoke: %d", r.status)
	}

	good, err := os.ReadFile(e.tokens)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.tokens+".new", good[:len(good)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(e.tokens+".new", e.tokens); err != nil {
		t.Fatal(err)
	}
	if r := e.get("/api/v1/rules", newer); r.status != http.StatusUnauthorized {
		t.Errorf("with a broken tokens file: %d", r.status)
	}
	if !strings.Contains(e.logs.String(), "cannot load tokens") {
		t.Errorf("the broken file is not logged:\n%s", e.logs.String())
	}
	if err := e.srv.Reload(); err == nil {
		t.Error("Reload of a broken file: no error")
	}
	if err := os.WriteFile(e.tokens+".new", good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(e.tokens+".new", e.tokens); err != nil {
		t.Fatal(err)
	}
	if r := e.get("/api/v1/rules", newer); r.status != http.StatusOK {
		t.Errorf("after the file is fixed: %d", r.status)
	}

	// Whoever may write the file may add tokens: a group-writable file is refused.
	if err := os.Chmod(e.tokens, 0o620); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Reload(); err == nil || !strings.Contains(err.Error(), "writable") {
		t.Errorf("Reload of a group-writable file: %v", err)
	}
	if r := e.get("/api/v1/rules", newer); r.status != http.StatusUnauthorized {
		t.Errorf("with a group-writable tokens file: %d", r.status)
	}
	if err := os.Chmod(e.tokens, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if r := e.get("/api/v1/rules", newer); r.status != http.StatusOK {
		t.Errorf("after chmod 600 and Reload: %d", r.status)
	}
}
