package azurela

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

// TestTransientFaultsAreRetried: throttling (waiting out its Retry-After), a
// 503, a token revoked mid-run and a reply cut short each cost one more
// request, and nothing is lost or doubled.
func TestTransientFaultsAreRetried(t *testing.T) {
	e := newEnv(t)
	e.la.RowLimit = 10
	want := e.addRows(ws1, "r", 25, noon.Add(-time.Hour), time.Minute)
	// The first reply is truncated: the faults hit the requests of the halves.
	e.la.Inject(0, azurefake.LAThrottle, azurefake.LAUnavailable, azurefake.LAExpireToken, azurefake.LAMalformed)
	s := e.newSource(t, "la", nil)
	c := &collector{}
	mustRunPass(t, s, c)
	got := users(t, c.take())
	if len(got) != len(want) {
		t.Fatalf("%d distinct rows, want %d", len(got), len(want))
	}
	for _, u := range want {
		if got[u] != 1 {
			t.Errorf("%s sent %d times", u, got[u])
		}
	}
	if len(e.waits) != 1 || e.waits[0] != 7*time.Second {
		t.Errorf("Retry-After waits %v, want one of 7s", e.waits)
	}
	if n := e.entra.Issued(); n != 2 {
		t.Errorf("%d tokens issued, want 2 (a new one after the 401)", n)
	}
	statuses := map[int]int{}
	for _, call := range e.la.Calls() {
		statuses[call.Status]++
	}
	if statuses[429] != 1 || statuses[503] != 1 || statuses[401] != 1 {
		t.Errorf("replies by status %v", statuses)
	}
	if strings.Contains(e.logs.String(), testSecret) {
		t.Error("the client secret shows in the logs")
	}
	if !strings.Contains(e.logs.String(), "malformed reply, asking again") || !strings.Contains(e.logs.String(), "token refused") {
		t.Errorf("faults not logged:\n%s", e.logs.String())
	}
}

