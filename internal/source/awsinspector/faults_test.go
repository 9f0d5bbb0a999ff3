package awsinspector

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// TestTransientFaultsAreRetried: throttling, a 5xx, a reply cut short and an
// expired token each cost one more attempt, and nothing is lost or doubled.
func TestTransientFaultsAreRetried(t *testing.T) {
	fake, cfg := newFake(t)
	fake.Inspector.MaxPage = 20
	fake.Inspector.Put(findings("a", 50, day.Add(time.Hour), time.Second)...)
	fake.Inject("ListFindings", awsfake.Throttle, awsfake.ServerError, awsfake.Truncate, awsfake.ExpiredToken)
	s := awsfake.MustNew(t, New, cfg, settings("insp", nil, awsfake.NewClock(noon), nil))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	if got := awsfake.Units(c.Take()); len(got) != 50 {
		t.Errorf("delivered %d distinct findings, want 50", len(got))
	}
	calls := fake.Calls("ListFindings")
	if len(calls) != 3+4 {
		t.Errorf("%d ListFindings calls, want 3 pages + 4 retries", len(calls))
	}
}

// TestPersistentThrottlingFails: when the retries are used up the pass fails
// with an error naming the operation and the region, and nothing is delivered.
func TestPersistentThrottlingFails(t *testing.T) {
	fake, cfg := newFake(t)
	cfg.Regions = []string{"eu-central-1"}
	fake.Inspector.Put(findings("a", 5, day.Add(time.Hour), time.Second)...)
	fake.Inject("ListFindings", awsfake.Throttle, awsfake.Throttle, awsfake.Throttle)
	set := settings("insp", nil, awsfake.NewClock(noon), nil)
	set.Retry = retry.Policy{Initial: time.Millisecond, Attempts: 3}
	s := awsfake.MustNew(t, New, cfg, set)
	c := &awsfake.Collector{}
	err := awsfake.RunPass(t, s, c)
	if err == nil || !strings.Contains(err.Error(), "list findings in eu-central-1") || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("err = %v, want the throttling error naming region eu-central-1", err)
	}
	if n := len(c.Take()); n != 0 {
		t.Errorf("%d events delivered", n)
	}
}

// TestBadSignatureIsNotRetried: the fake checks SigV4; a wrong secret is a
// permanent error (one call), and the secret does not appear in it.
func TestBadSignatureIsNotRetried(t *testing.T) {
	fake, cfg := newFake(t)
	cfg.AWS.SecretAccessKey = "wrong-secret-value"
	s := awsfake.MustNew(t, New, cfg, settings("insp", nil, awsfake.NewClock(noon), nil))
	err := awsfake.RunPass(t, s, &awsfake.Collector{})
	if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Fatalf("err = %v, want InvalidSignatureException", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Error("the secret key appears in the error")
	}
	if n := len(fake.Calls("ListFindings")); n != 1 {
		t.Errorf("%d calls, want 1 (not retried)", n)
	}
}

// TestAssumeRoleWithExternalID: the role is assumed through the fake STS with
// the configured parameters, the findings are read with the session it issued,
// an expired session is replaced, and a wrong external id fails without the
// secrets showing in the error or the logs.
func TestAssumeRoleWithExternalID(t *testing.T) {
	const role, extID = "arn:aws:iam::123456789012:role/skywatch-reader", "ext-id-very-secret-42"
	fake, cfg := newFake(t)
	fake.STS.AddRole(role, extID)
	fake.Inspector.Put(findings("a", 3, day.Add(time.Hour), time.Second)...)
	cfg.AWS.RoleARN, cfg.AWS.ExternalID, cfg.AWS.STSEndpoint = role, config.Secret(extID), fake.URL
	cfg.AWS.RoleSessionDuration = config.Duration(30 * time.Minute)
	fake.Inject("ListFindings", awsfake.ExpiredToken)
	var logs bytes.Buffer
	s := awsfake.MustNew(t, New, cfg, settings("insp", nil, awsfake.NewClock(noon), &logs))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	if n := len(c.Take()); n != 3 {
		t.Errorf("%d events, want 3", n)
	}
	sts := fake.Calls("AssumeRole")
	if len(sts) != 2 {
		t.Fatalf("%d AssumeRole calls, want 2 (the expired session is replaced)", len(sts))
	}
	f := sts[0].Form
	if f.Get("RoleArn") != role || f.Get("ExternalId") != extID || f.Get("RoleSessionName") != "skywatch" ||
		f.Get("DurationSeconds") != "1800" || f.Get("Version") != "2011-06-15" || sts[0].AccessKeyID != awsfake.TestKey {
		t.Errorf("AssumeRole request: %v signed by %s", f, sts[0].AccessKeyID)
	}
	for _, call := range fake.Calls("ListFindings") {
		if !strings.HasPrefix(call.AccessKeyID, "ASIA") || call.SessionToken == "" {
			t.Errorf("ListFindings signed with %s (token %q), want the assumed session", call.AccessKeyID, call.SessionToken)
		}
	}

	// A wrong external id: AccessDenied, no secrets in the error or the logs.
	cfg.AWS.ExternalID = "wrong-ext-id-secret"
	logs.Reset()
	s = awsfake.MustNew(t, New, cfg, settings("insp", nil, awsfake.NewClock(noon), &logs))
	err := awsfake.RunPass(t, s, &awsfake.Collector{})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "us-east-1") {
		t.Fatalf("err = %v, want AccessDenied naming the region", err)
	}
	for _, secret := range []string{"wrong-ext-id-secret", extID, awsfake.TestSecret} {
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("secret %q appears in the error or the logs:\n%v\n%s", secret, err, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "region pass failed") {
		t.Errorf("the failure was not logged: %s", logs.String())
	}
}
