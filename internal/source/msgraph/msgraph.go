// Package msgraph is the "ms-graph" source: Microsoft Graph v1.0 collections
// (Entra ID audit and sign-in logs, Defender alerts, Identity Protection risk
// detections, ...) read in time windows, page by page along @odata.nextLink,
// and sent as Wazuh's modules send them: audit logs and sign-ins in the
// azure-logs module's shape ("azure_tag":"azure-ad-graph", location Azure),
// alerts and risk detections in the ms-graph module's shape
// ({"integration":"ms-graph",...}, location ms-graph).
//
// Each window starts a lookback before the end of the last complete one, so
// records Graph makes visible late are still read, and the versions already
// delivered in that overlap are remembered by id and time, so none is sent
// twice. A window's end becomes the checkpoint only when all its batches are
// acknowledged.
package msgraph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// timeLayout writes OData DateTimeOffset literals to Graph's precision (100 ns).
const timeLayout = "2006-01-02T15:04:05.0000000Z"

// Settings are what the wiring layer passes besides the component's own config.
type Settings struct {
	Name      string
	State     *checkpoint.Store
	Logger    *slog.Logger
	AgentName string // manager name, reported as the agent of the events
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// HTTPClient carries Graph and sign-in requests (nil: http.DefaultClient).
	HTTPClient *http.Client
	// Retry is how Graph calls are retried (zero: DefaultRetry).
	Retry retry.Policy
	// Sleep waits out a Retry-After (nil: a timer that ctx interrupts).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Source reads Graph collections, one pass per Run.
type Source struct {
	name   string
	cfg    Config
	state  *checkpoint.Store
	log    *slog.Logger
	now    func() time.Time
	agent  string
	api    *client
	base   string
	stats  struct{ units, events, errors, skipped atomic.Int64 }
	pass   struct{ done, total atomic.Int64 } // windows of the current pass, or of the last
	flight source.Inflight
	newest source.NewestTime

	mu    sync.Mutex // guards units and their windows
	units map[string]*unitState
}

var (
	_ source.Source           = (*Source)(nil)
	_ source.Committer        = (*Source)(nil)
	_ source.StatsReporter    = (*Source)(nil)
	_ source.ProgressReporter = (*Source)(nil)
	_ source.Scheduled        = (*Source)(nil)
)

// New returns a Graph source. It makes no network call: the credential signs
// in on the first request.
func New(cfg Config, s Settings) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.HTTPClient == nil {
		s.HTTPClient = http.DefaultClient
	}
	if s.Retry == (retry.Policy{}) {
		s.Retry = DefaultRetry
	}
	if s.Sleep == nil {
		s.Sleep = sleepCtx
	}
	src := &Source{name: s.Name, cfg: cfg, state: s.State, log: s.Logger, now: s.Now, agent: s.AgentName,
		base: cfg.graphBase()}
	src.api = &client{cfg: &src.cfg, hc: s.HTTPClient, policy: s.Retry, sleep: s.Sleep,
		maxWait: cfg.MaxRetryAfter.Std(), tokenScope: cfg.Azure.CloudEndpoints().Graph}
	// Resolve the credential now, so a missing certificate file fails at start.
	if _, _, err := src.api.credential(); err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	return src, nil
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.name }

// Interval is the configured time between passes in service mode.
func (s *Source) Interval() time.Duration { return s.cfg.Interval.Std() }

// Stats returns the source's counters: units are windows read, skipped are
// records already delivered, errors are failed resources and bad records.
func (s *Source) Stats() source.Stats {
	return source.Stats{Units: s.stats.units.Load(), Events: s.stats.events.Load(),
		Errors: s.stats.errors.Load(), Skipped: s.stats.skipped.Load(), Newest: s.newest.Time()}
}

// Progress reports the windows of the current pass read so far, over the
// windows it needs: each resource's backlog from its cursor to the time of the
// pass, in max_window steps. It is zero before the first pass and keeps the last
// pass's count after it ends; a failed resource's remaining windows count as done.
func (s *Source) Progress() source.Progress {
	return source.Progress{Done: s.pass.done.Load(), Total: s.pass.total.Load(), Unit: "windows"}
}

