package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/api"
	"github.com/skywatch-dev/skywatch/internal/store"
)

// testAlert is one alert to store, described by what the API filters on.
type testAlert struct {
	name      string // the test's name for it, kept in full_log
	ts        string
	level     int
	rule      string
	groups    []string
	technique string
	tactic    string
	location  string
	data      string
}

var testAlerts = []testAlert{
	{name: "a1", ts: "2024-05-01T10:00:00Z", level: 12, rule: "300001", groups: []string{"amazon", "aws", "defense_evasion"},
		technique: "T1562.008", tactic: "Defense Evasion", location: "Wazuh-AWS",
		data: `{"integration":"aws","aws":{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","recipientAccountId":"111122223333","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","userIdentity":{"arn":"arn:aws:iam::111122223333:user/alice"},"resources":[{"ARN":"arn:aws:cloudtrail:us-east-1:111122223333:trail/main"}]}}`},
	{name: "a2", ts: "2024-05-01T10:10:00Z", level: 5, rule: "80253", groups: []string{"amazon", "aws", "authentication_failed"},
		technique: "T1078", tactic: "Initial Access", location: "Wazuh-AWS",
		data: `{"integration":"aws","aws":{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","recipientAccountId":"444455556666","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","userIdentity":{"arn":"arn:aws:iam::444455556666:user/bob"}}}`},
	{name: "a3", ts: "2024-05-01T10:20:00Z", level: 12, rule: "300001", groups: []string{"amazon", "aws", "defense_evasion"},
		technique: "T1562.008", tactic: "Defense Evasion", location: "Wazuh-AWS",
		data: `{"integration":"aws","aws":{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","recipientAccountId":"444455556666","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","userIdentity":{"arn":"arn:aws:iam::111122223333:user/alice"}}}`},
	{name: "a4", ts: "2024-05-01T10:30:00Z", level: 8, rule: "400100", groups: []string{"gcp", "iam"},
		technique: "T1098", tactic: "Persistence", location: "gcp",
		data: `{"gcp":{"logName":"projects/prod-project/logs/cloudaudit.googleapis.com%2Factivity","resource":{"type":"k8s_cluster","labels":{"project_id":"prod-project","location":"europe-west1","cluster_name":"prod-gke"}},"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.rbac.v1.clusterrolebindings.create","resourceName":"rbac.authorization.k8s.io/v1/clusterrolebindings/admin","authenticationInfo":{"principalEmail":"eve@example.com"},"requestMetadata":{"callerIp":"192.0.2.9"}}}}`},
	{name: "a5", ts: "2024-04-30T23:00:00Z", level: 3, rule: "80202", groups: []string{"amazon", "aws", "aws_cloudtrail"},
		location: "Wazuh-AWS",
		data:     `{"integration":"aws","aws":{"eventSource":"cloudtrail.amazonaws.com","eventName":"DescribeTrails","recipientAccountId":"111122223333","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5","userIdentity":{"arn":"arn:aws:iam::111122223333:user/alice"}}}`},
	{name: "a6", ts: "2024-04-29T08:00:00Z", level: 5, rule: "87811", groups: []string{"azure"}, location: "Azure",
		data: `{"TenantId":"t1","Type":"AzureActivity","SubscriptionId":"sub-1","Caller":"carol@contoso.com","CallerIpAddress":"198.51.100.20","OperationNameValue":"MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE","ResourceGroup":"RG-Prod","_ResourceId":"/subscriptions/sub-1/resourcegroups/rg-prod/providers/microsoft.authorization/roleassignments/ra1","azure_tag":"azure-log-analytics","log_analytics_tag":"activity"}`},
}

// storeWith opens a real store in a temporary directory holding the test alerts,
// and returns it with the alerts' ids by name.
func storeWith(t *testing.T) (*store.Store, map[string]string) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "alerts.db"), store.Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ids := map[string]string{}
	var batch []store.Alert
	for i, ta := range testAlerts {
		ts, _ := time.Parse(time.RFC3339, ta.ts)
		a := alert.Alert{
			Timestamp: ts,
			Rule:      alert.Rule{Level: ta.level, ID: ta.rule, Description: "rule " + ta.rule + " fired", Groups: ta.groups},
			Agent:     alert.Agent{ID: "000", Name: "skywatch"}, Manager: "skywatch",
			ID:       alert.ID("test", "unit", int64(i), ta.rule),
			FullLog:  "event " + ta.name,
			Decoder:  alert.Decoder{Name: "json"},
			Data:     []byte(ta.data),
			Location: ta.location,
		}
		if ta.technique != "" {
			a.Rule.Mitre = &alert.Mitre{ID: []string{ta.technique}, Tactic: []string{ta.tactic}, Technique: []string{"technique " + ta.technique}}
		}
		js := a.AppendJSON(nil)
		sum, err := alert.Summarize(js)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, store.Alert{JSON: js, Summary: sum})
		ids[ta.name] = a.ID
	}
	if err := st.Insert(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	return st, ids
}

