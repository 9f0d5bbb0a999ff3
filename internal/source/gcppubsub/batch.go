package gcppubsub

import (
	"context"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// maxBatchBytes closes a batch early when its events grow large, so one batch
// does not hold more than a few megabytes of arena.
const maxBatchBytes = 4 << 20

// pending is a batch being filled or in the pipeline, with the messages whose
// fate its acknowledgement decides.
type pending struct {
	b     *source.Batch
	msgs  []*pubsub.Message
	timer *time.Timer
	done  chan struct{} // closed once the messages are acked or nacked
	once  sync.Once
	src   *Source
}

// settle acknowledges the messages (err nil: their alerts are durable) or
// nacks them, so Pub/Sub delivers them again. Only the first call counts: a
// batch given up at shutdown and acknowledged later stays nacked.
func (p *pending) settle(err error) {
	p.once.Do(func() {
		for _, m := range p.msgs {
			if err == nil {
				m.Ack()
			} else {
				m.Nack()
			}
		}
		n := int64(len(p.msgs))
		if err == nil {
			p.src.msgs.acked.Add(n)
		} else {
			p.src.msgs.nacked.Add(n)
			p.src.nackLog(err, n)
		}
		p.msgs = nil
		close(p.done)
	})
}

// batcher gathers messages into batches of up to size messages, sending a
// batch when it is full or linger after its first message.
type batcher struct {
	ctx    context.Context // the Run's context: emit ends with it
	emit   source.Emit
	size   int
	linger time.Duration
	src    *Source

	mu  sync.Mutex
	cur *pending
}

// add puts a message's event into the current batch and returns that batch;
// when the batch is full, it is sent from the caller's goroutine, so a full
// pipeline slows the callbacks down.
func (bt *batcher) add(ev event.Event, data []byte, kind dataKind, m *pubsub.Message) *pending {
	bt.mu.Lock()
	p := bt.cur
	if p == nil {
		p = &pending{b: source.NewBatch(), done: make(chan struct{}), src: bt.src}
		bt.cur = p
		if bt.size > 1 {
			p.timer = time.AfterFunc(bt.linger, func() { bt.flush(p) })
		}
	}
	start := len(p.b.Arena)
	p.b.Arena = appendEvent(p.b.Arena, data, kind)
	// A capped slice: events appended later never write into this one's bytes.
	ev.Log = p.b.Arena[start:len(p.b.Arena):len(p.b.Arena)]
	p.b.Events = append(p.b.Events, ev)
	p.msgs = append(p.msgs, m)
	full := len(p.msgs) >= bt.size || len(p.b.Arena) >= maxBatchBytes
	if full {
		bt.cur = nil
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	bt.mu.Unlock()
	if full {
		bt.send(p)
	}
	return p
}

// flush sends p if it is still the batch being filled (its linger ran out).
func (bt *batcher) flush(p *pending) {
	bt.mu.Lock()
	if bt.cur != p {
		bt.mu.Unlock()
		return
	}
	bt.cur = nil
	bt.mu.Unlock()
	bt.send(p)
}

// flushAll sends the batch being filled, if any.
func (bt *batcher) flushAll() {
	bt.mu.Lock()
	p := bt.cur
	bt.mu.Unlock()
	if p != nil {
		if p.timer != nil {
			p.timer.Stop()
		}
		bt.flush(p)
	}
}

// abandon nacks p's messages (shutdown took too long); a batch still being
// filled stops taking messages first.
func (bt *batcher) abandon(p *pending, err error) {
	bt.mu.Lock()
	if bt.cur == p {
		bt.cur = nil
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	bt.mu.Unlock()
	p.settle(err)
}

// send hands p to the pipeline; its Ack settles the messages. A batch the
// pipeline did not take (Run's context ended) is nacked at once.
func (bt *batcher) send(p *pending) {
	b := p.b
	b.Ack = p.settle
	n := int64(len(b.Events))
	if err := bt.emit(bt.ctx, b); err != nil {
		p.settle(err)
		return
	}
	bt.src.events.Add(n)
}