// Run does one pass over every resource, up to the time of the pass. It first
// waits for the previous pass's batches to be acknowledged. A failing resource
// does not stop the others; the errors are returned together.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	if err := s.flight.Wait(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	var err error
	if s.units == nil {
		err = s.load()
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	now := s.now().UTC()
	planned := make([]int64, len(s.cfg.Resources))
	s.mu.Lock()
	var total int64
	for i, r := range s.cfg.Resources {
		planned[i] = s.windowsTo(r, now)
		total += planned[i]
	}
	s.mu.Unlock()
	s.pass.done.Store(0)
	s.pass.total.Store(total)
	var errs []error
	for i, r := range s.cfg.Resources {
		read, err := s.collect(ctx, r, now, planned[i], emit)
		if read < planned[i] {
			s.pass.done.Add(planned[i] - read) // the pass is done with this resource
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.stats.errors.Add(1)
		s.log.Warn("ms-graph: resource failed", "source", s.name, "resource", r.unitKey(), "err", err)
		errs = append(errs, err)
	}
	if s.flight.Count() == 0 {
		if err := s.Commit(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// firstEnd is the cursor of a resource without a checkpoint.
func (s *Source) firstEnd(now time.Time) time.Time {
	first, _ := parseDate(s.cfg.OnlyLogsAfter)
	if first.IsZero() {
		first = now.Truncate(24 * time.Hour)
	}
	return first
}

// windowsTo is how many windows collect reads for r up to now: the span from
// its cursor to now in max_window steps, rounded up, or one when only the
// lookback lies before now. Called with the lock held.
func (s *Source) windowsTo(r Resource, now time.Time) int64 {
	end, floor := s.firstEnd(now), time.Time{}
	if u := s.units[r.unitKey()]; u != nil && !u.end.IsZero() {
		end, floor = u.end, u.floor
	}
	if floor.IsZero() {
		floor = end
	}
	if after, _ := parseDate(s.cfg.OnlyLogsAfter); after.After(floor) {
		floor = after
	}
	if span := now.Sub(end); span > 0 {
		mw := s.cfg.MaxWindow.Std()
		return int64((span + mw - 1) / mw)
	}
	u := unitState{end: end, floor: floor}
	if now.After(u.start(s.cfg.Lookback.Std())) {
		return 1
	}
	return 0
}

// collect reads a resource's windows up to now and returns how many it read to
// the end. A backlog longer than max_window is read in several windows; each is
// settled (its batches acknowledged) before the next, so the versions
// remembered stay bounded. planned is the pass's count of the resource's
// windows (windowsTo): a window past it, which a cursor moved meanwhile could
// cause, is added to the pass's total.
func (s *Source) collect(ctx context.Context, r Resource, now time.Time, planned int64, emit source.Emit) (read int64, err error) {
	sh := newShaper(r)
	for {
		s.mu.Lock()
		u := s.unit(r.unitKey())
		if u.end.IsZero() {
			first := s.firstEnd(now)
			u.end, u.floor, u.dirty = first, first, true
		}
		if after, _ := parseDate(s.cfg.OnlyLogsAfter); after.After(u.floor) {
			u.floor = after // raised later: what lies before it is skipped
		}
		from := u.start(s.cfg.Lookback.Std())
		to := now
		if lim := u.end.Add(s.cfg.MaxWindow.Std()); lim.Before(to) {
			to = lim
		}
		w := newWindow(from, to)
		u.win = w
		s.mu.Unlock()
		if !to.After(from) {
			s.finish(u, w, nil)
			return read, nil
		}
		s.stats.units.Add(1)
		err := s.readWindow(ctx, r, sh, u, w, emit)
		s.finish(u, w, err)
		if err != nil {
			return read, err
		}
		if read++; read > planned {
			s.pass.total.Add(1)
		}
		s.pass.done.Add(1)
		if !to.Before(now) {
			return read, nil
		}
		if err := w.wait(ctx); err != nil {
			return read, err
		}
		if w.failed {
			return read, fmt.Errorf("%s: window %s..%s: a batch was not acknowledged", r.unitKey(), from.Format(timeLayout), to.Format(timeLayout))
		}
		s.mu.Lock()
		moved := !u.end.Before(to)
		s.mu.Unlock()
		if !moved {
			return read, nil // cannot happen when settle works; never loop on the same window
		}
	}
}

// finish closes the window's listing; a failed listing keeps the cursor.
func (s *Source) finish(u *unitState, w *window, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.listed, w.failed = true, w.failed || err != nil
	u.settle(w, s.cfg.Lookback.Std())
}

// query is the first page's URL of a window.
func (s *Source) query(r Resource, from, to time.Time) string {
	f := fmt.Sprintf("%s ge %s and %s le %s", r.TimeField, from.UTC().Format(timeLayout), r.TimeField, to.UTC().Format(timeLayout))
	if r.Filter != "" {
		f += " and (" + r.Filter + ")"
	}
	q := url.Values{"$filter": {f}, "$top": {fmt.Sprint(s.cfg.PageSize)}}
	return s.base + "/v1.0/" + r.Resource + "?" + q.Encode()
}

// readWindow lists one window page by page, each page's new records one batch.
func (s *Source) readWindow(ctx context.Context, r Resource, sh shaper, u *unitState, w *window, emit source.Emit) error {
	next := s.query(r, w.from, w.to)
	for n := 1; next != ""; n++ {
		p, err := s.api.get(ctx, next)
		if err != nil {
			return fmt.Errorf("%s: page %d: %w", r.unitKey(), n, err)
		}
		if err := s.emitPage(ctx, r, sh, u, w, n, p, emit); err != nil {
			return err
		}
		next = p.Next
		if next != "" && !sameOrigin(next, s.base) {
			return fmt.Errorf("%s: page %d: @odata.nextLink leaves the endpoint %s: %s", r.unitKey(), n, s.base, next)
		}
	}
	return nil
}

// emitPage turns one page into a batch, leaving out versions already delivered
// and records that cannot be read (counted and logged with their position).
func (s *Source) emitPage(ctx context.Context, r Resource, sh shaper, u *unitState, w *window, n int, p *page, emit source.Emit) error {
	b := source.NewBatch()
	var got []record
	var buf bytes.Buffer
	for i, raw := range p.Value {
		buf.Reset()
		rec, err := sh.shape(&buf, raw)
		if err != nil {
			s.stats.errors.Add(1)
			s.log.Warn("ms-graph: record skipped", "source", s.name, "resource", r.unitKey(), "page", n, "index", i, "err", err)
			continue
		}
		k := rec.key()
		s.mu.Lock()
		_, seen := u.seen[k]
		dup := seen || w.sent[k]
		w.sent[k] = true
		s.mu.Unlock()
		if dup {
			s.stats.skipped.Add(1)
			continue
		}
		s.newest.Observe(rec.when)
		b.Add(event.Event{
			Location: sh.location(), AgentID: event.LocalAgentID, AgentName: s.agent, Received: s.now(),
			Origin: event.Origin{Source: s.name, Unit: r.unitKey() + "/" + rec.id, Offset: rec.when.UnixNano()},
		}, buf.Bytes())
		got = append(got, rec)
	}
	if len(got) == 0 {
		source.Release(b)
		return nil
	}
	s.stats.events.Add(int64(len(got)))
	s.mu.Lock()
	w.pending++
	s.mu.Unlock()
	err := s.flight.Emit(ctx, emit, b, func(err error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.pending--
		if err != nil {
			w.failed = true
		} else {
			for _, rec := range got {
				u.seen[rec.key()], u.newSeen[rec.key()] = rec.when, rec.when
			}
		}
		u.settle(w, s.cfg.Lookback.Std())
	})
	if err != nil {
		return fmt.Errorf("%s: page %d: %w", r.unitKey(), n, err)
	}
	return nil
}
