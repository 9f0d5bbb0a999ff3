// Package gcppubsub is the gcp-pubsub source: it consumes Google Cloud Pub/Sub
// subscriptions with streaming pull (typically Cloud Logging entries exported by
// a log sink) and turns each message into the event Wazuh's GCP module sends,
// {"integration": "gcp", "gcp": <message data>}, at location Wazuh-GCloud.
// A message is acknowledged only after the alerts of the batch it went into are
// durable; a batch that fails is nacked, so Pub/Sub delivers its messages again.
// The source keeps no state besides the messages it holds, so any number of
// processes may share a subscription.
package gcppubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Settings are what the wiring layer passes besides the component's own config.
type Settings struct {
	Name      string
	Logger    *slog.Logger
	AgentName string // manager name, reported as the agent of the events
	// Once makes Run drain the subscriptions and return (skywatch run --once)
	// instead of consuming until ctx ends.
	Once bool
	// MaxRecordBytes caps one message's data (0: no cap besides Pub/Sub's 10 MB).
	MaxRecordBytes int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// ClientOptions are added to the client's options after the configured
	// credentials and endpoint (tests pass a connection to a local server).
	ClientOptions []option.ClientOption
	// ShutdownGrace is how long, once Run's context ends, held messages may
	// still be acknowledged before they are nacked (0: 10s).
	ShutdownGrace time.Duration
	// OnceIdle is how long a drain (Once) waits without a message before it
	// ends (0: 3s).
	OnceIdle time.Duration
}

// Source consumes one or more subscriptions.
type Source struct {
	name  string
	cfg   Config
	set   Settings
	subs  []string // full subscription names
	log   *slog.Logger
	now   func() time.Time
	grace time.Duration
	idle  time.Duration

	events      atomic.Int64
	newest      source.NewestTime
	msgs        counters
	outstanding atomic.Int64 // callbacks running
	lastMsg     atomic.Int64 // unix nanoseconds of the last message received
}

// counters count what happened to messages.
type counters struct {
	received, acked, nacked, notJSON, repaired, tooLarge atomic.Int64
	redelivered, highAttempts, maxAttempt, failures      atomic.Int64
}

// MessageStats are the source's message counters.
type MessageStats struct {
	// Received counts deliveries (a message delivered again counts again).
	Received int64
	// Acked and Nacked count messages acknowledged after their alerts were
	// durable, and messages given back to Pub/Sub after a failure.
	Acked, Nacked int64
	// NotJSON counts messages whose data is not JSON, delivered as a JSON
	// string; Repaired counts JSON messages with invalid UTF-8, delivered with
	// U+FFFD in place of the bad bytes.
	NotJSON, Repaired int64
	// TooLarge counts messages over the record size cap: logged, acknowledged
	// and not delivered.
	TooLarge int64
	// Redelivered counts deliveries with a delivery attempt above 1, and
	// HighAttempts those at or above warn_delivery_attempts; MaxDeliveryAttempt
	// is the highest attempt seen. Pub/Sub reports attempts only for
	// subscriptions with a dead-letter policy.
	Redelivered, HighAttempts, MaxDeliveryAttempt int64
}

var (
	_ source.Source        = (*Source)(nil)
	_ source.StatsReporter = (*Source)(nil)
)

// New checks the configuration and its credentials file and builds the source;
// the client connects in Run.
func New(cfg Config, s Settings) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := cfg.GCP.ClientOptions(); err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	src := &Source{name: s.Name, cfg: cfg, set: s, log: s.Logger, now: s.Now, grace: s.ShutdownGrace, idle: s.OnceIdle}
	if src.log == nil {
		src.log = slog.New(slog.DiscardHandler)
	}
	if src.now == nil {
		src.now = time.Now
	}
	if src.grace <= 0 {
		src.grace = 10 * time.Second
	}
	if src.idle <= 0 {
		src.idle = 3 * time.Second
	}
	for _, name := range cfg.all() {
		src.subs = append(src.subs, cfg.fullName(name))
	}
	return src, nil
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.name }

// Continuous tells the service that Run keeps receiving until stopped, so it is
// restarted when it returns rather than scheduled in passes.
func (s *Source) Continuous() bool { return !s.set.Once }

