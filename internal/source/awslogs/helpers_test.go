package awslogs

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// newFake starts the fake (awsfake.Start) and returns a configuration that
// points at it, reading one log group.
func newFake(t *testing.T) (*awsfake.Server, Config) {
	t.Helper()
	fake, creds := awsfake.Start(t)
	cfg := DefaultConfig()
	cfg.AWS = creds
	cfg.LogGroups = []string{"/aws/lambda/app"}
	cfg.OnlyLogsAfter = "2024-01-01"
	return fake, cfg
}

// settings returns test settings: fast retries, a log buffer and the clock.
func settings(name string, st *checkpoint.Store, clk *awsfake.Clock, logs *bytes.Buffer) Settings {
	return Settings{Name: name, State: st, AgentName: "manager", Now: clk.Now, Retry: awsfake.FastRetry, Logger: awsfake.Logger(logs)}
}

// events makes n events one second apart from base, with messages prefix-i.
func events(prefix string, n int, base time.Time) []awsfake.LogEvent {
	out := make([]awsfake.LogEvent, n)
	for i := range out {
		out[i] = awsfake.LogEvent{Timestamp: base.Add(time.Duration(i) * time.Second).UnixMilli(), Message: fmt.Sprintf("%s-%d", prefix, i)}
	}
	return out
}

// messages returns the events' logs.
func messages(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Log)
	}
	return out
}
