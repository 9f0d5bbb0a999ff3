// Package sink defines where alerts go: the Sink interface that every output
// (alerts.json file, alert store, search index, webhook, ...) implements, the
// Record it receives, and the Filter that selects which alerts an output takes.
//
// The pipeline calls Write with batches of encoded alerts and then Flush. It
// acknowledges the source units those alerts came from only after Flush returned
// nil on every sink, which is what makes delivery at-least-once: an alert that a
// sink lost before a successful Flush is produced again from the unacknowledged
// unit. An error from Write or Flush means "not accepted"; the pipeline retries
// or blocks, and never acknowledges past it.
package sink

import (
	"context"
	"slices"
)

// Sink receives encoded alerts. Write may buffer; Flush makes everything written
// so far durable (for files: written and fsynced) — the pipeline acknowledges
// source units only after Flush returns nil on every sink. Close flushes and
// releases the sink; it is called once, after the last Write.
type Sink interface {
	Write(ctx context.Context, alerts []Record) error
	Flush(ctx context.Context) error
	Close() error
}

// Record is one alert ready to deliver.
type Record struct {
	// JSON is the alert as one compact JSON object (no newline).
	JSON []byte
	// ID is the deterministic alert id.
	ID string
	// Level is the rule level.
	Level int
	// RuleID is the id of the rule that fired.
	RuleID string
	// Groups are the rule's groups.
	Groups []string
}

// Filter selects the alerts a sink takes; the zero value takes all. Every set
// condition must hold: Level within [MinLevel, MaxLevel] (0 means no bound),
// RuleID in RuleIDs (when not empty), at least one of Groups (when not empty),
// and none of ExcludeGroups.
type Filter struct {
	MinLevel, MaxLevel int
	RuleIDs            []string
	Groups             []string
	ExcludeGroups      []string
}

// Match reports whether the filter takes r.
func (f Filter) Match(r *Record) bool {
	if f.MinLevel > 0 && r.Level < f.MinLevel {
		return false
	}
	if f.MaxLevel > 0 && r.Level > f.MaxLevel {
		return false
	}
	if len(f.RuleIDs) > 0 && !slices.Contains(f.RuleIDs, r.RuleID) {
		return false
	}
	if len(f.Groups) > 0 && !anyIn(r.Groups, f.Groups) {
		return false
	}
	return !anyIn(r.Groups, f.ExcludeGroups)
}

// IsZero reports whether the filter takes every alert, so sinks can skip it.
func (f Filter) IsZero() bool {
	return f.MinLevel <= 0 && f.MaxLevel <= 0 && len(f.RuleIDs) == 0 && len(f.Groups) == 0 && len(f.ExcludeGroups) == 0
}

func anyIn(have, want []string) bool {
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}
