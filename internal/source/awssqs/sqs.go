// Package awssqs is the aws-sqs source: it consumes S3 event notifications from
// an SQS queue (delivered straight, through SNS or through EventBridge) and reads
// every object they name, with aws-s3's reader for AWS log types or as Amazon
// Security Lake Parquet. A message is deleted only after all alerts from all its
// objects are durable; until then its visibility timeout is extended, and when
// anything fails it is left to reappear. Messages received too often are moved
// to a dead-letter queue (or deleted) so none loops forever. The source keeps no
// state besides the messages it holds, so any number of processes may share a
// queue.
package awssqs

import (
	"context"
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
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/awss3"
)

// Settings are what the wiring layer passes besides the component's own config.
type Settings struct {
	Name      string
	Logger    *slog.Logger
	AgentName string // manager name, reported as the agent of the events
	// Once makes Run drain the queue and return (skywatch run --once) instead of
	// consuming until ctx ends.
	Once bool
	// MaxRecordBytes caps one record (0 = the reader's default).
	MaxRecordBytes int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// HTTPClient carries the API calls (nil: the SDK's default client).
	HTTPClient *http.Client
	// Retry is how SQS calls are retried (zero: awsclient.DefaultRetry; receives
	// in service mode are retried until they succeed or ctx ends).
	Retry retry.Policy
}

// objectReader reads one object into batches and reports its fate once.
type objectReader interface {
	Read(ctx context.Context, bucket, key string, emit source.Emit, done func(ok bool))
}

// Source consumes one queue.
type Source struct {
	name    string
	cfg     Config
	once    bool
	api     sqsAPI
	sess    *awsclient.Session // retries the SQS calls
	forever *awsclient.Session // the same, retrying until ctx ends
	objects objectReader
	log     *slog.Logger
	after   time.Time
	stats   awss3.Counters // objects: read, events, errors, discarded
	msgs    msgCounters

	mu            sync.Mutex // guards the resolved URLs
	queueURL, dlq string
}

// msgCounters count what happened to messages.
type msgCounters struct {
	received, deleted, left, movedAside, ignored, extended atomic.Int64
	missing, old, errors                                   atomic.Int64
}

// MessageStats are the source's message counters.
type MessageStats struct {
	// Received counts receipts (a redelivered message counts again).
	Received int64
	// Deleted counts messages deleted after all their objects were delivered
	// (or found to hold nothing to read).
	Deleted int64
	// Left counts receipts left on the queue after a failure, to be received
	// again after the visibility timeout.
	Left int64
	// MovedAside counts messages received more than max_receives times and sent
	// to the dead-letter queue or deleted.
	MovedAside int64
	// Ignored counts messages naming nothing to read (S3 test events, other
	// events than object creation); MissingObjects and OldObjects count objects
	// skipped because they no longer exist or are older than only_logs_after.
	Ignored, MissingObjects, OldObjects int64
	// Extended counts visibility extensions while objects were being read.
	Extended int64
}

var (
	_ source.Source        = (*Source)(nil)
	_ source.StatsReporter = (*Source)(nil)
)

// New builds the source and its SQS and S3 clients (no network call yet: the
// queue URL is resolved by the first Run).
func New(cfg Config, s Settings) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sess, err := cfg.AWS.NewSession(context.Background(), s.HTTPClient, nil, s.Retry)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	api := sqs.NewFromConfig(sess.Config, func(o *sqs.Options) {
		o.BaseEndpoint = cfg.AWS.BaseEndpoint()
		o.Retryer = aws.NopRetryer{} // retried by the source, with its policy
	})
	s3c := s3.NewFromConfig(sess.Config, func(o *s3.Options) {
		if cfg.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.S3Endpoint)
		}
		o.UsePathStyle = cfg.AWS.PathStyle
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return newWithClients(cfg, s, sess, api, s3c), nil
}

// newWithClients builds the source around given clients; sess retries the SQS
// calls.
func newWithClients(cfg Config, s Settings, sess *awsclient.Session, api sqsAPI, s3c awss3.ObjectAPI) *Source {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	after, _ := awsclient.ParseDate(cfg.OnlyLogsAfter)
	forever := *sess
	forever.Retry.Attempts = 0
	src := &Source{name: s.Name, cfg: cfg, once: s.Once, api: api, sess: sess, forever: &forever, log: s.Logger, after: after}
	var discard *regexp.Regexp
	if cfg.Discard.Regex != "" {
		discard = regexp.MustCompile(`^(?:` + cfg.Discard.Regex + `)`)
	}
	client := objectClient{api: s3c}
	if cfg.LogType == SecurityLake {
		src.objects = &lakeReader{client: client, source: s.Name, agent: s.AgentName, now: s.Now, log: s.Logger,
			stats: &src.stats, maxAttempts: 3, maxRecordBytes: s.MaxRecordBytes, discard: discard, discardField: cfg.Discard.Field}
	} else {
		r := &awss3.Reader{Client: client, LogType: cfg.LogType, AccountAlias: cfg.AccountAlias,
			MaxRecordBytes: s.MaxRecordBytes, MaxAttempts: 3,
			Source: s.Name, Agent: s.AgentName, Now: s.Now, Log: s.Logger, Stats: &src.stats}
		if discard != nil {
			r.Discard, r.DiscardField = discard, cfg.Discard.Field
		}
		src.objects = r
	}
	return src
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.name }

// Continuous tells the service that Run keeps receiving until stopped, so it is
// restarted when it returns rather than scheduled in passes.
func (s *Source) Continuous() bool { return !s.once }

