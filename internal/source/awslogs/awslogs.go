// Package awslogs is the "aws-cloudwatch-logs" source: the events of CloudWatch
// Logs log groups, read stream by stream (DescribeLogStreams, then GetLogEvents
// forward from each stream's checkpoint), and sent as they are — the raw message,
// as Wazuh's AWS module sends it — at location Wazuh-AWS. Each stream's position
// (last event time plus the events delivered at that millisecond) is committed
// only after its events are acknowledged, so restarts neither lose nor repeat
// events.
package awslogs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Location is the events' location, as Wazuh's AWS module writes it.
const Location = "Wazuh-AWS"

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

// Source reads CloudWatch Logs groups, one pass per Run.
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

	mu        sync.Mutex // guards the maps below and the streams' trackers
	streams   map[string]*streamState
	starts    map[string]int64
	newStarts map[string]bool
	passes    int
	changed   bool // something may need writing: Commit has work
}

var (
	_ source.Source        = (*Source)(nil)
	_ source.Committer     = (*Source)(nil)
	_ source.StatsReporter = (*Source)(nil)
)

type regionClient struct {
	region string
	api    *cloudwatchlogs.Client
}

// New returns a CloudWatch Logs source. It resolves the credentials
// configuration (no network call: an assumed role is fetched on first use).
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
		sess: sess, newStarts: map[string]bool{}}
	for _, r := range sess.Regions {
		api := cloudwatchlogs.NewFromConfig(sess.Config, func(o *cloudwatchlogs.Options) {
			o.Region = r
			o.BaseEndpoint = cfg.AWS.BaseEndpoint()
			o.Retryer = aws.NopRetryer{} // retried by Session.Call, with the source's policy
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

// Stats returns the source's counters: units are streams read, skipped are
// events already delivered.
func (s *Source) Stats() source.Stats {
	return source.Stats{Units: s.stats.units.Load(), Events: s.stats.events.Load(),
		Errors: s.stats.errors.Load(), Skipped: s.stats.skipped.Load()}
}

// Run does one pass over every log group of every region. It first waits for the
// previous pass's batches to be acknowledged. A failing group or stream does not
// stop the others; the errors are returned together.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	return awsclient.Pass(ctx, &s.flight, s.begin, func(yield func(error) bool) {
		for _, c := range s.clients {
			for _, g := range s.cfg.LogGroups {
				if !yield(s.group(ctx, c, g, emit)) {
					return
				}
			}
		}
	}, s.Commit)
}

// begin loads the checkpoints before the first pass and counts the pass.
func (s *Source) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.streams == nil {
		err = s.load()
	}
	s.passes++
	return err
}

// groupStart returns where streams of a group seen for the first time begin:
// only_logs_after, or midnight UTC of the day the group was first read (kept).
func (s *Source) groupStart(region, group string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	after, _ := awsclient.ParseDate(s.cfg.OnlyLogsAfter)
	key := startKey(region, group)
	if _, ok := s.starts[key]; !ok {
		first := after
		if first.IsZero() {
			first = s.now().UTC().Truncate(24 * time.Hour)
		}
		s.starts[key], s.newStarts[key], s.changed = first.UnixMilli(), true, true
	}
	return max(s.starts[key], after.UnixMilli())
}

// group lists a group's streams page by page and reads each stream with new
// events; then it notes streams that are gone and forgets those gone too long.
func (s *Source) group(ctx context.Context, c regionClient, group string, emit source.Emit) error {
	start := s.groupStart(c.region, group)
	in := &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group)}
	if s.cfg.LogStreamPrefix != "" {
		in.LogStreamNamePrefix = aws.String(s.cfg.LogStreamPrefix)
	}
	var errs []error
	for page := 1; ; page++ {
		var out *cloudwatchlogs.DescribeLogStreamsOutput
		err := s.sess.Call(ctx, func(ctx context.Context) error {
			var cerr error
			out, cerr = c.api.DescribeLogStreams(ctx, in)
			return cerr
		})
		if err != nil {
			s.stats.errors.Add(1)
			err = fmt.Errorf("describe log streams of %s/%s (page %d): %w", c.region, group, page, err)
			s.log.Warn("aws-cloudwatch-logs: listing failed", "source", s.name, "region", c.region, "group", group, "err", err)
			return errors.Join(append(errs, err)...)
		}
		for _, ls := range out.LogStreams {
			if err := s.stream(ctx, c, group, ls, start, emit); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.stats.errors.Add(1)
				s.log.Warn("aws-cloudwatch-logs: stream failed", "source", s.name, "region", c.region,
					"group", group, "stream", aws.ToString(ls.LogStreamName), "err", err)
				errs = append(errs, err)
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	s.sweep(c.region, group)
	return errors.Join(errs...)
}

// sweep runs after a complete listing of a group: streams the listing did not
// show (deleted, or outside log_stream_prefix) are marked gone, and forgotten
// once gone for forget_after.
func (s *Source) sweep(region, group string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := streamKey(region, group, "")
	now := s.now().UnixMilli()
	s.changed = true
	for key, st := range s.streams {
		if !strings.HasPrefix(key, prefix) || st.deleted {
			continue
		}
		switch {
		case st.pass == s.passes:
			if st.Gone != 0 {
				st.Gone, st.dirty = 0, true
			}
		case st.Gone == 0:
			st.Gone, st.dirty = now, true
		case now-st.Gone >= s.cfg.ForgetAfter.Std().Milliseconds():
			st.deleted = true
			s.log.Info("aws-cloudwatch-logs: forgetting a stream gone since "+time.UnixMilli(st.Gone).UTC().Format(time.RFC3339),
				"source", s.name, "region", region, "group", group, "stream", key[len(prefix):])
		}
	}
}
