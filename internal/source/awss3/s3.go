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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/daycursor"
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
	log    *slog.Logger
	now    func() time.Time
	track  *daycursor.Tracker[string] // objects are known by their key
	stats  Counters
	reader *Reader
	days   daycursor.Progress // a pass over every root's open days
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
	src := &Source{name: s.Name, cfg: cfg, client: client, log: s.Logger, now: s.Now,
		track: daycursor.New(s.State, s.Name, cfg.RereadWindow.Std(), func(key string) string { return key })}
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
	return source.Progress{Done: s.days.Done.Load(), Total: s.days.Total.Load(), Unit: "days"}
}

// job is one object to read.
type job struct {
	key      string
	size     int64
	modified time.Time
	dk       daycursor.Day
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
						s.track.Done(dk, key)
					} else {
						s.track.Failed(dk, key)
					}
				})
			}
		}()
	}
	s.days.Reset()
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

// listRoot lists every open day of one root and submits the objects not read yet.
func (s *Source) listRoot(ctx context.Context, r root, jobs chan<- job) error {
	first, err := s.track.Cursor(r.prefix, daycursor.FirstDay(s.cfg.OnlyLogsAfter, s.now()))
	if err != nil {
		return err
	}
	now := s.now().UTC()
	return s.track.Walk(r.prefix, first, now, daycursor.Walk{
		Prefix: func(day time.Time) string { return dayPrefix(s.cfg.LogType, r.prefix, day) },
		List:   func(day time.Time) error { return s.listDay(ctx, r, day, now, jobs) },
		Next: func(from, last time.Time) (time.Time, error) {
			return s.nextDayWithObjects(ctx, r, from, last)
		},
	}, &s.days)
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

func (s *Source) listDay(ctx context.Context, r root, day, now time.Time, jobs chan<- job) error {
	prefix := dayPrefix(s.cfg.LogType, r.prefix, day)
	seen, err := s.track.Processed(prefix)
	if err != nil {
		return err
	}
	dk := s.track.BeginDay(r.prefix, day, prefix, now)
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
			if seen[key] || len(key) == 0 || key[len(key)-1] == '/' || !s.track.Start(dk, key) {
				continue
			}
			select {
			case jobs <- job{key: key, size: aws.ToInt64(o.Size), modified: aws.ToTime(o.LastModified), dk: dk}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	s.track.Listed(dk)
	return nil
}

// Commit records the objects read since the last commit and closes the days
// that are complete and outside the re-read window (see daycursor); then it
// removes the objects from the bucket if configured.
func (s *Source) Commit() error {
	done, err := s.track.Commit()
	if err != nil {
		return err
	}
	if s.cfg.RemoveFromBucket && len(done) > 0 {
		s.removeObjects(done)
	}
	return nil
}
