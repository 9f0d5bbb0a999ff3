// Package gcs is the gcs source: it reads Google Cloud Storage buckets of Cloud
// Storage usage logs (access_logs, as Wazuh's gcp-bucket module) and of Cloud
// Logging exports (logging_export, which Wazuh cannot read), and never loses an
// object that arrives late: each day of each log is listed again until a
// re-read window after the day ends, and the objects read in the open days are
// remembered, as the aws-s3 source does.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/iterator"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/daycursor"
)

// DefaultRetry is the backoff of the storage client's own retries (throttling,
// 5xx, broken connections) and of object re-reads, when Settings has none.
var DefaultRetry = retry.Policy{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Attempts: 6}

// Settings are what the wiring layer passes besides the component's own config.
type Settings struct {
	Name      string
	State     *checkpoint.Store
	Logger    *slog.Logger
	AgentName string
	// MaxRecordBytes caps one record, a JSON line or a CSV row (0: 256 MiB).
	MaxRecordBytes int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Retry is the backoff of the client's retries (Attempts bounds each call)
	// and between re-reads of a broken object (zero: DefaultRetry).
	Retry retry.Policy
}

// Counters count what the source did.
type Counters struct {
	Units, Events, Errors, Skipped atomic.Int64
	Newest                         source.NewestTime
}

// Source reads one bucket.
type Source struct {
	name     string
	cfg      Config
	client   *storage.Client
	bucket   *storage.BucketHandle
	log      *slog.Logger
	now      func() time.Time
	agent    string
	maxBytes int
	retry    retry.Policy
	track    *daycursor.Tracker[readObject]
	stats    Counters
	days     daycursor.Progress // a pass over every root's open days
}

// New builds the source and its storage client. The client honours
// STORAGE_EMULATOR_HOST as Google's clients do.
func New(ctx context.Context, cfg Config, s Settings) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts, err := cfg.GCP.ClientOptions()
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("source %s: storage client: %w", s.Name, err)
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
	// Idempotent calls (list, read, delete with a generation condition) are
	// retried by the client; bounding the attempts keeps a dead endpoint from
	// holding a `run --once` pass forever.
	client.SetRetry(storage.WithBackoff(gax.Backoff{Initial: s.Retry.Initial, Max: s.Retry.Max, Multiplier: 2}),
		storage.WithMaxAttempts(max(s.Retry.Attempts, 1)))
	return &Source{name: s.Name, cfg: cfg, client: client, bucket: client.Bucket(cfg.Bucket),
		log: s.Logger, now: s.Now, agent: s.AgentName, maxBytes: s.MaxRecordBytes,
		retry: s.Retry, track: daycursor.New(s.State, s.Name, cfg.RereadWindow.Std(), readObject.key)}, nil
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.name }

// Interval is the time between polls in service mode.
func (s *Source) Interval() time.Duration { return s.cfg.Interval.Std() }

// Close releases the storage client.
func (s *Source) Close() error { return s.client.Close() }

// Stats returns the source's counters.
func (s *Source) Stats() source.Stats {
	return source.Stats{Units: s.stats.Units.Load(), Events: s.stats.Events.Load(),
		Errors: s.stats.Errors.Load(), Skipped: s.stats.Skipped.Load(), Newest: s.stats.Newest.Time()}
}

// Progress counts the days of the current pass that have been listed, over
// every root: a backfill from only_logs_after moves through them in order.
func (s *Source) Progress() source.Progress {
	return source.Progress{Done: s.days.Done.Load(), Total: s.days.Total.Load(), Unit: "days"}
}

// job is one object to read.
type job struct {
	name    string
	updated time.Time
	dk      daycursor.Day
}

// Run does one poll: it lists the open days of every root and reads the objects
// not read yet, Workers at a time, while listing goes on.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	roots, err := s.roots(ctx)
	if err != nil {
		s.stats.Errors.Add(1)
		return err
	}
	jobs := make(chan job, 4*s.cfg.Workers)
	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				s.readObject(ctx, j, emit)
			}
		}()
	}
	s.days.Reset()
	var listErr error
	for _, r := range roots {
		if err := s.listRoot(ctx, r, jobs); err != nil {
			s.stats.Errors.Add(1)
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
func (s *Source) listRoot(ctx context.Context, rootPrefix string, jobs chan<- job) error {
	first, err := s.track.Cursor(rootPrefix, daycursor.FirstDay(s.cfg.OnlyLogsAfter, s.now()))
	if errors.Is(err, daycursor.ErrBadCursor) {
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	if err != nil {
		return fmt.Errorf("source %s: read checkpoint: %w", s.name, err)
	}
	now := s.now().UTC()
	return s.track.Walk(rootPrefix, first, now, daycursor.Walk{
		Prefix: func(day time.Time) string { return s.dayPrefix(rootPrefix, day) },
		List:   func(day time.Time) error { return s.listDay(ctx, rootPrefix, day, now, jobs) },
		Next: func(from, last time.Time) (time.Time, error) {
			return s.nextDayWithObjects(ctx, rootPrefix, from, last)
		},
	}, &s.days)
}

// nextDayWithObjects returns the first day from "from" on that holds an object,
// or the day after "last" when none does. Names sort by date under a root in
// both layouts, so one listing call of one result answers.
func (s *Source) nextDayWithObjects(ctx context.Context, rootPrefix string, from, last time.Time) (time.Time, error) {
	if from.After(last) {
		return from, nil
	}
	name, err := s.firstName(ctx, rootPrefix, s.dayPrefix(rootPrefix, from))
	if err != nil {
		return from, err
	}
	if name == "" {
		return last.AddDate(0, 0, 1), nil
	}
	day, ok := s.dayOfName(rootPrefix, name)
	switch {
	case !ok || day.Before(from):
		return from, nil
	case day.After(last):
		return last.AddDate(0, 0, 1), nil
	}
	return day, nil
}

// firstName returns the first object name under prefix at or after offset, or
// "" when there is none.
func (s *Source) firstName(ctx context.Context, prefix, offset string) (string, error) {
	q := &storage.Query{Prefix: prefix, StartOffset: offset}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return "", err
	}
	it := s.bucket.Objects(ctx, q)
	it.PageInfo().MaxSize = 1
	a, err := it.Next()
	if errors.Is(err, iterator.Done) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("list gs://%s/%s from %s: %w", s.cfg.Bucket, prefix, offset, err)
	}
	return a.Name, nil
}

// listDay lists one day of a root and submits the objects not read yet.
func (s *Source) listDay(ctx context.Context, rootPrefix string, day, now time.Time, jobs chan<- job) error {
	prefix := s.dayPrefix(rootPrefix, day)
	seen, err := s.track.Processed(prefix)
	if err != nil {
		return fmt.Errorf("source %s: read checkpoint: %w", s.name, err)
	}
	dk := s.track.BeginDay(rootPrefix, day, prefix, now)
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name", "Updated"}); err != nil {
		return err
	}
	it := s.bucket.Objects(ctx, q)
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return fmt.Errorf("list gs://%s/%s: %w", s.cfg.Bucket, prefix, err)
		}
		if seen[a.Name] || a.Name == "" || a.Name[len(a.Name)-1] == '/' || !s.track.Start(dk, a.Name) {
			continue
		}
		select {
		case jobs <- job{name: a.Name, updated: a.Updated, dk: dk}:
		case <-ctx.Done():
			s.track.Failed(dk, a.Name)
			return ctx.Err()
		}
	}
	s.track.Listed(dk)
	return nil
}
