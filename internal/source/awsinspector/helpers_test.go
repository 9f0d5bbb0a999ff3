package awsinspector

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// newFake starts the fake (awsfake.Start) and returns a configuration that
// points at it.
func newFake(t *testing.T) (*awsfake.Server, Config) {
	t.Helper()
	fake, creds := awsfake.Start(t)
	cfg := DefaultConfig()
	cfg.AWS = creds
	cfg.OnlyLogsAfter = "2024-01-01"
	return fake, cfg
}

// settings returns test settings: fast retries, a log buffer and the clock.
func settings(name string, st *checkpoint.Store, clk *awsfake.Clock, logs *bytes.Buffer) Settings {
	return Settings{Name: name, State: st, AgentName: "manager", Now: clk.Now, Retry: awsfake.FastRetry, Logger: awsfake.Logger(logs)}
}

// findings makes n findings updated at base + i*step.
func findings(prefix string, n int, base time.Time, step time.Duration) []awsfake.Finding {
	out := make([]awsfake.Finding, n)
	for i := range out {
		out[i] = awsfake.Finding{
			ARN:       fmt.Sprintf("arn:aws:inspector2:us-east-1:123456789012:finding/%s%04d", prefix, i),
			AccountID: "123456789012", UpdatedAt: base.Add(time.Duration(i) * step),
			Severity: "HIGH", Type: "PACKAGE_VULNERABILITY", Title: fmt.Sprintf("CVE-2024-%04d - openssl", i),
		}
	}
	return out
}
