package awslogs

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// maxEmptyPages bounds the pages without events (the service may send some
// while more events follow) read from one stream in one pass.
const maxEmptyPages = 100

// maxBatchBytes ends a batch early when its events are large.
const maxBatchBytes = 4 << 20

// stream reads one listed stream forward from its position, unless the listing
// shows nothing new in it.
func (s *Source) stream(ctx context.Context, c regionClient, group string, ls types.LogStream, start int64, emit source.Emit) error {
	name := aws.ToString(ls.LogStreamName)
	key := streamKey(c.region, group, name)
	s.mu.Lock()
	st := s.streams[key]
	if st != nil {
		st.pass = s.passes
		if st.deleted { // forgotten, not yet committed, and back: keep it
			st.deleted, st.Gone, st.dirty, s.changed = false, 0, true, true
		}
	}
	var from position
	switch {
	case ls.LastIngestionTime == nil && ls.LastEventTimestamp == nil:
		s.mu.Unlock()
		return nil // no events
	case st != nil && st.Read > 0 && ls.LastIngestionTime != nil && *ls.LastIngestionTime <= st.Read:
		s.mu.Unlock()
		return nil // nothing ingested since the stream was last read to its end
	case st == nil && ls.LastEventTimestamp != nil && *ls.LastEventTimestamp < start:
		s.mu.Unlock()
		return nil // only events older than the start
	case st == nil:
		from = position{T: start}
	case st.Pos.T < start:
		from = position{T: start} // only_logs_after was raised
	default:
		from = st.Pos.clone()
	}
	if st != nil {
		st.tr = tracker{acked: map[int]ackResult{}} // nothing is in flight between passes
	}
	s.mu.Unlock()
	s.stats.units.Add(1)
	r := &streamReader{src: s, region: c.region, group: group, stream: name, key: key, emit: emit, from: from, run: from.clone(),
		skip: map[string]int{}, unit: c.region + "/" + group + "/" + name}
	for _, h := range from.H {
		r.skip[h]++
	}
	err := r.read(ctx, c.api, from.T)
	if ferr := r.flush(ctx); err == nil {
		err = ferr
	}
	if err == nil && ls.LastIngestionTime != nil {
		s.mu.Lock()
		st := s.stateOf(key, from)
		st.tr.ended, st.tr.listed = true, *ls.LastIngestionTime
		st.settle()
		s.changed = true
		s.mu.Unlock()
	}
	return err
}

// stateOf returns a stream's state, creating it at position from for a stream
// seen for the first time. Called with the source's lock held.
func (s *Source) stateOf(key string, from position) *streamState {
	st := s.streams[key]
	if st == nil {
		st = &streamState{Pos: from, pass: s.passes, tr: tracker{acked: map[int]ackResult{}}, dirty: true}
		s.streams[key], s.changed = st, true
	}
	return st
}

// streamReader turns one stream's events into batches.
type streamReader struct {
	src                        *Source
	region, group, stream, key string
	unit                       string
	emit                       source.Emit
	from                       position       // where the pass started
	run                        position       // position after the last event added
	skip                       map[string]int // fingerprints delivered at the start time
	batch                      *source.Batch
	ms, idx                    int64 // the current millisecond and the event's index in it
}

// read pages through GetLogEvents from the start time until the service returns
// the forward token it was given, which marks the end of the stream.
func (r *streamReader) read(ctx context.Context, api *cloudwatchlogs.Client, startTime int64) error {
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(r.group), LogStreamName: aws.String(r.stream),
		StartTime: aws.Int64(startTime), StartFromHead: aws.Bool(true)}
	r.ms = startTime - 1
	empty := 0
	for page := 1; ; page++ {
		var out *cloudwatchlogs.GetLogEventsOutput
		err := r.src.sess.Call(ctx, func(ctx context.Context) error {
			var cerr error
			out, cerr = api.GetLogEvents(ctx, in)
			return cerr
		})
		var notFound *types.ResourceNotFoundException
		if errors.As(err, &notFound) {
			return nil // deleted since the listing: forgotten in time
		}
		if err != nil {
			return fmt.Errorf("get log events of %s/%s/%s (page %d): %w", r.region, r.group, r.stream, page, err)
		}
		for _, ev := range out.Events {
			if err := r.add(ctx, ev, startTime); err != nil {
				return err
			}
		}
		tok := out.NextForwardToken
		if tok == nil || (in.NextToken != nil && *tok == *in.NextToken) {
			return nil
		}
		if len(out.Events) > 0 {
			empty = 0
		} else if empty++; empty >= maxEmptyPages {
			return fmt.Errorf("get log events of %s/%s/%s: %d pages without events, stopping this pass", r.region, r.group, r.stream, empty)
		}
		in.NextToken = tok
	}
}

// fingerprint identifies an event within its millisecond.
func fingerprint(ingestion int64, msg string) string {
	h := sha256.New()
	_ = binary.Write(h, binary.BigEndian, ingestion)
	h.Write([]byte(msg))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// add appends one event to the open batch, unless it was delivered before.
func (r *streamReader) add(ctx context.Context, ev types.OutputLogEvent, startTime int64) error {
	ts, ing, msg := aws.ToInt64(ev.Timestamp), aws.ToInt64(ev.IngestionTime), aws.ToString(ev.Message)
	if ts < startTime {
		return nil // before the requested start: the service should not send it
	}
	if ts == r.ms {
		r.idx++
	} else {
		r.ms, r.idx = ts, 0
	}
	h := fingerprint(ing, msg)
	if ts == startTime && r.skip[h] > 0 {
		r.skip[h]--
		r.src.stats.skipped.Add(1)
		return nil
	}
	if ts != r.run.T {
		r.run.T, r.run.H = ts, nil
	}
	r.run.H = append(r.run.H, h)
	if r.batch == nil {
		r.batch = source.NewBatch()
	}
	s := r.src
	r.batch.Add(event.Event{
		Location: Location, AgentID: event.LocalAgentID, AgentName: s.agent, Received: s.now(),
		Origin: event.Origin{Source: s.name, Unit: r.unit, Offset: ts*1_000_000 + min(r.idx, 999_999)},
	}, []byte(msg))
	s.stats.events.Add(1)
	if len(r.batch.Events) >= s.cfg.BatchSize || len(r.batch.Arena) >= maxBatchBytes {
		return r.flush(ctx)
	}
	return nil
}

// flush emits the open batch; its acknowledgement moves the stream's position to
// where the batch ends.
func (r *streamReader) flush(ctx context.Context) error {
	b := r.batch
	if b == nil {
		return nil
	}
	r.batch = nil
	s := r.src
	pos := r.run.clone()
	s.mu.Lock()
	st := s.stateOf(r.key, r.from)
	seq := st.tr.sent
	st.tr.sent++
	s.mu.Unlock()
	return s.flight.Emit(ctx, r.emit, b, func(err error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		st.ack(seq, pos, err)
		s.changed = true
	})
}
