// Package azurela is the "azure-log-analytics" source: the rows a KQL query
// returns from Log Analytics workspaces, read window by window through the
// query API (the SDK's azlogs client) and sent as Wazuh's azure-logs module
// sends them: a flat object of the row's columns plus "azure_tag":
// "azure-log-analytics" and "log_analytics_tag", at location Azure.
//
// Each pass of a workspace asks for the time window from its checkpoint (less
// an overlap, for rows ingested late) to now less a delay. A reply the service
// truncated (PartialError, or as many rows as its limit) is thrown away and its
// window asked again in halves, so no row is dropped; rows delivered before are
// recognised by a stable key and skipped, so the overlap doubles nothing.
package azurela

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Location is the events' location, as Wazuh's azure-logs module writes it.
const Location = "Azure"

// DefaultRowLimit is the query API's bound on the rows of one reply.
const DefaultRowLimit = 500000

// DefaultRetry is how queries are retried unless Settings.Retry says otherwise.
var DefaultRetry = retry.Policy{Initial: time.Second, Max: 30 * time.Second, Attempts: 8}

// maxRetryAfter caps how long one Retry-After is honoured.
const maxRetryAfter = 2 * time.Minute

// Settings are what the wiring layer passes besides the component's own config.
type Settings struct {
	Name      string
	State     *checkpoint.Store
	Logger    *slog.Logger
	AgentName string // manager name, reported as the agent of the events
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// HTTPClient carries the token and query requests (nil: the SDK's default).
	HTTPClient *http.Client
	// Retry is how queries are retried (zero: DefaultRetry).
	Retry retry.Policy
	// Sleep waits out a Retry-After (nil: a timer); tests record instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// RowLimit is the reply size at which a reply is taken as truncated even
	// without a PartialError (0: DefaultRowLimit).
	RowLimit int
}

// Source reads Log Analytics query results, one pass per Run.
type Source struct {
	name   string
	cfg    Config
	tag    string
	state  *checkpoint.Store
	log    *slog.Logger
	now    func() time.Time
	agent  string
	api    *client
	retry  retry.Policy
	sleep  func(ctx context.Context, d time.Duration) error
	limit  int
	flight source.Inflight
	stats  struct{ units, events, errors, skipped, splits, passDone, passTotal atomic.Int64 }
	newest source.NewestTime

	mu      sync.Mutex // guards the streams' state and windows
	loaded  bool
	streams []*stream
}

var (
	_ source.Source           = (*Source)(nil)
	_ source.Committer        = (*Source)(nil)
	_ source.StatsReporter    = (*Source)(nil)
	_ source.ProgressReporter = (*Source)(nil)
	_ source.Scheduled        = (*Source)(nil)
)

// New returns a Log Analytics source. It builds the credential (no network
// call: the token is fetched on first use).
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
	if s.Retry == (retry.Policy{}) {
		s.Retry = DefaultRetry
	}
	if s.Sleep == nil {
		s.Sleep = sleep
	}
	if s.RowLimit <= 0 {
		s.RowLimit = DefaultRowLimit
	}
	api, err := newClient(&cfg, s.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	src := &Source{name: s.Name, cfg: cfg, tag: cfg.Tag, state: s.State, log: s.Logger, now: s.Now,
		agent: s.AgentName, api: api, retry: s.Retry, sleep: s.Sleep, limit: s.RowLimit}
	if src.tag == "" {
		src.tag = s.Name
	}
	src.api.cfg = &src.cfg
	for _, ws := range cfg.AllWorkspaces() {
		src.streams = append(src.streams, newStream(streamID(ws, cfg.Query), ws))
	}
	return src, nil
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.name }

// Interval is the configured time between passes in service mode.
func (s *Source) Interval() time.Duration { return s.cfg.Interval.Std() }

// Stats returns the source's counters: units are queries sent (a truncated
// window costs more than one), skipped are rows already delivered.
func (s *Source) Stats() source.Stats {
	return source.Stats{Units: s.stats.units.Load(), Events: s.stats.events.Load(),
		Errors: s.stats.errors.Load(), Skipped: s.stats.skipped.Load(), Newest: s.newest.Time()}
}

