package msgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

const (
	testClient = "11111111-2222-3333-4444-555555555555"
	testSecret = "graph-s3cret-never-logged-42"
	testTenant = "contoso-tenant"
)

var (
	day  = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	noon = day.Add(12 * time.Hour)
)

// fakes is a fake authority and Graph, and a configuration pointing at them.
type fakes struct {
	entra *azurefake.Entra
	graph *azurefake.Graph
	cfg   Config
}

func newFakes(t testing.TB) *fakes {
	t.Helper()
	e := azurefake.NewEntra(testClient, testSecret)
	g := azurefake.NewGraph(e)
	t.Cleanup(func() { g.Close(); e.Close() })
	cfg := DefaultConfig()
	cfg.Azure.TenantID, cfg.Azure.ClientID, cfg.Azure.ClientSecret = testTenant, testClient, testSecret
	cfg.Azure.AuthorityHost = e.AuthorityHost()
	cfg.Endpoint = g.Server.URL
	cfg.MaxWindow = config.Duration(24 * time.Hour)
	cfg.OnlyLogsAfter = "2024-03-01"
	return &fakes{entra: e, graph: g, cfg: cfg}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// waits records the Retry-After waits asked for, without waiting.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

var fastRetry = retry.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 6}

func (f *fakes) settings(name string, st *checkpoint.Store, clk *clock, logs *bytes.Buffer, w *waits) Settings {
	s := Settings{Name: name, State: st, AgentName: "manager", Now: clk.Now, HTTPClient: f.entra.Server.Client(), Retry: fastRetry}
	if logs != nil {
		s.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if w == nil {
		w = &waits{}
	}
	s.Sleep = w.sleep
	return s
}

func mustNew(t testing.TB, cfg Config, s Settings) *Source {
	t.Helper()
	src, err := New(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func openStore(t testing.TB, path string) *checkpoint.Store {
	t.Helper()
	st, err := checkpoint.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func storePath(t testing.TB) string { return filepath.Join(t.TempDir(), "state.db") }

// collector stands in for the pipeline: it keeps the events and acknowledges
// each batch at once, or holds the acknowledgements when hold is set.
type collector struct {
	mu     sync.Mutex
	hold   bool
	acks   []func(error)
	events []event.Event
	sizes  []int
}

func (c *collector) emit(_ context.Context, b *source.Batch) error {
	c.mu.Lock()
	for _, ev := range b.Events {
		ev.Log = append([]byte(nil), ev.Log...)
		c.events = append(c.events, ev)
	}
	c.sizes = append(c.sizes, len(b.Events))
	hold := c.hold
	if hold {
		c.acks = append(c.acks, b.Ack)
	}
	c.mu.Unlock()
	if !hold {
		b.Ack(nil)
	}
	return nil
}

func (c *collector) take() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.events
	c.events, c.sizes = nil, nil
	return ev
}

var errOutput = errors.New("output failed")

// units counts events per Origin.Unit.
func units(evs []event.Event) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		m[e.Origin.Unit]++
	}
	return m
}

// pass runs one pass and the Commit the pipeline would do after it.
func pass(t testing.TB, s *Source, c *collector) error {
	t.Helper()
	err := s.Run(context.Background(), c.emit)
	if cerr := s.Commit(); cerr != nil {
		t.Fatal(cerr)
	}
	return err
}

func mustPass(t testing.TB, s *Source, c *collector) {
	t.Helper()
	if err := pass(t, s, c); err != nil {
		t.Fatal(err)
	}
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// signIn is a Graph signIn object (the members rules read).
func signIn(id string, at time.Time, upn, ip string, code int) json.RawMessage {
	return raw(map[string]any{
		"id": id, "createdDateTime": ts(at), "userDisplayName": "User " + upn, "userPrincipalName": upn,
		"userId": "u-" + upn, "appId": "de8bc8b5-d9f9-48b1-a8ad-b748da725064", "appDisplayName": "Graph Explorer",
		"ipAddress": ip, "clientAppUsed": "Browser", "correlationId": "c-" + id, "conditionalAccessStatus": "notApplied",
		"isInteractive": true, "riskDetail": "none", "riskLevelAggregated": "none", "riskLevelDuringSignIn": "none",
		"riskState": "none", "riskEventTypes_v2": []string{}, "resourceDisplayName": "Microsoft Graph",
		"status":   map[string]any{"errorCode": code, "failureReason": map[bool]string{true: "Other.", false: "Invalid username or password."}[code == 0], "additionalDetails": nil},
		"location": map[string]any{"city": "Redmond", "state": "Washington", "countryOrRegion": "US", "geoCoordinates": map[string]any{"altitude": nil, "latitude": 47.68, "longitude": -122.12}},
	})
}

func signIns(prefix string, n int, base time.Time, step time.Duration) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = signIn(fmt.Sprintf("%s-%04d", prefix, i), base.Add(time.Duration(i)*step), fmt.Sprintf("user%d@contoso.com", i%7), "203.0.113.9", 0)
	}
	return out
}

// audit is a Graph directoryAudit object.
func audit(id string, at time.Time, activity, result, who string) json.RawMessage {
	return raw(map[string]any{
		"id": id, "category": "RoleManagement", "correlationId": "c-" + id, "result": result, "resultReason": "",
		"activityDisplayName": activity, "activityDateTime": ts(at), "loggedByService": "Core Directory", "operationType": "Assign",
		"initiatedBy": map[string]any{"app": nil, "user": map[string]any{"id": "u1", "displayName": nil, "userPrincipalName": who, "ipAddress": "198.51.100.7"}},
		"targetResources": []any{map[string]any{"id": "t1", "displayName": "Global Administrator", "type": "Role", "modifiedProperties": []any{
			map[string]any{"displayName": "Role.DisplayName", "oldValue": nil, "newValue": `"Global Administrator"`}}}},
		"additionalDetails": []any{},
	})
}

// alertV2 is a Graph security alert (alerts_v2).
func alertV2(id string, created, updated time.Time, severity, status, category, title string) json.RawMessage {
	return raw(map[string]any{
		"@odata.type": "#microsoft.graph.security.alert", "id": id, "providerAlertId": id, "incidentId": "7",
		"status": status, "severity": severity, "classification": nil, "determination": nil,
		"serviceSource": "microsoftDefenderForEndpoint", "detectionSource": "antivirus", "title": title,
		"category": category, "createdDateTime": ts(created), "lastUpdateDateTime": ts(updated),
		"mitreTechniques": []string{"T1564.001"}, "evidence": []any{},
	})
}

// risk is a Graph riskDetection.
func risk(id string, detected time.Time, level, eventType, state, upn string) json.RawMessage {
	return raw(map[string]any{
		"id": id, "requestId": "r-" + id, "correlationId": "c-" + id, "riskEventType": eventType, "riskState": state,
		"riskLevel": level, "riskDetail": "none", "source": "IdentityProtection", "detectionTimingType": "realtime",
		"activity": "signin", "tokenIssuerType": "AzureAD", "ipAddress": "192.0.2.44",
		"activityDateTime": ts(detected.Add(-2 * time.Minute)), "detectedDateTime": ts(detected), "lastUpdatedDateTime": ts(detected),
		"userId": "u-" + upn, "userDisplayName": "User", "userPrincipalName": upn,
	})
}
