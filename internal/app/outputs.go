package app

import (
	"fmt"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/pipeline"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
	"github.com/skywatch-dev/skywatch/internal/sink/pagerduty"
	"github.com/skywatch-dev/skywatch/internal/sink/slack"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
	"github.com/skywatch-dev/skywatch/internal/sink/webhook"
)

// counted is an output with the counters the metrics report for it.
type counted struct {
	sink.Sink
	stats func() map[string]int64
}

// OutputStats returns the output's own counters.
func (c counted) OutputStats() map[string]int64 { return c.stats() }

// notifyStats names a notification output's counters for the metrics.
func notifyStats(s notify.Stats) map[string]int64 {
	return map[string]int64{
		"accepted": s.Accepted, "duplicates": s.Duplicates, "sent": s.Sent, "requests": s.Requests,
		"retries": s.Retries, "rate_limited": s.RateLimited, "dead_lettered": s.DeadLettered,
		"failed_flushes": s.Failed, "buffered": s.Buffered,
	}
}

// withSuppress wraps s in the suppression window its configuration asks for, and
// adds the wrapper's counters.
func withSuppress(s sink.Sink, c suppress.Config, env Env, stats func() map[string]int64) (sink.Sink, error) {
	if !c.Enabled() {
		return counted{s, stats}, nil
	}
	w, err := suppress.New(s, c, suppress.Options{Now: env.Now})
	if err != nil {
		return nil, err
	}
	return counted{w, func() map[string]int64 {
		m := stats()
		st := w.Stats()
		m["suppress_passed"], m["suppress_suppressed"], m["suppress_followups"] = st.Passed, st.Suppressed, st.FollowUps
		m["suppress_pending"], m["suppress_keys"] = st.Pending, st.Keys
		return m
	}}, nil
}

// notifyOutput finishes a notification output: suppression, then the pipeline
// entry with its filter (these outputs do not filter themselves).
func notifyOutput(oc config.OutputConfig, env Env, s sink.Sink, stats func() notify.Stats, sup suppress.Config, f sink.Filter, err error) (pipeline.Output, error) {
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	out, err := withSuppress(s, sup, env, func() map[string]int64 { return notifyStats(stats()) })
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	return pipeline.Output{Name: oc.Name, Sink: out, Filter: f}, nil
}

func newWebhookOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	cfg := webhook.DefaultConfig()
	if err := oc.Decode(&cfg); err != nil {
		return pipeline.Output{}, err
	}
	s, err := webhook.New(cfg, webhook.Options{Name: oc.Name, DataDir: env.DataDir, Logger: env.Logger})
	if err != nil {
		return notifyOutput(oc, env, nil, nil, cfg.Suppress, cfg.Filter(), err)
	}
	return notifyOutput(oc, env, s, s.Stats, cfg.Suppress, cfg.Filter(), nil)
}

func newSlackOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	cfg := slack.DefaultConfig()
	if err := oc.Decode(&cfg); err != nil {
		return pipeline.Output{}, err
	}
	s, err := slack.New(cfg, slack.Options{Name: oc.Name, DataDir: env.DataDir, Logger: env.Logger})
	if err != nil {
		return notifyOutput(oc, env, nil, nil, cfg.Suppress, cfg.Filter(), err)
	}
	return notifyOutput(oc, env, s, s.Stats, cfg.Suppress, cfg.Filter(), nil)
}

func newPagerDutyOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	cfg := pagerduty.DefaultConfig()
	if err := oc.Decode(&cfg); err != nil {
		return pipeline.Output{}, err
	}
	s, err := pagerduty.New(cfg, pagerduty.Options{Name: oc.Name, DataDir: env.DataDir, Logger: env.Logger})
	if err != nil {
		return notifyOutput(oc, env, nil, nil, cfg.Suppress, cfg.Filter(), err)
	}
	return notifyOutput(oc, env, s, s.Stats, cfg.Suppress, cfg.Filter(), nil)
}