// Progress reports the workspaces done in the current pass.
func (s *Source) Progress() source.Progress {
	return source.Progress{Done: s.stats.passDone.Load(), Total: s.stats.passTotal.Load(), Unit: "workspaces"}
}

// Run does one pass over every workspace. It first waits for the previous
// pass's batches to be acknowledged. A failing workspace does not stop the
// others; the errors are returned together.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	if err := s.flight.Wait(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	if !s.loaded {
		if err := s.load(); err != nil {
			s.mu.Unlock()
			return err
		}
		s.loaded = true
	}
	s.mu.Unlock()
	s.stats.passDone.Store(0)
	s.stats.passTotal.Store(int64(len(s.streams)))
	var errs []error
	for _, st := range s.streams {
		err := s.pass(ctx, st, emit)
		s.stats.passDone.Add(1)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.stats.errors.Add(1)
		s.log.Warn("azure-log-analytics: workspace pass failed", "source", s.name, "workspace", st.workspace, "err", err)
		errs = append(errs, err)
	}
	if s.flight.Count() == 0 {
		// No acknowledgement will call Commit: write what the pass settled
		// without a batch (a first cursor, an empty window).
		if err := s.Commit(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pass reads one workspace's window.
func (s *Source) pass(ctx context.Context, st *stream, emit source.Emit) error {
	now := s.now().UTC()
	to := now.Add(-s.cfg.Delay.Std()).Truncate(time.Millisecond)
	s.mu.Lock()
	fresh := st.cursor.IsZero()
	if fresh {
		off, _ := ParseOffset(s.cfg.TimeOffset)
		first := now.Truncate(24 * time.Hour)
		if off > 0 {
			first = now.Add(-off)
		}
		st.cursor = first.Truncate(time.Millisecond)
		// Stored at once, so a restart after a crash, later than time_offset
		// reaches, does not skip the gap.
		if s.state != nil {
			b, _ := json.Marshal(cursorValue{Workspace: st.workspace, Cursor: st.cursor})
			if err := s.state.Put(s.name, cursorPrefix+st.id, b); err != nil {
				st.cursor = time.Time{}
				s.mu.Unlock()
				return fmt.Errorf("source %s: store the first cursor: %w", s.name, err)
			}
		}
	}
	from := st.cursor.Add(-s.cfg.Overlap.Std())
	if fresh {
		from = st.cursor // nothing before a first window was read
	}
	w := &window{sent: map[rowKey]bool{}}
	st.win = w
	s.mu.Unlock()
	if !to.After(st.cursor) {
		return nil // nothing new yet past the delay
	}
	// On an error the leaves read so far still settle when acknowledged: they
	// are contiguous from the window's start, so the cursor stops where the
	// reading stopped.
	return s.read(ctx, st, w, from, to, emit)
}

// read queries [from, to) and emits its rows; a truncated reply is discarded
// and both halves are read instead, first to last.
func (s *Source) read(ctx context.Context, st *stream, w *window, from, to time.Time, emit source.Emit) error {
	t, err := s.query(ctx, st.workspace, from, to)
	if err != nil {
		return fmt.Errorf("query workspace %s for %s/%s: %w", st.workspace, formatTime(from), formatTime(to), err)
	}
	if t.partial != "" || len(t.rows) >= s.limit {
		if t.partial != "" && !isLimit(t.partial) {
			return fmt.Errorf("query workspace %s for %s/%s: partial result: %s", st.workspace, formatTime(from), formatTime(to), t.partial)
		}
		mid := from.Add(to.Sub(from) / 2).Truncate(time.Millisecond)
		if !mid.After(from) {
			return fmt.Errorf("query workspace %s for %s/%s: the reply is truncated even for one millisecond (%d rows)",
				st.workspace, formatTime(from), formatTime(to), len(t.rows))
		}
		s.stats.splits.Add(1)
		s.log.Info("azure-log-analytics: window truncated by the service, reading it in halves", "source", s.name,
			"workspace", st.workspace, "from", formatTime(from), "to", formatTime(to), "rows", len(t.rows))
		t = nil // let the discarded reply go before reading on
		if err := s.read(ctx, st, w, from, mid, emit); err != nil {
			return err
		}
		return s.read(ctx, st, w, mid, to, emit)
	}
	return s.emitRows(ctx, st, w, t, from, to, emit)
}

// isLimit tells a PartialError about one of the service's limits (result size,
// runaway query), which a smaller window avoids, from other partial failures.
func isLimit(partial string) bool {
	p := strings.ToLower(partial)
	for _, s := range []string{"e_query_result_set_too_large", "e_runaway_query", "limit", "exceeded", "truncat"} {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

// query runs one query with retries: throttling and 5xx (waiting out their
// Retry-After), transport errors, a malformed reply, and one 401 (an expired or
// revoked token: the credential is built again).
func (s *Source) query(ctx context.Context, workspace string, from, to time.Time) (*table, error) {
	renewed := false
	var t *table
	err := retry.Do(ctx, s.retry, func(ctx context.Context) error {
		s.stats.units.Add(1)
		body, err := s.api.queryOnce(ctx, workspace, s.cfg.Query, from, to)
		if err != nil {
			var ce *callError
			if !errors.As(err, &ce) {
				return err
			}
			switch {
			case ce.status == http.StatusUnauthorized && !renewed:
				renewed = true
				s.log.Info("azure-log-analytics: token refused, getting a new one", "source", s.name, "workspace", workspace)
				if rerr := s.api.renew(); rerr != nil {
					return retry.Permanent(rerr)
				}
				return ce
			case ce.transient:
				if ce.retryAfter > 0 {
					if serr := s.sleep(ctx, min(ce.retryAfter, maxRetryAfter)); serr != nil {
						return retry.Permanent(serr)
					}
				}
				return ce
			default:
				return retry.Permanent(ce)
			}
		}
		t, err = parseReply(body)
		if err != nil {
			s.stats.errors.Add(1)
			s.log.Warn("azure-log-analytics: malformed reply, asking again", "source", s.name, "workspace", workspace, "err", err)
		}
		return err
	})
	return t, err
}

// emitRows turns the rows of one complete reply into batches, leaving out
// the rows already delivered.
func (s *Source) emitRows(ctx context.Context, st *stream, w *window, t *table, from, to time.Time, emit source.Emit) error {
	l := &leaf{to: to}
	s.mu.Lock()
	w.leaves = append(w.leaves, l)
	s.mu.Unlock()
	wr := newWriter(s.tag)
	var (
		b    *source.Batch
		keys []rowKey
		ms   []int64
		buf  []byte
	)
	flush := func() error {
		if b == nil {
			return nil
		}
		bk, bms, batch := keys, ms, b
		b, keys, ms = nil, nil, nil
		s.mu.Lock()
		l.pending++
		s.mu.Unlock()
		s.stats.events.Add(int64(len(bk)))
		return s.flight.Emit(ctx, emit, batch, func(err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			l.pending--
			if err != nil {
				l.failed = true
			} else {
				for i, k := range bk {
					st.seen[k], st.newSeen[k] = bms[i], bms[i]
				}
			}
			st.settle(w)
		})
	}
	for i, row := range t.rows {
		var out rowOut
		var err error
		buf, out, err = wr.appendEvent(buf[:0], t, row)
		if err != nil {
			s.stats.errors.Add(1)
			s.log.Warn("azure-log-analytics: row skipped", "source", s.name, "workspace", st.workspace,
				"window", formatTime(from)+"/"+formatTime(to), "row", i, "err", err)
			continue
		}
		s.mu.Lock()
		dup := st.delivered(w, out.key)
		w.sent[out.key] = true
		s.mu.Unlock()
		if dup {
			s.stats.skipped.Add(1)
			continue
		}
		at := to
		if !out.time.IsZero() {
			at = out.time
			s.newest.Observe(out.time)
		}
		if b == nil {
			b = source.NewBatch()
		}
		var off int64
		if !out.time.IsZero() {
			off = out.time.UnixNano()
		}
		b.Add(event.Event{
			Location: Location, AgentID: event.LocalAgentID, AgentName: s.agent, Received: s.now(),
			Origin: event.Origin{Source: s.name, Unit: st.workspace + "/" + out.key.String(), Offset: off},
		}, buf)
		keys, ms = append(keys, out.key), append(ms, at.UnixMilli())
		if len(keys) >= s.cfg.BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	s.mu.Lock()
	l.read = true
	st.settle(w)
	s.mu.Unlock()
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
