package api_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/api"
)

func TestRulesRoutes(t *testing.T) {
	e := start(t, func(_ *api.Config, opt *api.Options) { fullOptions(opt) })
	read := e.token(api.RoleRead)
	type page struct {
		Rules         []api.RuleInfo `json:"rules"`
		Total, Offset int
		Limit         int
	}
	ids := func(p page) string {
		var s []string
		for _, r := range p.Rules {
			s = append(s, strconv.Itoa(r.ID))
		}
		return strings.Join(s, ",")
	}
	for query, want := range map[string]string{
		"":                                   "80202,300001,300100,500010",
		"?level=12":                          "300001",
		"?level=5-12":                        "300001,300100,500010",
		"?group=azure&group=defense_evasion": "300001,300100,500010",
		"?q=TRAIL":                           "80202,300001,300100",
		"?q=T1562":                           "300001,300100",
		"?q=evasion_rules":                   "300001,300100",
		"?technique=T1562.008&level=8":       "300100",
		"?limit=2":                           "80202,300001",
		"?limit=2&offset=2":                  "300100,500010",
		"?offset=10":                         "",
	} {
		var p page
		e.get("/api/v1/rules"+query, read).decode(t, &p)
		if got := ids(p); got != want {
			t.Errorf("rules%s = %s, want %s", query, got, want)
		}
		if p.Rules == nil {
			t.Errorf("rules%s: rules is null, want []", query)
		}
	}
	var p page
	e.get("/api/v1/rules?limit=1&offset=1", read).decode(t, &p)
	if p.Total != 4 || p.Limit != 1 || p.Offset != 1 {
		t.Errorf("page fields: %+v", p)
	}

	var one map[string]any
	e.get("/api/v1/rules/80202", read).decode(t, &one)
	if one["id"] != float64(80202) || one["file"] != "0350-amazon_rules.xml" {
		t.Errorf("rule 80202: %v", one)
	}
	if m, ok := one["mitre"].([]any); !ok || len(m) != 0 {
		t.Errorf("a rule without ATT&CK ids: mitre = %#v, want []", one["mitre"])
	}
	if r := e.get("/api/v1/rules/1", read); r.status != http.StatusNotFound || r.errorText(t) != "rule not found" {
		t.Errorf("missing rule: %d %s", r.status, r.body)
	}
	if r := e.get("/api/v1/rules/abc", read); r.status != http.StatusBadRequest || !strings.Contains(r.errorText(t), "id") {
		t.Errorf("rule abc: %d %s", r.status, r.body)
	}
}

func TestSourcesRoute(t *testing.T) {
	start1 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	e := start(t, func(_ *api.Config, opt *api.Options) {
		opt.Sources = fakeSources{
			{Name: "trail", Type: "aws-s3", LastRunStart: start1, LastRunEnd: start1.Add(time.Minute), LagSeconds: 42.5, Objects: 3, Events: 120},
			{Name: "queue", Type: "aws-sqs", LastError: "access denied", Errors: 2},
			{Name: "backfill", Type: "gcs", LastRunStart: start1, Progress: &api.SourceProgress{Done: 3, Total: 30, Unit: "days", ETASeconds: 5400}},
		}
	})
	read := e.token(api.RoleRead)
	var out struct {
		Sources []map[string]any `json:"sources"`
	}
	e.get("/api/v1/sources", read).decode(t, &out)
	if len(out.Sources) != 3 {
		t.Fatalf("sources: %v", out)
	}
	s0, s1 := out.Sources[0], out.Sources[1]
	if _, ok := s0["progress"]; ok {
		t.Errorf("progress of a source without one: %v", s0)
	}
	if p := out.Sources[2]["progress"]; !reflect.DeepEqual(p, map[string]any{"done": float64(3), "total": float64(30), "unit": "days", "eta_seconds": float64(5400)}) {
		t.Errorf("progress: %v", p)
	}
	if s0["name"] != "trail" || s0["last_run_start"] != "2024-05-01T10:00:00Z" || s0["lag_seconds"] != 42.5 || s0["events"] != float64(120) {
		t.Errorf("first source: %v", s0)
	}
	if _, ok := s1["last_run_start"]; ok || s1["last_error"] != "access denied" || s1["errors"] != float64(2) {
		t.Errorf("second source (never ran): %v", s1)
	}
	if r := e.get("/api/v1/sources?x=1", read); r.status != http.StatusBadRequest {
		t.Errorf("sources with a parameter: %d", r.status)
	}
	// Collaborators not configured: 503, not a crash.
	for _, p := range []string{"/api/v1/rules", "/api/v1/alerts", "/api/v1/alerts/stats", "/api/v1/alerts/abc"} {
		if r := e.get(p, read); r.status != http.StatusServiceUnavailable || !strings.Contains(r.errorText(t), "not available") {
			t.Errorf("%s without its collaborator: %d %s", p, r.status, r.body)
		}
	}
}

