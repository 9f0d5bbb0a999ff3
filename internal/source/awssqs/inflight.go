package awssqs

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// flight bounds and tracks the messages a Run holds, from receipt to deletion
// (or abandonment). It is the source's only state: nothing survives a Run.
type flight struct {
	slots chan struct{}
	mu    sync.Mutex
	held  map[*message]struct{}
	empty chan struct{} // closed while nothing is held
}

func newFlight(n int) *flight {
	f := &flight{slots: make(chan struct{}, n), held: map[*message]struct{}{}, empty: make(chan struct{})}
	close(f.empty)
	return f
}

// reserve waits for a free slot, then takes up to max free slots.
func (f *flight) reserve(ctx context.Context, max int) (int, error) {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	n := 1
	for n < max {
		select {
		case f.slots <- struct{}{}:
			n++
		default:
			return n, nil
		}
	}
	return n, nil
}

func (f *flight) unreserve(n int) {
	for range n {
		<-f.slots
	}
}

func (f *flight) add(m *message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.held) == 0 {
		f.empty = make(chan struct{})
	}
	f.held[m] = struct{}{}
}

// remove forgets a settled message and frees its slot.
func (f *flight) remove(m *message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.held[m]; !ok {
		return
	}
	delete(f.held, m)
	<-f.slots
	if len(f.held) == 0 {
		close(f.empty)
	}
}

func (f *flight) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.empty
}

// abandon stops extending the messages still held and returns how many.
func (f *flight) abandon() int {
	f.mu.Lock()
	held := make([]*message, 0, len(f.held))
	for m := range f.held {
		held = append(held, m)
	}
	f.mu.Unlock()
	for _, m := range held {
		m.stopBeat()
	}
	return len(held)
}

// message is one received message while the source holds it.
type message struct {
	s        *Source
	fl       *flight
	ctx      context.Context // the Run's, without its cancellation: deletes outlive it
	queue    string
	id       string
	handle   string
	body     string
	receives int

	mu      sync.Mutex
	pending int  // objects not settled, plus one while objects are being started
	failed  bool // an object was not delivered
	settled bool
	beat    *time.Timer // extends the visibility timeout; nil once stopped
}

// track starts holding a received message: its visibility is extended every half
// visibility timeout until it is settled.
func (s *Source) track(ctx context.Context, queueURL string, raw *types.Message, fl *flight) *message {
	m := &message{s: s, fl: fl, ctx: context.WithoutCancel(ctx), queue: queueURL, id: aws.ToString(raw.MessageId),
		handle: aws.ToString(raw.ReceiptHandle), body: aws.ToString(raw.Body), pending: 1}
	m.receives, _ = strconv.Atoi(raw.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	fl.add(m)
	m.mu.Lock()
	m.beat = time.AfterFunc(s.beatEvery(), m.extend)
	m.mu.Unlock()
	return m
}

func (s *Source) beatEvery() time.Duration { return s.cfg.VisibilityTimeout.Std() / 2 }

// extend pushes the message's visibility timeout a full timeout ahead.
func (m *message) extend() {
	s := m.s
	ctx, cancel := context.WithTimeout(m.ctx, callTimeout)
	_, err := s.api.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(m.queue), ReceiptHandle: aws.String(m.handle),
		VisibilityTimeout: int32(s.cfg.VisibilityTimeout.Std() / time.Second)})
	cancel()
	next := s.beatEvery()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.beat == nil {
		return // settled meanwhile
	}
	switch {
	case err == nil:
		s.msgs.extended.Add(1)
	case handleGone(err):
		s.log.Warn("aws-sqs: message visibility lost while its objects are read; it may be delivered again",
			"source", s.name, "queue", m.queue, "message_id", m.id, "err", err)
		m.beat = nil
		return
	default:
		s.log.Warn("aws-sqs: visibility extension failed, retrying", "source", s.name, "queue", m.queue,
			"message_id", m.id, "err", err)
		next /= 4
	}
	m.beat.Reset(next)
}

func (m *message) stopBeat() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.beat != nil {
		m.beat.Stop()
		m.beat = nil
	}
}

