// Package awsinspector is the "aws-inspector" source: Amazon Inspector (v2)
// findings, read with ListFindings filtered on updatedAt, one client per region,
// and sent as Wazuh's AWS module sends them:
// {"integration":"aws","aws":{<finding>,"source":"inspector2"}} at location
// Wazuh-AWS. Each region's checkpoint is the greatest updatedAt fully delivered
// plus the findings delivered at exactly that time, so passes and restarts
// neither lose nor repeat a finding version.
package awsinspector

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Location is the events' location, as Wazuh's AWS module writes it.
const Location = "Wazuh-AWS"

// pageSize is ListFindings' largest page.
const pageSize = 100

// Settings are what the wiring layer passes besides the component's own config.
type Settings struct {
	Name      string
	State     *checkpoint.Store
	Logger    *slog.Logger
	AgentName string // manager name, reported as the agent of the events
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// HTTPClient carries the API calls (nil: the SDK's default client).
	HTTPClient *http.Client
	// Retry is how API calls are retried (zero: awsclient.DefaultRetry).
	Retry retry.Policy
}

// Source reads Inspector findings, one pass per Run.
type Source struct {
	name    string
	cfg     Config
	state   *checkpoint.Store
	log     *slog.Logger
	now     func() time.Time
	agent   string
	sess    *awsclient.Session
	clients []regionClient
	stats   struct{ units, events, errors, skipped atomic.Int64 }
	flight  source.Inflight

	mu      sync.Mutex // guards regions and their windows
	regions map[string]*regionState
}

var (
	_ source.Source        = (*Source)(nil)
	_ source.Committer     = (*Source)(nil)
	_ source.StatsReporter = (*Source)(nil)
)

type regionClient struct {
	region string
	api    *inspector2.Client
}

// New returns an Inspector source. It resolves the credentials configuration
// (no network call: an assumed role is fetched on first use).
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
	sess, err := cfg.AWS.NewSession(context.Background(), s.HTTPClient, cfg.Regions, s.Retry)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	src := &Source{name: s.Name, cfg: cfg, state: s.State, log: s.Logger, now: s.Now, agent: s.AgentName,
		sess: sess}
	for _, r := range sess.Regions {
		api := inspector2.NewFromConfig(sess.Config, func(o *inspector2.Options) {
			o.Region = r
			o.BaseEndpoint = cfg.AWS.BaseEndpoint()
			o.Retryer = aws.NopRetryer{} // retried by Session.Call, with the source's policy
			o.APIOptions = append(o.APIOptions, keepRawBody)
		})
		src.clients = append(src.clients, regionClient{region: r, api: api})
	}
	return src, nil
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.name }

// Interval is the configured time between passes in service mode; the wiring
// reads it through source.Scheduled.
func (s *Source) Interval() time.Duration { return s.cfg.Interval.Std() }

// Stats returns the source's counters: units are region passes, skipped are
// findings already delivered.
func (s *Source) Stats() source.Stats {
	return source.Stats{Units: s.stats.units.Load(), Events: s.stats.events.Load(),
		Errors: s.stats.errors.Load(), Skipped: s.stats.skipped.Load()}
}

// Run does one pass over every region. It first waits for the previous pass's
// batches to be acknowledged. A failing region does not stop the others; the
// errors are returned together.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	return awsclient.Pass(ctx, &s.flight, s.begin, func(yield func(error) bool) {
		for _, c := range s.clients {
			err := s.pass(ctx, c, emit)
			if err != nil && ctx.Err() == nil {
				s.stats.errors.Add(1)
				s.log.Warn("aws-inspector: region pass failed", "source", s.name, "region", c.region, "err", err)
			}
			if !yield(err) {
				return
			}
		}
	}, s.Commit)
}

// begin loads the checkpoints before the first pass.
func (s *Source) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.regions == nil {
		return s.load()
	}
	return nil
}

