// Package awss3 is the aws-s3 source: it reads every AWS log type Wazuh's AWS module
// reads from S3 (CloudTrail, Config, VPC flow, GuardDuty, WAF, custom EventBridge
// exports, load balancers, S3 server access, Security Hub), wraps the records exactly
// as that module does, and never loses an object that arrives late or sorts before
// keys already read: each day folder is re-listed until a re-read window after the
// day ends, and the objects read in the open days are remembered.
package awss3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// s3API is the part of the S3 client the source uses.
type s3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Settings are what the wiring layer passes besides the component's own config.
type Settings struct {
	Name      string
	State     *checkpoint.Store
	Logger    *slog.Logger
	AgentName string
	// MaxRecordBytes caps one record (0 = the reader's default).
	MaxRecordBytes int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// HTTPClient overrides the SDK's HTTP client (tests).
	HTTPClient *http.Client
}

// Source reads one bucket.
type Source struct {
	name   string
	cfg    Config
	client s3API
	state  *checkpoint.Store
	log    *slog.Logger
	now    func() time.Time
	track  *tracker
	stats  Counters
	reader *Reader
	// daysDone and daysTotal measure a pass over every root's open days.
	daysDone, daysTotal atomic.Int64
}

// New builds the source and its S3 client.
func New(ctx context.Context, cfg Config, s Settings) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	awsCfg, err := cfg.AWS.Load(ctx, s.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.BaseEndpoint = cfg.AWS.BaseEndpoint()
		o.UsePathStyle = cfg.AWS.PathStyle
		// S3-compatible stores often send no checksum; do not log it per object.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return newWithClient(cfg, s, client), nil
}

func newWithClient(cfg Config, s Settings, client s3API) *Source {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	src := &Source{name: s.Name, cfg: cfg, client: client, state: s.State, log: s.Logger,
		now: s.Now, track: newTracker()}
	src.reader = &Reader{
		Client: client, LogType: cfg.LogType, AccountAlias: cfg.AccountAlias,
		MaxRecordBytes: s.MaxRecordBytes, MaxAttempts: cfg.MaxAttempts,
		Source: s.Name, Agent: s.AgentName, Now: s.Now, Log: s.Logger, Stats: &src.stats,
	}
	if cfg.Discard.Regex != "" {
		src.reader.Discard = regexp.MustCompile(`^(?:` + cfg.Discard.Regex + `)`)
		src.reader.DiscardField = cfg.Discard.Field
	}
	return src
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.name }

// Interval is the time between polls in service mode.
func (s *Source) Interval() time.Duration { return s.cfg.Interval.Std() }

// Stats returns the source's counters.
func (s *Source) Stats() source.Stats {
	return source.Stats{Units: s.stats.Units.Load(), Events: s.stats.Events.Load(),
		Errors: s.stats.Errors.Load(), Newest: s.stats.Newest.Time()}
}

// Progress counts the day folders of the current pass that have been listed, over
// every root: a backfill from only_logs_after moves through them in order.
func (s *Source) Progress() source.Progress {
	return source.Progress{Done: s.daysDone.Load(), Total: s.daysTotal.Load(), Unit: "days"}
}

// job is one object to read.
type job struct {
	key      string
	size     int64
	modified time.Time
	dk       dayKey
}

