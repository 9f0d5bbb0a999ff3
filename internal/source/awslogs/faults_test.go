package awslogs

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// TestTransientFaultsAreRetried: throttling, 5xx replies, replies cut short,
// an expired token and empty pages cost more calls, never events.
func TestTransientFaultsAreRetried(t *testing.T) {
	fake, cfg := newFake(t)
	fake.Logs.MaxEvents = 40
	fake.Logs.Put("us-east-1", group, stream, events("e", 100, day.Add(time.Hour))...)
	fake.Inject("DescribeLogStreams", awsfake.Throttle, awsfake.Truncate)
	fake.Inject("GetLogEvents", awsfake.Throttle, awsfake.ServerError, awsfake.Truncate, awsfake.EmptyPage, awsfake.ExpiredToken)
	s := awsfake.MustNew(t, New, cfg, settings("cw", nil, awsfake.NewClock(noon), nil))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	got := messages(c.Take())
	if len(got) != 100 || got[0] != "e-0" || got[99] != "e-99" {
		t.Errorf("%d events, want e-0 .. e-99 once each", len(got))
	}
	seen := map[string]bool{}
	for _, m := range got {
		if seen[m] {
			t.Errorf("%s delivered twice", m)
		}
		seen[m] = true
	}
	if n := len(fake.Calls("DescribeLogStreams")); n != 3 {
		t.Errorf("%d DescribeLogStreams calls, want 1 + 2 retries", n)
	}
}

// TestErrorsNameRegionGroupStream: a stream that keeps failing and a missing
// group are reported with their region, group and stream; the other streams
// and groups are still read.
func TestErrorsNameRegionGroupStream(t *testing.T) {
	fake, cfg := newFake(t)
	cfg.Regions = []string{"ap-south-1"}
	cfg.LogGroups = []string{"missing-group", group}
	fake.Logs.Put("ap-south-1", group, "a-broken", events("x", 1, day.Add(time.Hour))...)
	fake.Logs.Put("ap-south-1", group, "b-fine", events("y", 1, day.Add(time.Hour))...)
	fake.Inject("GetLogEvents", awsfake.Throttle, awsfake.Throttle, awsfake.Throttle)
	var logs bytes.Buffer
	set := settings("cw", nil, awsfake.NewClock(noon), &logs)
	set.Retry = retry.Policy{Initial: time.Millisecond, Attempts: 3}
	s := awsfake.MustNew(t, New, cfg, set)
	c := &awsfake.Collector{}
	err := awsfake.RunPass(t, s, c)
	for _, want := range []string{
		"describe log streams of ap-south-1/missing-group (page 1)", "ResourceNotFoundException",
		"get log events of ap-south-1//aws/lambda/app/a-broken (page 1)", "ThrottlingException",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
	if got := messages(c.Take()); len(got) != 1 || got[0] != "y-0" {
		t.Errorf("delivered %q, want the fine stream's event", got)
	}
	if !strings.Contains(logs.String(), `"stream":"a-broken"`) || !strings.Contains(logs.String(), `"group":"missing-group"`) {
		t.Errorf("logs do not name the failing group and stream:\n%s", logs.String())
	}
}

// TestAssumeRoleWithExternalID: the source reads with the session the fake STS
// issued for the configured role and external id, and keeps the secrets out of
// errors and logs when the role is refused.
func TestAssumeRoleWithExternalID(t *testing.T) {
	const role, extID = "arn:aws:iam::123456789012:role/cw-reader", "cw-external-id-secret"
	fake, cfg := newFake(t)
	fake.STS.AddRole(role, extID)
	fake.Logs.Put("us-east-1", group, stream, events("e", 2, day.Add(time.Hour))...)
	cfg.AWS.RoleARN, cfg.AWS.ExternalID, cfg.AWS.STSEndpoint = role, config.Secret(extID), fake.URL
	s := awsfake.MustNew(t, New, cfg, settings("cw", nil, awsfake.NewClock(noon), nil))
	c := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, c)
	if n := len(c.Take()); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
	sts := fake.Calls("AssumeRole")
	if len(sts) != 1 || sts[0].Form.Get("ExternalId") != extID || sts[0].Form.Get("RoleArn") != role ||
		sts[0].Form.Get("RoleSessionName") != "skywatch" {
		t.Fatalf("AssumeRole calls: %+v", sts)
	}
	for _, call := range fake.Calls("GetLogEvents") {
		if !strings.HasPrefix(call.AccessKeyID, "ASIA") || call.SessionToken == "" {
			t.Errorf("GetLogEvents signed with %s, want the assumed session", call.AccessKeyID)
		}
	}

	cfg.AWS.ExternalID = "wrong-cw-external-id"
	var logs bytes.Buffer
	s = awsfake.MustNew(t, New, cfg, settings("cw", nil, awsfake.NewClock(noon), &logs))
	err := awsfake.RunPass(t, s, &awsfake.Collector{})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "us-east-1//aws/lambda/app") {
		t.Fatalf("err = %v, want AccessDenied naming region and group", err)
	}
	for _, secret := range []string{"wrong-cw-external-id", extID, awsfake.TestSecret} {
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("secret %q appears in the error or the logs", secret)
		}
	}
}