// names maps alert JSON back to the test's names (from full_log).
func names(t *testing.T, alerts []json.RawMessage) string {
	t.Helper()
	var out []string
	for _, raw := range alerts {
		var a struct {
			FullLog string `json:"full_log"`
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimPrefix(a.FullLog, "event "))
	}
	return strings.Join(out, ",")
}

func TestAlertSearch(t *testing.T) {
	st, _ := storeWith(t)
	e := start(t, func(_ *api.Config, opt *api.Options) { opt.Alerts = st })
	read := e.token(api.RoleRead)
	for query, want := range map[string]string{
		"":                                  "a4,a3,a2,a1,a5,a6",
		"level=8":                           "a4,a3,a1",
		"rule_id=300001&rule_id=80202":      "a3,a1,a5",
		"group=authentication_failed":       "a2",
		"group=iam&group=aws_cloudtrail":    "a4,a5",
		"provider=gcp":                      "a4",
		"provider=aws&account=444455556666": "a3,a2",
		"region=eu-west-1":                  "a2",
		"principal=arn:aws:iam::111122223333:user/alice": "a3,a1,a5",
		"srcip=192.0.2.9":                           "a4",
		"technique=T1562":                           "a3,a1",
		"technique=T1078":                           "a2",
		"q=StopLogging":                             "a3,a1",
		"q=" + url.QueryEscape(`"user/bob"`):        "a2",
		"q=" + url.QueryEscape("AND OR NEAR(") + "": "",
		"from=2024-05-01&to=2024-05-01T10:15:00Z":   "a2,a1",
		"from=2024-05-01T12:15:00%2B02:00":          "a4,a3",
		"to=2024-05-01T00:00:00Z":                   "a5,a6",
		"service=cloudtrail.amazonaws.com":          "a3,a1,a5",
		"service=cloudtrail.amazonaws.com&action=StopLogging&from=2024-05-01T10:10:00Z": "a3",
		"action=MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE":                          "a6",
		"resource_group=rg-prod": "a6",
		"resource_group=RG-Prod": "",
		"tag=activity":           "a6",
		"cluster=prod-gke":       "a4",
		"resource=arn:aws:cloudtrail:us-east-1:111122223333:trail/main": "a1",
		"provider=azure&service=azure-log-analytics":                    "a6",
		"service=s3.amazonaws.com":                                      "",
		"level=12&account=111122223333&q=alice":                         "a1",
	} {
		var page store.Page
		e.get("/api/v1/alerts?"+query, read).decode(t, &page)
		if got := names(t, page.Alerts); got != want {
			t.Errorf("alerts?%s = %q, want %q", query, got, want)
		}
		wantTotal := int64(0)
		if want != "" {
			wantTotal = int64(strings.Count(want, ",") + 1)
		}
		if page.Total != wantTotal {
			t.Errorf("alerts?%s: total %d, want %d", query, page.Total, wantTotal)
		}
	}

	// Paging: every alert once, newest first.
	var got []string
	cursor := ""
	for i := 0; i < 5; i++ {
		q := "limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		var page store.Page
		e.get("/api/v1/alerts?"+q, read).decode(t, &page)
		if page.Total != 6 {
			t.Errorf("page %d: total %d", i, page.Total)
		}
		got = append(got, names(t, page.Alerts))
		cursor = page.Next
		if cursor == "" {
			break
		}
	}
	if strings.Join(got, "|") != "a4,a3|a2,a1|a5,a6" {
		t.Errorf("pages: %v", got)
	}
	r := e.get("/api/v1/alerts?cursor=not-a-cursor", read)
	if r.status != http.StatusBadRequest || !strings.HasPrefix(r.errorText(t), "parameter cursor:") {
		t.Errorf("forged cursor: %d %s", r.status, r.body)
	}
	var empty map[string]any
	e.get("/api/v1/alerts?rule_id=1", read).decode(t, &empty)
	if a, ok := empty["alerts"].([]any); !ok || len(a) != 0 || empty["total"] != float64(0) {
		t.Errorf("no match: %v (want alerts [])", empty)
	}
}

func TestAlertGet(t *testing.T) {
	st, ids := storeWith(t)
	e := start(t, func(_ *api.Config, opt *api.Options) { opt.Alerts = st })
	read := e.token(api.RoleRead)
	var a struct {
		ID   string `json:"id"`
		Rule struct {
			ID    string `json:"id"`
			Level int    `json:"level"`
			Mitre struct {
				ID []string `json:"id"`
			} `json:"mitre"`
		} `json:"rule"`
		Data struct {
			AWS struct {
				EventName string `json:"eventName"`
			} `json:"aws"`
		} `json:"data"`
	}
	e.get("/api/v1/alerts/"+ids["a3"], read).decode(t, &a)
	if a.ID != ids["a3"] || a.Rule.ID != "300001" || a.Rule.Level != 12 || a.Data.AWS.EventName != "StopLogging" ||
		len(a.Rule.Mitre.ID) != 1 || a.Rule.Mitre.ID[0] != "T1562.008" {
		t.Errorf("alert a3: %+v", a)
	}
	r := e.get("/api/v1/alerts/ffffffffffffffffffffffffffffffff", read)
	if r.status != http.StatusNotFound || r.errorText(t) != "alert not found" {
		t.Errorf("missing alert: %d %s", r.status, r.body)
	}
	// The stats route is not an alert id.
	if r := e.get("/api/v1/alerts/stats", read); r.status != http.StatusOK || !strings.Contains(string(r.body), `"histogram"`) {
		t.Errorf("/alerts/stats: %d %s", r.status, r.body)
	}
}