// start returns where a region's query begins: its cursor, or only_logs_after
// when that is later. A region without a cursor starts at only_logs_after, by
// default 00:00 UTC of the day of its first pass, and keeps that cursor.
func (s *Source) start(r *regionState) int64 {
	after, _ := awsclient.ParseDate(s.cfg.OnlyLogsAfter)
	if r.cursor < 0 {
		first := after
		if first.IsZero() {
			first = s.now().UTC().Truncate(24 * time.Hour)
		}
		r.cursor, r.dirty = first.UnixMilli(), true
	}
	if after.IsZero() {
		return r.cursor
	}
	return max(r.cursor, after.UnixMilli())
}

// pass lists the findings of one region updated since its cursor, page by page,
// and emits each page's new findings as one batch.
func (s *Source) pass(ctx context.Context, c regionClient, emit source.Emit) error {
	s.mu.Lock()
	r := s.region(c.region)
	from := s.start(r)
	to := s.now().UnixMilli()
	w := &window{max: from, atMax: map[string]bool{}, sent: map[string]int64{}}
	r.win = w
	s.mu.Unlock()
	if to < from {
		s.finish(r, w, nil)
		return nil
	}
	s.stats.units.Add(1)
	in := &inspector2.ListFindingsInput{
		MaxResults: aws.Int32(pageSize),
		FilterCriteria: &types.FilterCriteria{UpdatedAt: []types.DateFilter{{
			StartInclusive: aws.Time(time.UnixMilli(from)), EndInclusive: aws.Time(time.UnixMilli(to)),
		}}},
	}
	var err error
	for n := 1; ; n++ {
		var out *inspector2.ListFindingsOutput
		var rb *rawBody
		err = s.sess.Call(ctx, func(ctx context.Context) error {
			var cerr error
			ctx, rb = withRawBody(ctx)
			out, cerr = c.api.ListFindings(ctx, in)
			return cerr
		})
		if err != nil {
			err = fmt.Errorf("list findings in %s (page %d): %w", c.region, n, err)
			break
		}
		if err = s.emitPage(ctx, c.region, r, w, rb.b, emit); err != nil {
			break
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	s.finish(r, w, err)
	return err
}

// finish closes the window's listing; a failed listing keeps the cursor.
func (s *Source) finish(r *regionState, w *window, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.listed, w.failed = true, w.failed || err != nil
	r.settle(w)
}

// emitPage turns the findings of one reply page into a batch, leaving out the
// versions already delivered.
func (s *Source) emitPage(ctx context.Context, region string, r *regionState, w *window, body []byte, emit source.Emit) error {
	var p page
	if err := decodePage(body, &p); err != nil {
		return fmt.Errorf("list findings in %s: %w", region, err)
	}
	type version struct {
		arn     string
		updated int64
	}
	var got []version
	b := source.NewBatch()
	var buf bytes.Buffer
	for _, raw := range p.Findings {
		buf.Reset()
		arn, updated, err := wrapFinding(&buf, raw)
		if err != nil {
			s.stats.errors.Add(1)
			s.log.Warn("aws-inspector: finding skipped", "source", s.name, "region", region, "finding", arn, "err", err)
			continue
		}
		s.mu.Lock()
		w.saw(arn, updated)
		t, sent := w.sent[arn]
		seen := r.delivered(arn, updated) || (sent && t == updated)
		w.sent[arn] = updated
		s.mu.Unlock()
		if seen {
			s.stats.skipped.Add(1)
			continue
		}
		b.Add(event.Event{
			Location: Location, AgentID: event.LocalAgentID, AgentName: s.agent, Received: s.now(),
			Origin: event.Origin{Source: s.name, Unit: region + "/" + arn, Offset: updated * int64(time.Millisecond)},
		}, buf.Bytes())
		got = append(got, version{arn, updated})
	}
	if len(got) == 0 {
		source.Release(b)
		return nil
	}
	s.stats.events.Add(int64(len(got)))
	s.mu.Lock()
	w.pending++
	s.mu.Unlock()
	return s.flight.Emit(ctx, emit, b, func(err error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.pending--
		if err != nil {
			w.failed = true
		} else {
			for _, v := range got {
				r.done[v.arn], r.newDone[v.arn] = v.updated, v.updated
			}
		}
		r.settle(w)
	})
}