// Stats returns the source's counters: Units are deliveries received, Errors
// the messages nacked or refused, Skipped those refused (too large).
func (s *Source) Stats() source.Stats {
	m := &s.msgs
	return source.Stats{Units: m.received.Load(), Events: s.events.Load(),
		Errors: m.nacked.Load() + m.tooLarge.Load(), Skipped: m.tooLarge.Load(), Newest: s.newest.Time()}
}

// MessageStats returns the message counters.
func (s *Source) MessageStats() MessageStats {
	m := &s.msgs
	return MessageStats{Received: m.received.Load(), Acked: m.acked.Load(), Nacked: m.nacked.Load(),
		NotJSON: m.notJSON.Load(), Repaired: m.repaired.Load(), TooLarge: m.tooLarge.Load(),
		Redelivered: m.redelivered.Load(), HighAttempts: m.highAttempts.Load(), MaxDeliveryAttempt: m.maxAttempt.Load()}
}

// errShutdown nacks the messages still held when the shutdown grace ran out.
var errShutdown = errors.New("stopping before the batch was acknowledged")

// Run consumes every subscription until ctx ends (or, in once mode, until no
// message came for a while), then waits for the messages it holds to be
// acknowledged, for at most the shutdown grace once ctx ended.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	opts, err := s.cfg.GCP.ClientOptions()
	if err != nil {
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	client, err := pubsub.NewClient(ctx, s.cfg.GCP.ProjectID, append(opts, s.set.ClientOptions...)...)
	if err != nil {
		return fmt.Errorf("source %s: pubsub client: %w", s.name, err)
	}
	defer client.Close()

	bt := &batcher{ctx: ctx, emit: emit, size: s.cfg.BatchSize, linger: s.cfg.BatchLinger.Std(), src: s}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	giveUp := make(chan struct{})
	finished := make(chan struct{})
	defer close(finished)
	go s.shutdownTimer(ctx, bt, giveUp, finished)
	if s.set.Once {
		go s.stopWhenIdle(rctx, stop)
	}

	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	for _, name := range s.subs {
		sub := client.Subscriber(name)
		sub.ReceiveSettings.MaxOutstandingMessages = s.cfg.MaxOutstandingMessages
		sub.ReceiveSettings.MaxOutstandingBytes = int(s.cfg.MaxOutstandingBytes)
		sub.ReceiveSettings.NumGoroutines = s.cfg.Streams
		sub.ReceiveSettings.MaxExtension = s.cfg.MaxExtension.Std()
		wg.Go(func() {
			err := sub.Receive(rctx, func(_ context.Context, m *pubsub.Message) {
				s.handle(name, m, bt, giveUp)
			})
			if err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("source %s: receive from %s: %w", s.name, name, err)
				}
				errMu.Unlock()
				stop() // restart all subscriptions together
			}
		})
	}
	s.waitReceives(ctx, &wg, client)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// waitReceives waits for the Receive calls to return. Once ctx ended they
// wait for their last acknowledgements to be sent, which never happens when
// Pub/Sub cannot be reached; so after twice the shutdown grace (one for the
// pipeline's acknowledgements, one for sending them) the client is closed and
// Run returns: a stop is bounded. Messages whose acknowledgements were not
// sent are delivered again after their ack deadline.
func (s *Source) waitReceives(ctx context.Context, wg *sync.WaitGroup, client *pubsub.Client) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(2 * s.grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.log.Warn("gcp-pubsub: Pub/Sub unreachable at shutdown; closing the client, unsent acknowledgements are lost and their messages will be delivered again",
			"source", s.name)
		_ = client.Close()
	}
}

// shutdownTimer sends the batch being filled once ctx ends (it fails and is
// nacked) and, after the grace, gives up the messages still held.
func (s *Source) shutdownTimer(ctx context.Context, bt *batcher, giveUp chan<- struct{}, finished <-chan struct{}) {
	select {
	case <-finished:
		return
	case <-ctx.Done():
	}
	bt.flushAll()
	t := time.NewTimer(s.grace)
	defer t.Stop()
	select {
	case <-finished:
	case <-t.C:
		n := s.outstanding.Load()
		s.log.Warn("gcp-pubsub: stopping with messages not yet acknowledged; Pub/Sub will deliver them again",
			"source", s.name, "messages", n)
		close(giveUp)
	}
}

