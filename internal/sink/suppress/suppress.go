// Package suppress wraps an output so that a burst of the same alert pages
// once: the first alert of a key (rule id plus configured summary fields) goes
// out at once, later ones within the window are counted, and when the window
// closes one follow-up goes out saying how many were held back.
//
// The follow-up is the last held-back alert with a top-level "suppressed"
// object added (see FollowUp). State is in memory; see README.md for what a
// restart does.
package suppress

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// maxTrackedIDs bounds the ids of held-back alerts remembered (about 100 bytes
// each), used to recognise an alert the pipeline delivers again so it is not
// counted twice. Past it, alerts are still counted, but a redelivered copy
// would be counted again.
const maxTrackedIDs = 100000

// maxQueued bounds the records kept while the wrapped output refuses them.
const maxQueued = 10000

// ErrClosed is returned by calls after Close.
var ErrClosed = errors.New("suppress: output is closed")

// FollowUp is the "suppressed" object added to a follow-up alert.
type FollowUp struct {
	// Count is how many alerts with this key were held back in the window.
	Count int `json:"count"`
	// First and Last are the timestamps of the first and last of them, as the
	// alerts give them.
	First string `json:"first"`
	Last  string `json:"last"`
	// Window is the configured window ("10m").
	Window string `json:"window"`
	// NotifiedID is the id of the alert that went out when the window opened.
	NotifiedID string `json:"notified_id"`
	// Key holds the values the alerts had in common (rule_id, principal, ...).
	Key map[string]string `json:"key"`
}

// Parse returns the follow-up object of an alert, if it is a follow-up.
func Parse(alertJSON []byte) (FollowUp, bool) {
	if !bytes.Contains(alertJSON, []byte(`"suppressed"`)) {
		return FollowUp{}, false
	}
	var a struct {
		Suppressed *FollowUp `json:"suppressed"`
	}
	if json.Unmarshal(alertJSON, &a) != nil || a.Suppressed == nil {
		return FollowUp{}, false
	}
	return *a.Suppressed, true
}

// Options are the collaborators of the wrapper.
type Options struct {
	// Now is the clock windows are measured with (default time.Now).
	Now func() time.Time
}

// Stats are the wrapper's counters. Every alert written is Passed, Suppressed
// or a Duplicate; Suppressed = FollowedUp + Pending.
type Stats struct {
	// Passed counts alerts handed on at once (first of their window, a
	// repeat of that first alert, or an alert that could not be read).
	Passed int64
	// Suppressed counts alerts held back and counted.
	Suppressed int64
	// Duplicates counts redelivered copies of alerts already counted.
	Duplicates int64
	// FollowUps counts follow-up alerts handed on; FollowedUp the held-back
	// alerts they covered.
	FollowUps, FollowedUp int64
	// Evicted counts windows closed early because max_keys was reached.
	Evicted int64
	// Pending is the number of held-back alerts not yet in a follow-up.
	Pending int64
	// Keys is the number of open windows.
	Keys int64
	// Queued is the number of records waiting for the wrapped output to take
	// them (it refused the last Write).
	Queued int64
}

type counters struct {
	passed, suppressed, duplicates, followUps, followedUp, evicted, pending, keys, queued atomic.Int64
}

// window is the state of one key.
type window struct {
	key        string
	values     map[string]string
	start      time.Time
	notifiedID string
	count      int
	first      string
	last       sink.Record // a copy of the last held-back alert
	lastTS     string
	ids        map[string]struct{}
	elem       *list.Element
}

// Sink is the suppressing wrapper. Write, Flush and Close are meant for one
// goroutine; Stats may be called from any.
type Sink struct {
	inner  sink.Sink
	window time.Duration
	max    int
	fields []field
	now    func() time.Time

	open      map[string]*window
	order     list.List // windows by start time, oldest first: the order they close in
	tracked   int
	outbox    []sink.Record // owned copies the inner sink has not taken yet
	queuedIDs map[string]struct{}
	closed    bool
	stats     counters
}