// Stats returns the source's counters: Units are objects read, Skipped the
// events discarded and the objects and messages with nothing to read.
func (s *Source) Stats() source.Stats {
	return source.Stats{Units: s.stats.Units.Load(), Events: s.stats.Events.Load(),
		Errors:  s.stats.Errors.Load() + s.msgs.errors.Load(),
		Skipped: s.stats.Discarded.Load() + s.msgs.ignored.Load() + s.msgs.missing.Load() + s.msgs.old.Load(),
		Newest:  s.stats.Newest.Time()}
}

// MessageStats returns the message counters.
func (s *Source) MessageStats() MessageStats {
	m := &s.msgs
	return MessageStats{Received: m.received.Load(), Deleted: m.deleted.Load(), Left: m.left.Load(),
		MovedAside: m.movedAside.Load(), Ignored: m.ignored.Load(), MissingObjects: m.missing.Load(),
		OldObjects: m.old.Load(), Extended: m.extended.Load()}
}

// shutdownGrace is how long Run, once ctx ends, still waits for the messages it
// holds to be acknowledged and deleted.
const shutdownGrace = 10 * time.Second

// onceWait is the long-polling wait of receives in once mode: long enough to ask
// every SQS server (a short poll may miss messages), short enough to end soon.
const onceWait = time.Second

// Run consumes the queue: until ctx ends, or in once mode until a receive finds
// nothing; then it waits for the messages it holds to be settled.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	queueURL, err := s.resolve(ctx)
	if err != nil {
		return err
	}
	fl := newFlight(4*s.cfg.Workers + s.cfg.MaxMessages)
	work := make(chan *message)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() {
			for m := range work {
				s.process(ctx, m, emit)
			}
		})
	}
	err = s.receiveLoop(ctx, queueURL, fl, work)
	close(work)
	wg.Wait()
	s.settle(ctx, fl)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// receiveLoop receives messages while slots are free and hands them to the
// workers.
func (s *Source) receiveLoop(ctx context.Context, queueURL string, fl *flight, work chan<- *message) error {
	for {
		n, err := fl.reserve(ctx, s.cfg.MaxMessages)
		if err != nil {
			return nil // ctx ended
		}
		msgs, err := s.receive(ctx, queueURL, n)
		fl.unreserve(n - len(msgs))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(msgs) == 0 && s.once {
			return nil
		}
		if len(msgs) == 0 && s.cfg.WaitTime.Std() < time.Second {
			// Short polling (wait_time 0s): pause between empty receives.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
		for i := range msgs {
			m := s.track(ctx, queueURL, &msgs[i], fl)
			select {
			case work <- m:
			case <-ctx.Done():
				m.settle(false)
			}
		}
	}
}

// receive asks for up to n messages, long polling.
func (s *Source) receive(ctx context.Context, queueURL string, n int) ([]types.Message, error) {
	wait, sess := s.cfg.WaitTime.Std(), s.forever // keep consuming through outages
	if s.once {
		wait, sess = onceWait, s.sess
	}
	in := &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(queueURL), MaxNumberOfMessages: int32(n),
		WaitTimeSeconds:   int32(wait / time.Second),
		VisibilityTimeout: int32(s.cfg.VisibilityTimeout.Std() / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount},
	}
	var out *sqs.ReceiveMessageOutput
	failures := 0
	err := sess.Call(ctx, func(ctx context.Context) error {
		cctx, cancel := context.WithTimeout(ctx, wait+callTimeout) // a hung connection is retried
		defer cancel()
		var err error
		out, err = s.api.ReceiveMessage(cctx, in)
		if err != nil && ctx.Err() == nil {
			if failures++; failures == 1 || failures%10 == 0 {
				s.log.Warn("aws-sqs: receive failed", "source", s.name, "queue", queueURL, "failures", failures, "err", err)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", queueURL, err)
	}
	s.msgs.received.Add(int64(len(out.Messages)))
	return out.Messages, nil
}

// resolve returns the queue's URL (and the dead-letter queue's), looking names
// up once.
func (s *Source) resolve(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.queueURL == "" {
		if s.queueURL, err = s.lookup(ctx, s.cfg.Queue); err != nil {
			return "", err
		}
	}
	if s.cfg.DeadLetterQueue != "" && s.dlq == "" {
		if s.dlq, err = s.lookup(ctx, s.cfg.DeadLetterQueue); err != nil {
			return "", fmt.Errorf("dead_letter_queue: %w", err)
		}
	}
	return s.queueURL, nil
}

func (s *Source) lookup(ctx context.Context, q string) (string, error) {
	if strings.HasPrefix(q, "https://") || strings.HasPrefix(q, "http://") {
		return q, nil
	}
	var out *sqs.GetQueueUrlOutput
	err := s.sess.Call(ctx, func(ctx context.Context) error {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		var err error
		out, err = s.api.GetQueueUrl(cctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", q, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// settle waits for the messages still held to be acknowledged and deleted: as
// long as it takes while ctx lives, and for shutdownGrace once it ended. Those
// still held then are given up (they reappear after their visibility timeout).
func (s *Source) settle(ctx context.Context, fl *flight) {
	select {
	case <-fl.idle():
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(shutdownGrace)
	defer t.Stop()
	select {
	case <-fl.idle():
	case <-t.C:
		n := fl.abandon()
		s.log.Warn("aws-sqs: stopping with messages not yet acknowledged; they will be received again",
			"source", s.name, "messages", n)
	}
}