// Run does one poll: it lists the open days of every root and reads the objects not
// read yet, Workers at a time, while listing goes on.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	roots, err := s.roots(ctx)
	if err != nil {
		return err
	}
	jobs := make(chan job, 4*s.cfg.Workers)
	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				dk, key := j.dk, j.key
				modified := j.modified
				s.reader.Read(ctx, s.cfg.Bucket, key, emit, func(ok bool) {
					if ok {
						s.stats.Newest.Observe(modified)
						s.objectDone(dk, key)
					} else {
						s.objectFailed(dk, key)
					}
				})
			}
		}()
	}
	s.daysDone.Store(0)
	s.daysTotal.Store(0)
	var listErr error
	for _, r := range roots {
		if err := s.listRoot(ctx, r, jobs); err != nil {
			listErr = errors.Join(listErr, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	close(jobs)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return listErr
}

// firstDay is where a root with no checkpoint starts: only_logs_after or today.
func (s *Source) firstDay() time.Time {
	if s.cfg.OnlyLogsAfter != "" {
		t, _ := time.Parse("2006-01-02", s.cfg.OnlyLogsAfter)
		return t
	}
	return truncDay(s.now().UTC())
}

func truncDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// listRoot lists every open day of one root and submits the objects not read yet.
func (s *Source) listRoot(ctx context.Context, r root, jobs chan<- job) error {
	first, err := s.cursor(r.prefix, s.firstDay())
	if err != nil {
		return err
	}
	s.track.mu.Lock()
	if _, ok := s.track.cursors[r.prefix]; !ok {
		s.track.cursors[r.prefix] = first.Format("2006-01-02")
	}
	s.track.mu.Unlock()
	now := s.now().UTC()
	today := truncDay(now)
	if days := int64(today.Sub(first)/(24*time.Hour)) + 1; days > 0 {
		s.daysTotal.Add(days)
	}
	for day := first; !day.After(today); {
		if err := s.listDay(ctx, r, day, now, jobs); err != nil {
			return err
		}
		next := day.AddDate(0, 0, 1)
		// Backfills over months of empty days would cost one listing per day: ask
		// S3 for the next key instead and jump to its day.
		jump, err := s.nextDayWithObjects(ctx, r, next, today)
		if err != nil {
			return err
		}
		for d := next; d.Before(jump); d = d.AddDate(0, 0, 1) {
			s.markEmptyDay(r, d, now)
		}
		s.daysDone.Add(int64(jump.Sub(day) / (24 * time.Hour)))
		day = jump
	}
	return nil
}

// nextDayWithObjects returns the first day from "from" on whose folder holds an
// object, or the day after "last" when none does. Layouts whose day folders do not
// sort by date (Config's unpadded months) return "from".
func (s *Source) nextDayWithObjects(ctx context.Context, r root, from, last time.Time) (time.Time, error) {
	if from.After(last) || s.cfg.LogType == "config" {
		return from, nil
	}
	start := dayPrefix(s.cfg.LogType, r.prefix, from)
	out, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(r.prefix),
		StartAfter: aws.String(start[:len(start)-1]), MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return from, fmt.Errorf("list s3://%s/%s: %w", s.cfg.Bucket, r.prefix, err)
	}
	if len(out.Contents) == 0 {
		return last.AddDate(0, 0, 1), nil
	}
	day, ok := dayOfKey(s.cfg.LogType, r.prefix, aws.ToString(out.Contents[0].Key))
	if !ok || day.Before(from) {
		return from, nil
	}
	if day.After(last) {
		return last.AddDate(0, 0, 1), nil
	}
	return day, nil
}

// dayOfKey reads the day folder of an object key under a root.
func dayOfKey(logType, rootPrefix, key string) (time.Time, bool) {
	rest := strings.TrimPrefix(key, rootPrefix)
	layout := "2006/01/02"
	if layoutOf(logType) == layoutFlat {
		layout = "2006-01-02"
	}
	if len(rest) < len(layout) {
		return time.Time{}, false
	}
	t, err := time.Parse(layout, rest[:len(layout)])
	return t, err == nil
}

// markEmptyDay records a day found empty, so the cursor can move past it.
func (s *Source) markEmptyDay(r root, day, now time.Time) {
	dk := dayKey{root: r.prefix, day: day.Format("2006-01-02")}
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	if s.track.days[dk] == nil {
		s.track.days[dk] = &dayProgress{prefix: dayPrefix(s.cfg.LogType, r.prefix, day)}
	}
	d := s.track.days[dk]
	d.listed, d.failed = true, false
	d.closable = now.Sub(day.AddDate(0, 0, 1)) > s.cfg.RereadWindow.Std()
}

func (s *Source) listDay(ctx context.Context, r root, day, now time.Time, jobs chan<- job) error {
	prefix := dayPrefix(s.cfg.LogType, r.prefix, day)
	dk := dayKey{root: r.prefix, day: day.Format("2006-01-02")}
	seen, err := s.processed(prefix)
	if err != nil {
		return err
	}
	s.track.mu.Lock()
	prog := s.track.days[dk]
	if prog == nil {
		prog = &dayProgress{prefix: prefix}
		s.track.days[dk] = prog
	}
	prog.listed, prog.failed = false, false
	prog.closable = now.Sub(day.AddDate(0, 0, 1)) > s.cfg.RereadWindow.Std()
	s.track.mu.Unlock()
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.stats.Errors.Add(1)
			return fmt.Errorf("list s3://%s/%s: %w", s.cfg.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if seen[key] || s.inFlight(key) || len(key) == 0 || key[len(key)-1] == '/' {
				continue
			}
			s.markInFlight(key, dk)
			select {
			case jobs <- job{key: key, size: aws.ToInt64(o.Size), modified: aws.ToTime(o.LastModified), dk: dk}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	s.track.mu.Lock()
	prog.listed = true
	s.track.mu.Unlock()
	return nil
}