var _ sink.Sink = (*Sink)(nil)

// New wraps inner. cfg must be Enabled.
func New(inner sink.Sink, cfg Config, opts Options) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("suppress: %w", err)
	}
	if !cfg.Enabled() {
		return nil, errors.New("suppress: suppress.window is not set")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sink{
		inner:     inner,
		window:    cfg.Window.Std(),
		max:       cfg.MaxKeys,
		fields:    cfg.keyFields(),
		now:       opts.Now,
		open:      map[string]*window{},
		queuedIDs: map[string]struct{}{},
	}, nil
}

// Write decides for each alert whether it goes out now or is counted, closes
// the windows that have ended (queueing their follow-ups), and hands what goes
// out to the wrapped output. If the wrapped output refuses, the records stay
// queued and are offered again at the next Write and at Flush, which reports
// the refusal; Write itself then still succeeds, so the pipeline never writes
// a batch twice because of it. Only when maxQueued records are stuck does
// Write refuse, before looking at the batch, so a retried batch is counted
// once.
func (s *Sink) Write(ctx context.Context, alerts []sink.Record) error {
	if s.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(s.outbox) >= maxQueued {
		if err := s.drain(ctx); err != nil {
			return fmt.Errorf("suppress: %d records waiting for the output: %w", len(s.outbox), err)
		}
	}
	now := s.now()
	s.expire(now)
	for i := range alerts {
		s.take(&alerts[i], now)
	}
	_ = s.drain(ctx) // a refusal is reported by Flush; the records stay queued
	return nil
}

// take handles one alert.
func (s *Sink) take(r *sink.Record, now time.Time) {
	sum, err := alert.Summarize(r.JSON)
	if err != nil {
		s.pass(r) // unreadable: never hold back what cannot be keyed
		return
	}
	key, values := s.keyOf(r, &sum)
	w := s.open[key]
	switch {
	case w == nil:
		if len(s.open) >= s.max {
			s.stats.evicted.Add(1)
			s.close(s.order.Front().Value.(*window))
		}
		w = &window{key: key, values: values, start: now, notifiedID: r.ID}
		w.elem = s.order.PushBack(w)
		s.open[key] = w
		s.stats.keys.Add(1)
		s.pass(r)
	case r.ID != "" && r.ID == w.notifiedID:
		s.pass(r) // a source delivering the first one again: at least once
	case w.seen(r.ID):
		s.stats.duplicates.Add(1)
	default:
		ts := timestamp(&sum, now)
		if w.count == 0 {
			w.first = ts
		}
		w.count++
		w.lastTS = ts
		w.last = copyRecord(r)
		if r.ID != "" && s.tracked < maxTrackedIDs {
			if w.ids == nil {
				w.ids = map[string]struct{}{}
			}
			w.ids[r.ID] = struct{}{}
			s.tracked++
		}
		s.stats.suppressed.Add(1)
		s.stats.pending.Add(1)
	}
}

func (w *window) seen(id string) bool {
	_, ok := w.ids[id]
	return id != "" && ok
}

func (s *Sink) keyOf(r *sink.Record, sum *alert.Summary) (string, map[string]string) {
	var b strings.Builder
	values := make(map[string]string, len(s.fields))
	for _, f := range s.fields {
		v := f.get(r, sum)
		values[f.name] = v
		// Length-prefixed, so no choice of values (an attacker names
		// principals) can make two different keys read the same.
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	return b.String(), values
}

func timestamp(sum *alert.Summary, now time.Time) string {
	if sum.Timestamp.IsZero() {
		return now.Format(alert.TimeLayout)
	}
	return sum.Timestamp.Format(alert.TimeLayout)
}

func (s *Sink) pass(r *sink.Record) {
	if _, dup := s.queuedIDs[r.ID]; dup && r.ID != "" {
		s.stats.duplicates.Add(1) // already queued, not yet taken by the output
		return
	}
	s.stats.passed.Add(1)
	s.queue(copyRecord(r))
}

func (s *Sink) queue(r sink.Record) {
	s.outbox = append(s.outbox, r)
	s.queuedIDs[r.ID] = struct{}{}
	s.stats.queued.Add(1)
}

// expire closes the windows that ended at or before now. Windows all have the
// same length, so they end in the order they started.
func (s *Sink) expire(now time.Time) {
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		w := e.Value.(*window)
		if now.Before(w.start.Add(s.window)) {
			return
		}
		s.close(w)
	}
}