// process reads the objects a message names; the message is settled when the
// last of them is.
func (s *Source) process(ctx context.Context, m *message, emit source.Emit) {
	if m.receives > s.cfg.MaxReceives {
		s.moveAside(m)
		return
	}
	refs, err := parseMessage(m.body)
	switch {
	case errors.Is(err, errNoObjects):
		s.msgs.ignored.Add(1)
		m.settle(true)
		return
	case err != nil:
		s.msgs.errors.Add(1)
		s.log.Error("aws-sqs: message not understood; left on the queue until max_receives", "source", s.name,
			"queue", m.queue, "message_id", m.id, "receives", m.receives, "err", err)
		m.settle(false)
		return
	}
	for _, ref := range refs {
		if !s.after.IsZero() && !ref.when.IsZero() && ref.when.Before(s.after) {
			s.msgs.old.Add(1)
			s.log.Debug("aws-sqs: object older than only_logs_after skipped", "source", s.name,
				"bucket", ref.bucket, "key", ref.key)
			continue
		}
		m.mu.Lock()
		m.pending++
		m.mu.Unlock()
		st := &objectState{region: ref.region}
		s.objects.Read(context.WithValue(ctx, objectStateKey{}, st), ref.bucket, ref.key, emit, func(ok bool) {
			if st.missing.Load() {
				s.msgs.missing.Add(1)
				s.log.Warn("aws-sqs: object no longer exists; nothing to read", "source", s.name,
					"queue", m.queue, "message_id", m.id, "bucket", ref.bucket, "key", ref.key)
			}
			m.objectDone(ok)
		})
	}
	m.objectDone(true) // all objects started
}

// objectDone records one object's fate; the last one settles the message. It
// may run on the pipeline's acknowledging goroutine, so the SQS calls that
// follow run on their own.
func (m *message) objectDone(ok bool) {
	m.mu.Lock()
	m.pending--
	m.failed = m.failed || !ok
	last, failed := m.pending == 0, m.failed
	m.mu.Unlock()
	if last {
		go m.settle(!failed)
	}
}

// settle deletes the message (ok) or leaves it to reappear, once.
func (m *message) settle(ok bool) {
	m.mu.Lock()
	if m.settled {
		m.mu.Unlock()
		return
	}
	m.settled = true
	m.mu.Unlock()
	m.stopBeat()
	defer m.fl.remove(m)
	s := m.s
	if !ok {
		s.msgs.left.Add(1)
		s.log.Warn("aws-sqs: message left on the queue; it will be received again after the visibility timeout",
			"source", s.name, "queue", m.queue, "message_id", m.id, "receives", m.receives)
		return
	}
	s.delete(m)
}

// delete removes a settled message from the queue.
func (s *Source) delete(m *message) bool {
	ctx, cancel := context.WithTimeout(m.ctx, 5*callTimeout)
	defer cancel()
	err := s.sess.Call(ctx, func(ctx context.Context) error {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		_, err := s.api.DeleteMessage(cctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(m.queue), ReceiptHandle: aws.String(m.handle)})
		return err
	})
	if err != nil {
		s.msgs.errors.Add(1)
		s.log.Error("aws-sqs: message delivered but not deleted; it will be delivered again (same alert ids)",
			"source", s.name, "queue", m.queue, "message_id", m.id, "err", err)
		return false
	}
	s.msgs.deleted.Add(1)
	return true
}

// moveAside takes a message received more than max_receives times off the
// queue: to the dead-letter queue when there is one (sent, then deleted), else
// deleted.
func (s *Source) moveAside(m *message) {
	m.mu.Lock()
	m.settled = true
	m.mu.Unlock()
	m.stopBeat()
	defer m.fl.remove(m)
	s.mu.Lock()
	dlq := s.dlq
	s.mu.Unlock()
	if dlq != "" {
		ctx, cancel := context.WithTimeout(m.ctx, 5*callTimeout)
		err := s.sess.Call(ctx, func(ctx context.Context) error {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			_, err := s.api.SendMessage(cctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(m.body)})
			return err
		})
		cancel()
		if err != nil {
			s.msgs.errors.Add(1)
			s.log.Error("aws-sqs: message not moved to the dead-letter queue; it stays on the queue", "source", s.name,
				"queue", m.queue, "message_id", m.id, "dead_letter_queue", dlq, "err", err)
			return
		}
	}
	if !s.delete(m) {
		return
	}
	s.msgs.movedAside.Add(1)
	s.msgs.errors.Add(1)
	where := "deleted (no dead_letter_queue)"
	if dlq != "" {
		where = "moved to " + dlq
	}
	s.log.Error("aws-sqs: message received too many times; "+where, "source", s.name, "queue", m.queue,
		"message_id", m.id, "receives", m.receives, "max_receives", s.cfg.MaxReceives)
}
