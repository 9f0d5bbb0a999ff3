package app

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/pipeline"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/email"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
	"github.com/skywatch-dev/skywatch/internal/sink/opensearch"
	"github.com/skywatch-dev/skywatch/internal/sink/pagerduty"
	"github.com/skywatch-dev/skywatch/internal/sink/slack"
	"github.com/skywatch-dev/skywatch/internal/sink/spool"
	storesink "github.com/skywatch-dev/skywatch/internal/sink/store"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
	sinksyslog "github.com/skywatch-dev/skywatch/internal/sink/syslog"
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

// spooled is a remote output's configuration with the spool section beside its
// own keys, so the output packages need not know about the spool.
type spooled[T any, P interface {
	*T
	config.Validator
}] struct {
	Out   T            `yaml:",inline"`
	Spool spool.Config `yaml:"spool"`
}

// Validate checks both parts.
func (w *spooled[T, P]) Validate() error {
	return errors.Join(P(&w.Out).Validate(), w.Spool.Validate())
}

func decodeSpooled[T any, P interface {
	*T
	config.Validator
}](oc config.OutputConfig, def T) (*spooled[T, P], error) {
	w := &spooled[T, P]{Out: def, Spool: spool.DefaultConfig()}
	if err := oc.Decode(w); err != nil {
		return nil, err
	}
	return w, nil
}

// remoteOutput finishes a remote output: suppression (when configured), the disk
// spool (unless disabled) and the pipeline entry with its filter (remote outputs do
// not filter themselves). The spool goes outermost so that the pipeline's
// acknowledgement waits only for the local disk, and suppression sees each alert
// once, when it is delivered.
func remoteOutput(oc config.OutputConfig, env Env, s sink.Sink, stats func() map[string]int64, sup suppress.Config, sp spool.Config, f sink.Filter) (pipeline.Output, error) {
	out, err := withSuppress(s, sup, env, stats)
	if err != nil {
		s.Close()
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	if sp.Enabled {
		if sp.Dir == "" {
			sp.Dir = config.Path(filepath.Join(env.DataDir, "spool", oc.Name))
		}
		inner := out.(counted)
		sw, err := spool.New(inner, sp, spool.Options{Name: oc.Name, Logger: env.Logger, Shutdown: env.Shutdown})
		if err != nil {
			inner.Close()
			return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
		}
		out = counted{sw, func() map[string]int64 {
			m := inner.stats()
			st := sw.Stats()
			m["spool_buffered_bytes"], m["spool_buffered_records"] = st.BufferedBytes, st.BufferedRecords
			m["spool_appended"], m["spool_delivered"], m["spool_failed"], m["spool_retries"] = st.Appended, st.Delivered, st.Failed, st.Retries
			m["spool_corrupt"], m["spool_dropped"], m["spool_blocked_writes"] = st.Corrupt, st.Dropped, st.BlockedWrites
			m["spool_oldest_age_seconds"] = int64(st.OldestAge.Seconds())
			return m
		}}
	}
	return pipeline.Output{Name: oc.Name, Sink: out, Filter: f}, nil
}

func newWebhookOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	w, err := decodeSpooled[webhook.Config](oc, webhook.DefaultConfig())
	if err != nil {
		return pipeline.Output{}, err
	}
	s, err := webhook.New(w.Out, webhook.Options{Name: oc.Name, DataDir: env.DataDir, Logger: env.Logger})
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	stats := func() map[string]int64 { return notifyStats(s.Stats()) }
	return remoteOutput(oc, env, s, stats, w.Out.Suppress, w.Spool, w.Out.Filter())
}

func newSlackOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	w, err := decodeSpooled[slack.Config](oc, slack.DefaultConfig())
	if err != nil {
		return pipeline.Output{}, err
	}
	s, err := slack.New(w.Out, slack.Options{Name: oc.Name, DataDir: env.DataDir, Logger: env.Logger})
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	stats := func() map[string]int64 { return notifyStats(s.Stats()) }
	return remoteOutput(oc, env, s, stats, w.Out.Suppress, w.Spool, w.Out.Filter())
}

func newPagerDutyOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	w, err := decodeSpooled[pagerduty.Config](oc, pagerduty.DefaultConfig())
	if err != nil {
		return pipeline.Output{}, err
	}
	s, err := pagerduty.New(w.Out, pagerduty.Options{Name: oc.Name, DataDir: env.DataDir, Logger: env.Logger})
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	stats := func() map[string]int64 { return notifyStats(s.Stats()) }
	return remoteOutput(oc, env, s, stats, w.Out.Suppress, w.Spool, w.Out.Filter())
}

func newSyslogOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	w, err := decodeSpooled[sinksyslog.Config](oc, sinksyslog.DefaultConfig())
	if err != nil {
		return pipeline.Output{}, err
	}
	s, err := sinksyslog.New(w.Out, sinksyslog.Options{Version: env.Version, Now: env.Now})
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	stats := func() map[string]int64 {
		st := s.Stats()
		return map[string]int64{"accepted": st.Accepted, "sent": st.Sent, "truncated": st.Truncated,
			"retries": st.Retries, "reconnects": st.Reconnects, "failed_flushes": st.Failed,
			"dropped": st.Dropped, "buffered": st.Buffered}
	}
	return remoteOutput(oc, env, s, stats, suppress.Config{}, w.Spool, w.Out.Filter())
}

// newEmailOutput has no spool: the email output keeps its own fsynced outbox and
// sends digests from it, so a spool would only store every alert twice.
func newEmailOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	cfg := email.DefaultConfig()
	if err := oc.Decode(&cfg); err != nil {
		return pipeline.Output{}, err
	}
	s, err := email.New(cfg, email.Options{Name: oc.Name, DataDir: env.DataDir, Logger: env.Logger, Now: env.Now})
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	stats := func() map[string]int64 {
		st := s.Stats()
		return map[string]int64{"accepted": st.Accepted, "sent": st.Sent, "messages": st.Messages,
			"retries": st.Retries, "dead_lettered": st.Failed, "refused_recipients": st.RefusedRecipients,
			"dropped": st.Dropped, "buffered": st.Buffered}
	}
	return remoteOutput(oc, env, s, stats, suppress.Config{}, spool.Config{}, cfg.Filter())
}

// newSearchOutput builds the opensearch or elasticsearch output (the product
// decides the template's field types).
func newSearchOutput(product opensearch.Product) outputFactory {
	return func(oc config.OutputConfig, env Env) (pipeline.Output, error) {
		w, err := decodeSpooled[opensearch.Config](oc, opensearch.DefaultConfig())
		if err != nil {
			return pipeline.Output{}, err
		}
		s, err := opensearch.New(w.Out, opensearch.Options{Product: product, Name: oc.Name, DataDir: env.DataDir, Logger: env.Logger})
		if err != nil {
			return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
		}
		stats := func() map[string]int64 {
			st := s.Stats()
			var installed int64
			if st.TemplateInstalled {
				installed = 1
			}
			return map[string]int64{"accepted": st.Accepted, "coalesced": st.Coalesced, "refused": st.Refused,
				"sent": st.Sent, "existing": st.Existing, "dead_lettered": st.DeadLettered, "dropped": st.Dropped,
				"retries": st.Retries, "requests": st.Requests, "request_errors": st.RequestErrors, "bytes_sent": st.BytesSent,
				"failed_flushes": st.Failed, "buffered": st.Buffered, "buffered_bytes": st.BufferedBytes,
				"template_installed": installed, "template_errors": st.TemplateErrors}
		}
		return remoteOutput(oc, env, s, stats, suppress.Config{}, w.Spool, w.Out.Filter())
	}
}

// newStoreOutput writes alerts to the embedded store, which the API shares.
func newStoreOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	cfg := storesink.DefaultConfig()
	if err := oc.Decode(&cfg); err != nil {
		return pipeline.Output{}, err
	}
	if cfg.Path == "" {
		cfg.Path = config.Path(filepath.Join(env.DataDir, storesink.DefaultFile))
	}
	opt := cfg.StoreOptions()
	opt.Logger = env.Logger
	st, err := env.OpenStore(string(cfg.Path), opt)
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	s, err := storesink.New(st, cfg)
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	stats := func() map[string]int64 {
		st := s.Stats()
		return map[string]int64{"accepted": st.Accepted, "stored": st.Stored, "duplicates": st.Duplicates,
			"rejected": st.Rejected, "failed_inserts": st.Failed, "buffered": st.Buffered, "dropped": st.Dropped}
	}
	return pipeline.Output{Name: oc.Name, Sink: counted{s, stats}, Filter: cfg.Filter()}, nil
}
