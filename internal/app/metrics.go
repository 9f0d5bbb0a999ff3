package app

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// metrics exposes the running generation's counters to Prometheus. Values are read
// at scrape time from the pipeline, engine, sources and sinks, so nothing on the
// event path touches Prometheus. Counters restart from zero after a reload, which
// Prometheus' rate() treats as a counter reset.
type metrics struct {
	gen            func() *generation
	reloads        atomic.Int64
	reloadFailures atomic.Int64
	ready          func() bool
	now            func() time.Time
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("skywatch_"+name, help, labels, nil)
}

var (
	mEvents        = desc("events_total", "Events analysed.")
	mAnalyze       = desc("analyze_seconds_total", "Time workers spent decoding and matching events.")
	mAlerts        = desc("alerts_total", "Alerts raised, by rule level.", "level")
	mRuleMatches   = desc("rule_matches_total", "Events a rule matched as the deepest rule (level 0 rules included).", "rule_id")
	mRuleEvals     = desc("rule_evals_sampled_total", "Condition checks of a rule timed in the sampled events (one in 1000 per worker).", "rule_id")
	mRuleEvalTime  = desc("rule_eval_seconds_sampled_total", "Time a rule's condition checks took in the sampled events.", "rule_id")
	mFieldsDropped = desc("engine_fields_dropped_total", "Fields beyond engine.max_fields not extracted.")
	mJSONErrors    = desc("engine_json_errors_total", "Events whose JSON did not parse.")

	mSrcUnits    = desc("source_units_total", "Files, objects or messages a source has read.", "source")
	mSrcEvents   = desc("source_events_total", "Events a source has emitted.", "source")
	mSrcBytes    = desc("source_bytes_total", "Bytes of events a source has emitted.", "source")
	mSrcErrors   = desc("source_errors_total", "Errors a source met (bad objects, failed listings).", "source")
	mSrcSkipped  = desc("source_skipped_total", "Units a source skipped as already done or discarded.", "source")
	mSrcInFlight = desc("source_in_flight_batches", "Batches emitted and not yet acknowledged.", "source")
	mSrcAckErrs  = desc("source_ack_errors_total", "Batches acknowledged with an error (to be read again).", "source")
	mSrcLag      = desc("source_lag_seconds", "Age of the newest data a source has read.", "source")
	mSrcPasses   = desc("source_passes_total", "Passes a polling source has completed.", "source")
	mSrcRunning  = desc("source_pass_running", "1 while a source's pass is running.", "source")
	mSrcLastEnd  = desc("source_last_pass_end_timestamp_seconds", "When the source's last pass ended.", "source")
	mSrcProgress = desc("source_pass_progress_ratio", "Share of the current pass done, for sources that know its size.", "source")

	mOutWritten  = desc("output_alerts_written_total", "Alerts an output accepted.", "output")
	mOutFailed   = desc("output_alerts_failed_total", "Alerts an output refused after retries (their source reads them again).", "output")
	mOutRetries  = desc("output_retries_total", "Repeated Write and Flush calls to an output.", "output")
	mOutFlushErr = desc("output_flush_errors_total", "Flushes that failed after retries.", "output")
	mOutStat     = desc("output_stat", "An output's own counters (buffered, sent, dead-lettered, dropped...).", "output", "stat")

	mReloads     = desc("reloads_total", "Successful configuration reloads.")
	mReloadFails = desc("reload_failures_total", "Reloads refused because the new configuration or rules were invalid.")
	mReady       = desc("ready", "1 when the pipeline is running.")
)

// Describe sends nothing: the collector is unchecked, as its rule and source
// labels change with the configuration.
func (m *metrics) Describe(chan<- *prometheus.Desc) {}

// Collect reads the current counters.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter(mReloads, float64(m.reloads.Load()))
	counter(mReloadFails, float64(m.reloadFailures.Load()))
	ready := 0.0
	if m.ready() {
		ready = 1
	}
	gauge(mReady, ready)
	g := m.gen()
	if g == nil {
		return
	}
	snap := g.p.Stats().Snapshot()
	counter(mEvents, float64(snap.Events))
	counter(mAnalyze, snap.AnalyzeTime.Seconds())
	for lvl, n := range snap.ByLevel {
		if n > 0 {
			counter(mAlerts, float64(n), strconv.Itoa(lvl))
		}
	}
	st := g.eng.Stats()
	counter(mFieldsDropped, float64(st.FieldsDropped))
	counter(mJSONErrors, float64(st.JSONErrors))
	for _, r := range g.eng.RuleStats() {
		id := strconv.Itoa(r.Rule.ID)
		counter(mRuleMatches, float64(r.Fired), id)
		if r.SampledEvals > 0 {
			counter(mRuleEvals, float64(r.SampledEvals), id)
			counter(mRuleEvalTime, r.SampledTime.Seconds(), id)
		}
	}
	pipeSrc := map[string]int{}
	for i, s := range snap.Sources {
		pipeSrc[s.Name] = i
	}
	now := m.now()
	for i, src := range g.sources {
		name := src.Name()
		if j, ok := pipeSrc[name]; ok {
			ps := snap.Sources[j]
			counter(mSrcEvents, float64(ps.Events), name)
			counter(mSrcBytes, float64(ps.Bytes), name)
			gauge(mSrcInFlight, float64(ps.InFlight), name)
			counter(mSrcAckErrs, float64(ps.AckErrors), name)
		}
		if r, ok := src.(source.StatsReporter); ok {
			s := r.Stats()
			counter(mSrcUnits, float64(s.Units), name)
			counter(mSrcErrors, float64(s.Errors), name)
			counter(mSrcSkipped, float64(s.Skipped), name)
			if !s.Newest.IsZero() {
				gauge(mSrcLag, now.Sub(s.Newest).Seconds(), name)
			}
		}
		if r, ok := src.(source.ProgressReporter); ok {
			if p := r.Progress(); p.Total > 0 {
				gauge(mSrcProgress, float64(p.Done)/float64(p.Total), name)
			}
		}
		if g.scheds != nil {
			ps := g.scheds[i].Status()
			counter(mSrcPasses, float64(ps.Passes), name)
			running := 0.0
			if ps.Running {
				running = 1
			}
			gauge(mSrcRunning, running, name)
			if !ps.LastEnd.IsZero() {
				gauge(mSrcLastEnd, float64(ps.LastEnd.UnixNano())/1e9, name)
			}
		}
	}
	for i, o := range snap.Outputs {
		counter(mOutWritten, float64(o.Written), o.Name)
		counter(mOutFailed, float64(o.Failed), o.Name)
		counter(mOutRetries, float64(o.Retries), o.Name)
		counter(mOutFlushErr, float64(o.FlushErrors), o.Name)
		if sr, ok := g.outputs[i].Sink.(outputStats); ok {
			for k, v := range sr.OutputStats() {
				gauge(mOutStat, float64(v), o.Name, k)
			}
		}
	}
}

// outputStats is implemented by the wiring's adapters around sinks that count
// their own work (buffered records, dead letters...).
type outputStats interface {
	OutputStats() map[string]int64
}
