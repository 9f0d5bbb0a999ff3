package msgraph

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

// TestTransientFaults: throttling (Retry-After honoured and capped), a 503,
// a token expired mid-run (a new token is fetched), a page cut off and a
// malformed row each cost an attempt or a record, and every good record is
// delivered exactly once.
func TestTransientFaults(t *testing.T) {
	f := newFakes(t)
	f.cfg.PageSize = 20
	f.cfg.MaxRetryAfter = config.Duration(30 * time.Second)
	f.cfg.Resources = []Resource{{Resource: "auditLogs/signIns"}}
	f.graph.Put("auditLogs/signIns", signIns("s", 100, day.Add(time.Hour), time.Second)...)
	f.graph.Inject("auditLogs/signIns",
		azurefake.Fault{Kind: azurefake.Throttle, RetryAfter: 7},
		azurefake.Fault{}, // page 1 served
		azurefake.Fault{Kind: azurefake.Unavailable},
		azurefake.Fault{Kind: azurefake.ExpireToken},
		azurefake.Fault{}, // page 2
		azurefake.Fault{Kind: azurefake.CutOff},
		azurefake.Fault{},                             // page 3
		azurefake.Fault{Kind: azurefake.MalformedRow}, // page 4, with two bad rows
		azurefake.Fault{Kind: azurefake.Throttle, RetryAfter: 3600},
	)
	var logs bytes.Buffer
	w := &waits{}
	s := mustNew(t, f.cfg, f.settings("graph", nil, &clock{t: noon}, &logs, w))
	c := &collector{}
	mustPass(t, s, c)
	got := units(c.take())
	if len(got) != 100 {
		t.Errorf("delivered %d distinct sign-ins, want 100", len(got))
	}
	for u, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", u, n)
		}
	}
	if f.entra.Issued() != 2 {
		t.Errorf("%d tokens issued, want 2 (the expired one replaced)", f.entra.Issued())
	}
	var statuses []int
	for _, r := range f.graph.Requests() {
		statuses = append(statuses, r.Status)
	}
	if len(statuses) != 5+5 {
		t.Errorf("statuses %v, want 5 pages and 5 refused or broken attempts", statuses)
	}
	if len(w.d) != 2 || w.d[0] != 7*time.Second || w.d[1] != 30*time.Second {
		t.Errorf("waited %v, want Retry-After 7s, then 3600s capped at max_retry_after 30s", w.d)
	}
	if st := s.Stats(); st.Errors != 2 {
		t.Errorf("stats %+v, want the 2 malformed rows counted", st)
	}
	if l := logs.String(); !strings.Contains(l, `"page":4`) || !strings.Contains(l, `"index":20`) || !strings.Contains(l, "record without id") ||
		!strings.Contains(l, "not a JSON object") {
		t.Errorf("malformed rows not logged with their page and index:\n%s", l)
	}
}

// TestOneResourceFailingDoesNotStopOthers: persistent throttling of one
// resource fails it with an error naming it and its page; the next resource
// is read, and the failed one is read again, whole, on the next pass.
func TestOneResourceFailingDoesNotStopOthers(t *testing.T) {
	f := newFakes(t)
	f.cfg.PageSize = 10
	f.cfg.Resources = []Resource{{Resource: "auditLogs/directoryAudits"}, {Resource: "identityProtection/riskDetections"}}
	f.graph.Put("auditLogs/directoryAudits", audit("d1", day.Add(time.Hour), "Add user", "success", "a@contoso.com"))
	for i := 0; i < 15; i++ {
		id := "r" + string(rune('a'+i))
		f.graph.Put("identityProtection/riskDetections", risk(id, day.Add(time.Duration(i)*time.Minute), "low", "unfamiliarFeatures", "atRisk", "b@contoso.com"))
	}
	f.graph.Inject("auditLogs/directoryAudits", azurefake.Fault{Kind: azurefake.Unavailable}, azurefake.Fault{Kind: azurefake.Unavailable}, azurefake.Fault{Kind: azurefake.Unavailable})
	f.graph.Inject("identityProtection/riskDetections", azurefake.Fault{}, azurefake.Fault{Kind: azurefake.Throttle}, azurefake.Fault{Kind: azurefake.Throttle}, azurefake.Fault{Kind: azurefake.Throttle})
	set := f.settings("graph", nil, &clock{t: noon}, nil, nil)
	set.Retry = retry.Policy{Initial: time.Millisecond, Attempts: 3}
	s := mustNew(t, f.cfg, set)
	c := &collector{}
	err := pass(t, s, c)
	if err == nil || !strings.Contains(err.Error(), "auditLogs/directoryAudits: page 1: HTTP 503 ServiceNotAvailable") ||
		!strings.Contains(err.Error(), "identityProtection/riskDetections: page 2: HTTP 429 TooManyRequests") {
		t.Fatalf("err = %v, want both resources named with their page", err)
	}
	if got := units(c.take()); len(got) != 10 {
		t.Errorf("first pass delivered %v, want the 10 risk detections of page 1", got)
	}
	mustPass(t, s, c)
	got := units(c.take())
	if len(got) != 6 || got["auditLogs/directoryAudits/d1"] != 1 {
		t.Errorf("second pass delivered %v, want d1 and the 5 risk detections of page 2", got)
	}
}

// TestSecretsStayOut: a wrong secret fails at once (not retried) with the
// authority's reason, and neither secret appears in the error or the logs.
func TestSecretsStayOut(t *testing.T) {
	f := newFakes(t)
	f.cfg.Resources = []Resource{{Resource: "auditLogs/signIns"}}
	f.cfg.Azure.ClientSecret = "wrong-secret-value-987"
	var logs bytes.Buffer
	s := mustNew(t, f.cfg, f.settings("graph", nil, &clock{t: noon}, &logs, nil))
	err := pass(t, s, &collector{})
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") || !strings.Contains(err.Error(), "auditLogs/signIns: page 1") {
		t.Fatalf("err = %v, want the authority's refusal naming the resource", err)
	}
	if n := len(f.graph.Requests()); n != 0 {
		t.Errorf("%d Graph requests without a token", n)
	}
	for _, secret := range []string{"wrong-secret-value-987", testSecret} {
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("secret %q appears in the error or the logs", secret)
		}
	}
	if !strings.Contains(logs.String(), "resource failed") {
		t.Errorf("failure not logged: %s", logs.String())
	}
}

// TestForeignNextLinkIsRefused: the bearer token is never sent to a host the
// configuration does not name, even when a reply's nextLink points there.
func TestForeignNextLinkIsRefused(t *testing.T) {
	if !sameOrigin("https://graph.example/v1.0/x?$skiptoken=1", "https://graph.example") ||
		sameOrigin("https://evil.example/v1.0/x", "https://graph.example") ||
		sameOrigin("http://graph.example/v1.0/x", "https://graph.example") {
		t.Error("sameOrigin")
	}
}

// TestCancelStopsThePass: a cancelled context ends the pass with its error.
func TestCancelStopsThePass(t *testing.T) {
	f := newFakes(t)
	f.graph.Put("auditLogs/signIns", signIns("s", 5, day.Add(time.Hour), time.Second)...)
	s := mustNew(t, f.cfg, f.settings("graph", nil, &clock{t: noon}, nil, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx, (&collector{}).emit); err == nil {
		t.Error("a cancelled pass returned nil")
	}
}