func TestAlertStats(t *testing.T) {
	st, _ := storeWith(t)
	e := start(t, func(_ *api.Config, opt *api.Options) { opt.Alerts = st })
	read := e.token(api.RoleRead)
	var agg store.Aggregations
	e.get("/api/v1/alerts/stats?from=2024-05-01&to=2024-05-02&interval=1h&top=2", read).decode(t, &agg)
	if agg.Total != 4 || agg.Interval != "1h0m0s" || len(agg.Histogram) != 24 {
		t.Fatalf("stats: total %d, interval %s, %d buckets", agg.Total, agg.Interval, len(agg.Histogram))
	}
	b := agg.Histogram[10]
	if b.Start.Hour() != 10 || b.Count != 4 || b.ByLevel["12"] != 2 || b.ByLevel["5"] != 1 || b.ByLevel["8"] != 1 {
		t.Errorf("10:00 bucket: %+v", b)
	}
	if len(agg.Rules) != 2 || agg.Rules[0].Key != "300001" || agg.Rules[0].Count != 2 {
		t.Errorf("top rules (top=2): %+v", agg.Rules)
	}
	if len(agg.Accounts) == 0 || agg.Accounts[0].Key != "444455556666" || agg.Accounts[0].Count != 2 {
		t.Errorf("top accounts: %+v", agg.Accounts)
	}
	e.get("/api/v1/alerts/stats?provider=aws&technique=T1562", read).decode(t, &agg)
	if agg.Total != 2 || len(agg.Principals) != 1 || agg.Principals[0].Key != "arn:aws:iam::111122223333:user/alice" {
		t.Errorf("aws T1562 stats: total %d, principals %+v", agg.Total, agg.Principals)
	}
	// Facet counts: each asked-for dimension a top list, largest first.
	r := e.get("/api/v1/alerts/stats?from=2024-04-01&facet=service&facet=action&facet=cluster&facet=resource_group&facet=rule&facet=region&top=2", read)
	var withFacets struct {
		Total  int64                    `json:"total"`
		Facets map[string][]store.Count `json:"facets"`
	}
	r.decode(t, &withFacets)
	wantFacets := map[string][]store.Count{
		"service":        {{Key: "cloudtrail.amazonaws.com", Count: 3}, {Key: "azure-log-analytics", Count: 1}},
		"action":         {{Key: "StopLogging", Count: 2}, {Key: "ConsoleLogin", Count: 1}},
		"cluster":        {{Key: "prod-gke", Count: 1}},
		"resource_group": {{Key: "rg-prod", Count: 1}},
		"rule":           {{Key: "300001", Label: "rule 300001 fired", Count: 2}, {Key: "400100", Label: "rule 400100 fired", Count: 1}},
		"region":         {{Key: "us-east-1", Count: 3}, {Key: "eu-west-1", Count: 1}},
	}
	if withFacets.Total != 6 || !reflect.DeepEqual(withFacets.Facets, wantFacets) {
		t.Errorf("facets: total %d\n got  %v\n want %v", withFacets.Total, withFacets.Facets, wantFacets)
	}
	// Filters narrow the counts; without facet the answer has no facets member.
	withFacets.Facets = nil // decode would merge into the map
	e.get("/api/v1/alerts/stats?service=cloudtrail.amazonaws.com&facet=action", read).decode(t, &withFacets)
	if withFacets.Total != 3 || !reflect.DeepEqual(withFacets.Facets, map[string][]store.Count{
		"action": {{Key: "StopLogging", Count: 2}, {Key: "DescribeTrails", Count: 1}}}) {
		t.Errorf("service filter: total %d, facets %v", withFacets.Total, withFacets.Facets)
	}
	var raw map[string]json.RawMessage
	e.get("/api/v1/alerts/stats", read).decode(t, &raw)
	if _, ok := raw["facets"]; ok || raw["histogram"] == nil {
		t.Errorf("stats without facet: %v", raw)
	}

	// Over the open range the store works out (a6 to a4, two and a half days), one-second
	// buckets are too many: the store says so and the API makes it a 400.
	r = e.get("/api/v1/alerts/stats?interval=1s", read)
	if r.status != http.StatusBadRequest || !strings.HasPrefix(r.errorText(t), "parameter interval:") {
		t.Errorf("too many buckets: %d %s", r.status, r.body)
	}
}
