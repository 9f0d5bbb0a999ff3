package localdir

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/skywatch-dev/skywatch/internal/decode/awsevent"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// objectRecords reads one stream as an S3 object of an AWS log type: the file's
// path relative to the source root is the object key. Record indexes are the
// reader's, following the ones of earlier zip members.
func (r *recordReader) objectRecords(ctx context.Context, in io.Reader) error {
	s := r.src
	base := r.next
	or, err := awsevent.NewObjectReader(s.cfg.LogType, in,
		awsevent.ObjectInfo{Bucket: s.cfg.Bucket, Key: r.rel, AccountAlias: s.cfg.AccountAlias},
		awsevent.Options{MaxRecordBytes: s.maxRec, SkipRecords: max(r.skip-base, 0)})
	if err != nil {
		return err
	}
	loc := s.cfg.Location
	if loc == "" {
		loc = "Wazuh-AWS"
	}
	for {
		ev, rec, err := or.Next()
		if errors.Is(err, io.EOF) {
			r.next = base + or.Records()
			return nil
		}
		idx := base + rec
		if err != nil {
			var re *awsevent.RecordError
			if errors.As(err, &re) && !re.Fatal {
				r.badRecord(err)
				r.next = max(r.next, idx+1)
				continue
			}
			return fmt.Errorf("read %s: %w", r.path, err)
		}
		part, count := or.Part()
		// A record is acknowledged once all its events are in batches: until
		// then the checkpoint stops in front of it.
		r.next = idx
		if part+1 == count {
			r.next = idx + 1
		}
		if err := r.addEvent(ctx, ev, loc, awsevent.EventOffset(idx, part)); err != nil {
			return err
		}
	}
}

// addEvent appends one event to the open batch, flushing it when full.
func (r *recordReader) addEvent(ctx context.Context, ev []byte, loc string, off int64) error {
	s := r.src
	if r.batch == nil {
		r.batch = source.NewBatch()
	}
	r.batch.Add(event.Event{
		Location: loc, AgentID: event.LocalAgentID, AgentName: s.agent, Received: s.now(),
		Origin: event.Origin{Source: s.name, Unit: r.path, Offset: off},
	}, ev)
	s.stats.events.Add(1)
	if len(r.batch.Events) >= s.cfg.BatchSize || len(r.batch.Arena) >= 4<<20 {
		return r.flush(ctx)
	}
	return nil
}