// TestPersistentThrottlingFails: when the retries are used up the pass fails
// with an error naming the workspace and the window, nothing is delivered,
// and the next pass reads the window again.
func TestPersistentThrottlingFails(t *testing.T) {
	e := newEnv(t)
	e.addRows(ws1, "r", 5, noon.Add(-time.Hour), time.Minute)
	e.la.Inject(azurefake.LAUnavailable, azurefake.LAUnavailable, azurefake.LAUnavailable)
	set := e.settings("la", nil)
	set.Retry = retry.Policy{Initial: time.Millisecond, Attempts: 3}
	s, err := New(e.cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	err = runPass(t, s, c)
	if err == nil || !strings.Contains(err.Error(), "query workspace "+ws1+" for 2024-05-01T10:00:00Z/2024-05-01T11:55:00Z") ||
		!strings.Contains(err.Error(), "HTTP 503 ServiceUnavailableError") {
		t.Fatalf("err = %v", err)
	}
	if n := len(c.take()); n != 0 {
		t.Errorf("%d events delivered", n)
	}
	e.clock.Add(time.Minute)
	mustRunPass(t, s, c)
	if n := len(users(t, c.take())); n != 5 {
		t.Errorf("next pass read %d rows, want 5", n)
	}
}

// TestMalformedRowIsSkipped: a row that does not fit the columns is skipped,
// counted and logged with its window and index; the others are delivered.
func TestMalformedRowIsSkipped(t *testing.T) {
	e := newEnv(t)
	e.addRows(ws1, "a", 3, noon.Add(-time.Hour), time.Minute)
	e.la.AddRow(ws1, noon.Add(-30*time.Minute), json.RawMessage(`["2024-05-01T11:30:00Z","short@contoso.com"]`))
	e.la.AddRow(ws1, noon.Add(-29*time.Minute), json.RawMessage(`{"not":"an array"}`))
	e.addRows(ws1, "b", 3, noon.Add(-20*time.Minute), time.Minute)
	s := e.newSource(t, "la", nil)
	c := &collector{}
	mustRunPass(t, s, c)
	if got := users(t, c.take()); len(got) != 6 {
		t.Errorf("delivered %v, want the 6 good rows", got)
	}
	if st := s.Stats(); st.Errors != 2 {
		t.Errorf("errors %d, want 2", st.Errors)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"row":3`) || !strings.Contains(logs, "row has 2 values for 6 columns") ||
		!strings.Contains(logs, `"row":4`) || !strings.Contains(logs, "row is not an array") ||
		!strings.Contains(logs, `"window":"2024-05-01T10:00:00Z/2024-05-01T11:55:00Z"`) {
		t.Errorf("bad rows not logged with their place:\n%s", logs)
	}
}

// TestWrongSecretIsReportedWithoutIt: a refused secret fails the pass with the
// authority's reason, is not retried, and never shows in errors or logs.
func TestWrongSecretIsReportedWithoutIt(t *testing.T) {
	e := newEnv(t)
	e.addRows(ws1, "r", 2, noon.Add(-time.Hour), time.Minute)
	const wrong = "wrong-secret-value-987"
	e.cfg.Azure.ClientSecret = config.Secret(wrong)
	s := e.newSource(t, "la", nil)
	err := runPass(t, s, &collector{})
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("err = %v, want the authority's reason", err)
	}
	for _, secret := range []string{wrong, testSecret} {
		if strings.Contains(err.Error(), secret) || strings.Contains(e.logs.String(), secret) {
			t.Errorf("secret %q shows in the error or the logs", secret)
		}
	}
	if n := len(e.la.Calls()); n != 0 {
		t.Errorf("%d queries sent without a token", n)
	}
	if !strings.Contains(e.logs.String(), "workspace pass failed") {
		t.Errorf("failure not logged: %s", e.logs.String())
	}
}

// TestTokenServiceOutageIsRetried: the authority failing once costs a retry.
func TestTokenServiceOutageIsRetried(t *testing.T) {
	e := newEnv(t)
	e.addRows(ws1, "r", 4, noon.Add(-time.Hour), time.Minute)
	e.entra.FailNext(1)
	s := e.newSource(t, "la", nil)
	c := &collector{}
	mustRunPass(t, s, c)
	if n := len(users(t, c.take())); n != 4 {
		t.Errorf("%d rows, want 4", n)
	}
}

// TestUnknownWorkspaceIsNotRetried: a 404 fails the pass at once, naming the
// workspace.
func TestUnknownWorkspaceIsNotRetried(t *testing.T) {
	e := newEnv(t)
	e.la.SetColumns() // the fake answers 404 for workspaces without rows or columns
	s := e.newSource(t, "la", nil)
	err := runPass(t, s, &collector{})
	if err == nil || !strings.Contains(err.Error(), "HTTP 404 WorkspaceNotFoundError") || !strings.Contains(err.Error(), ws1) {
		t.Fatalf("err = %v", err)
	}
	if n := len(e.la.Calls()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestIsLimit(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{`PartialError: {"innererror":{"message":"Query result set has exceeded the internal data size limit 67108864 (E_QUERY_RESULT_SET_TOO_LARGE)"}}`, true},
		{`PartialError: {"message":"E_RUNAWAY_QUERY"}`, true},
		{`PartialError: {"details":[{"code":"InvalidTable","message":"cross-workspace table not found"}]}`, false},
	} {
		if got := isLimit(tc.text); got != tc.want {
			t.Errorf("isLimit(%s) = %v", tc.text, got)
		}
	}
}

// TestCancelStopsThePass: a cancelled context ends the pass with ctx's error.
func TestCancelStopsThePass(t *testing.T) {
	e := newEnv(t)
	e.addRows(ws1, "r", 4, noon.Add(-time.Hour), time.Minute)
	s := e.newSource(t, "la", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx, (&collector{}).emit); err == nil {
		t.Error("a cancelled pass returned nil")
	}
}