// stopWhenIdle ends a drain when no message is held and none came for the idle
// time; before the first message it waits three times as long, since opening
// the streams may take a few retries.
func (s *Source) stopWhenIdle(ctx context.Context, stop func()) {
	t := time.NewTicker(s.idle / 10)
	defer t.Stop()
	started, received := time.Now(), s.msgs.received.Load()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			idle := s.idle
			if s.msgs.received.Load() == received {
				idle = 3 * s.idle
			}
			last := time.Unix(0, s.lastMsg.Load())
			if last.Before(started) {
				last = started
			}
			if s.outstanding.Load() == 0 && time.Since(last) >= idle {
				stop()
				return
			}
		}
	}
}

// handle is the receive callback: it puts the message's event into a batch
// and returns only once the batch settled the message, so the client's flow
// control (max_outstanding_messages/bytes) counts messages until they are
// acknowledged, not merely until they were read.
func (s *Source) handle(sub string, m *pubsub.Message, bt *batcher, giveUp <-chan struct{}) {
	s.outstanding.Add(1)
	defer s.outstanding.Add(-1)
	now := s.now()
	s.lastMsg.Store(time.Now().UnixNano())
	s.msgs.received.Add(1)
	s.newest.Observe(m.PublishTime)
	if m.DeliveryAttempt != nil {
		s.attempt(sub, m.ID, int64(*m.DeliveryAttempt))
	}
	if s.set.MaxRecordBytes > 0 && len(m.Data) > s.set.MaxRecordBytes {
		// Delivering it again would not make it smaller.
		s.msgs.tooLarge.Add(1)
		s.log.Error("gcp-pubsub: message larger than max_event_bytes, acknowledged without reading",
			"source", s.name, "subscription", sub, "message_id", m.ID, "bytes", len(m.Data), "max", s.set.MaxRecordBytes)
		m.Ack()
		return
	}
	kind := classify(m.Data)
	switch kind {
	case kindText:
		if n := s.msgs.notJSON.Add(1); n == 1 || n%1000 == 0 {
			s.log.Warn("gcp-pubsub: message data is not JSON; delivered as a JSON string",
				"source", s.name, "subscription", sub, "message_id", m.ID, "count", n)
		}
	case kindRepaired:
		if n := s.msgs.repaired.Add(1); n == 1 || n%1000 == 0 {
			s.log.Warn("gcp-pubsub: message data has invalid UTF-8; bad bytes replaced by U+FFFD",
				"source", s.name, "subscription", sub, "message_id", m.ID, "count", n)
		}
	}
	ev := event.Event{Location: Location, AgentID: event.LocalAgentID, AgentName: s.set.AgentName, Received: now,
		Origin: event.Origin{Source: s.name, Unit: sub + "/messages/" + m.ID}}
	p := bt.add(ev, m.Data, kind, m)
	select {
	case <-p.done:
	case <-giveUp:
		bt.abandon(p, errShutdown)
	}
}

// attempt records a delivery attempt reported by a subscription with a
// dead-letter policy.
func (s *Source) attempt(sub, id string, a int64) {
	for {
		old := s.msgs.maxAttempt.Load()
		if a <= old || s.msgs.maxAttempt.CompareAndSwap(old, a) {
			break
		}
	}
	if a > 1 {
		s.msgs.redelivered.Add(1)
	}
	if a >= int64(s.cfg.WarnDeliveryAttempts) {
		s.msgs.highAttempts.Add(1)
		s.log.Warn("gcp-pubsub: message delivered many times; the subscription's dead-letter policy moves it aside at its max_delivery_attempts",
			"source", s.name, "subscription", sub, "message_id", id, "delivery_attempt", a)
	}
}

// nackLog reports a batch given back to Pub/Sub.
func (s *Source) nackLog(err error, n int64) {
	if errors.Is(err, context.Canceled) || errors.Is(err, errShutdown) {
		s.log.Info("gcp-pubsub: messages given back at shutdown; Pub/Sub will deliver them again",
			"source", s.name, "messages", n)
		return
	}
	if f := s.msgs.failures.Add(1); f == 1 || f%100 == 0 {
		s.log.Warn("gcp-pubsub: batch not acknowledged; its messages were nacked and will be delivered again",
			"source", s.name, "messages", n, "failures", f, "err", err)
	}
}