// Bad query parameters are 400s that name the parameter.
func TestBadParameters(t *testing.T) {
	e := start(t, func(_ *api.Config, opt *api.Options) { fullOptions(opt) })
	read := e.token(api.RoleRead)
	cases := []struct{ path, param string }{
		{"/api/v1/alerts?from=yesterday", "from"},
		{"/api/v1/alerts?to=2024-13-01", "to"},
		{"/api/v1/alerts?from=2024-05-02&to=2024-05-01", "to"},
		{"/api/v1/alerts?from=2024-05-01T00:00:00Z&to=2024-05-01T00:00:00Z", "to"},
		{"/api/v1/alerts?level=17", "level"},
		{"/api/v1/alerts?level=-1", "level"},
		{"/api/v1/alerts?level=high", "level"},
		{"/api/v1/alerts?level=3&level=4", "level"},
		{"/api/v1/alerts?rule_id=abc", "rule_id"},
		{"/api/v1/alerts?rule_id=", "rule_id"},
		{"/api/v1/alerts?provider=oracle", "provider"},
		{"/api/v1/alerts?technique=1562", "technique"},
		{"/api/v1/alerts?limit=0", "limit"},
		{"/api/v1/alerts?limit=1001", "limit"},
		{"/api/v1/alerts?limit=99999999999999999999", "limit"},
		{"/api/v1/alerts?interval=1h", "interval"},
		{"/api/v1/alerts?rule_ids=1", "rule_ids"},
		{"/api/v1/alerts?q=" + url.QueryEscape("a\x00b"), "q"},
		{"/api/v1/alerts?principal=" + url.QueryEscape("\xff"), "principal"},
		{"/api/v1/alerts?q=" + strings.Repeat("a", 1025), "q"},
		{"/api/v1/alerts?group=" + strings.Repeat("&group=a", 101), "group"},
		{"/api/v1/alerts/stats?interval=10ms", "interval"},
		{"/api/v1/alerts/stats?interval=soon", "interval"},
		{"/api/v1/alerts/stats?from=2024-01-01&to=2024-12-31&interval=1s", "interval"},
		{"/api/v1/alerts/stats?top=0", "top"},
		{"/api/v1/alerts/stats?top=101", "top"},
		{"/api/v1/alerts/stats?limit=10", "limit"},
		{"/api/v1/alerts/stats?cursor=abc", "cursor"},
		{"/api/v1/alerts/abc?level=3", "level"},
		{"/api/v1/alerts/" + url.PathEscape("a b"), "id"},
		{"/api/v1/rules?level=3-1", "level"},
		{"/api/v1/rules?level=17", "level"},
		{"/api/v1/rules?level=x", "level"},
		{"/api/v1/rules?offset=-1", "offset"},
		{"/api/v1/rules?limit=5000", "limit"},
		{"/api/v1/rules?technique=T1", "technique"},
		{"/api/v1/rules/300001?x=1", "x"},
		{"/api/v1/alerts/stats?facet=colour", "facet"},
		{"/api/v1/alerts/stats?facet=service&facet=tactics", "facet"},
		{"/api/v1/alerts/stats?facet=", "facet"},
		{"/api/v1/alerts?facet=service", "facet"},
		{"/api/v1/alerts?service=", "service"},
		{"/api/v1/alerts?action=a&action=b", "action"},
		{"/api/v1/alerts?resource=" + strings.Repeat("r", 1025), "resource"},
		{"/api/v1/alerts/stats?cluster=" + url.QueryEscape("a\nb"), "cluster"},
		{"/api/v1/mitre?version=13.1", "version"},
		{"/api/v1/whoami?x=1", "x"},
	}
	for _, c := range cases {
		r := e.get(c.path, read)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", c.path, r.status, r.body)
			continue
		}
		if msg := r.errorText(t); !strings.HasPrefix(msg, "parameter "+c.param+":") {
			t.Errorf("%s: error %q does not name %s", c.path, msg, c.param)
		}
	}
	// A query string that does not decode.
	if r := e.get("/api/v1/alerts?q=%zz", read); r.status != http.StatusBadRequest || !strings.Contains(r.errorText(t), "query string") {
		t.Errorf("undecodable query: %d %s", r.status, r.body)
	}
}

func TestMitreRoute(t *testing.T) {
	e := start(t, nil)
	var m struct {
		Version string `json:"version"`
		Tactics []struct {
			ID, Name   string
			Techniques []map[string]string
		} `json:"tactics"`
	}
	r := e.get("/api/v1/mitre", e.token(api.RoleRead))
	r.decode(t, &m)
	if m.Version != "13.1" || len(m.Tactics) != 14 || m.Tactics[0].ID != "TA0043" || m.Tactics[2].Name != "Initial Access" {
		t.Fatalf("matrix: version %q, %d tactics, first %+v", m.Version, len(m.Tactics), m.Tactics[0].ID)
	}
	var cloud map[string]string
	for _, tech := range m.Tactics[2].Techniques {
		if tech["id"] == "T1078.004" {
			cloud = tech
		}
		if tech["id"] == "T1078" && len(tech) != 2 {
			t.Errorf("a technique has members %v, want id and name only", tech)
		}
	}
	if cloud["name"] != "Cloud Accounts" || cloud["parent"] != "T1078" {
		t.Errorf("T1078.004 under Initial Access: %v", cloud)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", r.header)
	}
}

func TestWhoAmI(t *testing.T) {
	e := start(t, nil)
	for _, role := range []api.Role{api.RoleRead, api.RoleAdmin} {
		var who map[string]string
		e.get("/api/v1/whoami", e.token(role)).decode(t, &who)
		if len(who) != 2 || who["role"] != string(role) || who["name"] != "test "+string(role) {
			t.Errorf("%s token: %v", role, who)
		}
	}
	// A token made without a name still answers both members.
	tok, _, err := api.CreateToken(e.tokens, api.RoleRead, "")
	if err != nil {
		t.Fatal(err)
	}
	r := e.get("/api/v1/whoami", tok)
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"name":"","role":"read"}` {
		t.Errorf("unnamed token: %d %s", r.status, r.body)
	}
}