// close forgets w, queueing its follow-up when it held anything back.
func (s *Sink) close(w *window) {
	s.order.Remove(w.elem)
	delete(s.open, w.key)
	s.tracked -= len(w.ids)
	s.stats.keys.Add(-1)
	if w.count == 0 {
		return
	}
	f := FollowUp{Count: w.count, First: w.first, Last: w.lastTS, Window: windowString(s.window), NotifiedID: w.notifiedID, Key: w.values}
	r := w.last
	r.JSON = withFollowUp(r.JSON, &f)
	s.queue(r)
	s.stats.followUps.Add(1)
	s.stats.followedUp.Add(int64(w.count))
	s.stats.pending.Add(-int64(w.count))
}

// withFollowUp adds "suppressed":f as the last member of the alert object.
func withFollowUp(alertJSON []byte, f *FollowUp) []byte {
	obj, _ := json.Marshal(f) // a struct of strings, ints and a string map: cannot fail
	j := bytes.TrimRight(alertJSON, " \t\r\n")
	if len(j) < 2 || j[len(j)-1] != '}' {
		// Not an object; Summarize would have refused it, so this is not reached.
		return alertJSON
	}
	body := bytes.TrimSpace(j[1 : len(j)-1])
	out := make([]byte, 0, len(j)+len(obj)+16)
	out = append(out, j[:len(j)-1]...)
	if len(body) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"suppressed":`...)
	out = append(out, obj...)
	return append(out, '}')
}

func copyRecord(r *sink.Record) sink.Record {
	return sink.Record{JSON: slices.Clone(r.JSON), ID: r.ID, Level: r.Level, RuleID: r.RuleID, Groups: slices.Clone(r.Groups)}
}

// drain hands the queued records to the wrapped output.
func (s *Sink) drain(ctx context.Context) error {
	if len(s.outbox) == 0 {
		return nil
	}
	if err := s.inner.Write(ctx, s.outbox); err != nil {
		return err
	}
	s.stats.queued.Add(-int64(len(s.outbox)))
	clear(s.outbox)
	s.outbox = s.outbox[:0]
	clear(s.queuedIDs)
	return nil
}

// Flush closes the windows that have ended, hands their follow-ups and
// anything still queued to the wrapped output, and flushes it. Windows still
// open keep their counts: those alerts are acknowledged to their sources now
// and reported by the follow-up later (see README.md on restarts).
func (s *Sink) Flush(ctx context.Context) error {
	if s.closed {
		return ErrClosed
	}
	s.expire(s.now())
	if err := s.drain(ctx); err != nil {
		return err
	}
	return s.inner.Flush(ctx)
}

// Close sends the follow-ups of every open window, as a shutdown would
// otherwise lose their counts, then closes the wrapped output.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		s.close(e.Value.(*window))
	}
	err := s.drain(context.Background())
	s.closed = true
	return errors.Join(err, s.inner.Close())
}

// Stats returns a snapshot of the counters.
func (s *Sink) Stats() Stats {
	c := &s.stats
	return Stats{
		Passed: c.passed.Load(), Suppressed: c.suppressed.Load(), Duplicates: c.duplicates.Load(),
		FollowUps: c.followUps.Load(), FollowedUp: c.followedUp.Load(), Evicted: c.evicted.Load(),
		Pending: c.pending.Load(), Keys: c.keys.Load(), Queued: c.queued.Load(),
	}
}

// Inner returns the wrapped output, e.g. to read its own Stats.
func (s *Sink) Inner() sink.Sink { return s.inner }
