package awslogs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
)

// Checkpoint keys, in the source's scope of the store. Group names and stream
// names cannot contain ':', so the keys are unambiguous.
//
//	start:<region>:<group>            ms: where streams first seen start
//	s:<region>:<group>:<stream>       the stream's position (streamState)
const (
	startPrefix  = "start:"
	streamPrefix = "s:"
)

// position is how far a stream is delivered: every event before T, and at T
// the events whose fingerprints are in H (GetLogEvents gives no event ids; the
// fingerprint covers ingestion time and message).
type position struct {
	T int64    `json:"t"`
	H []string `json:"h,omitempty"`
}

func (p position) clone() position {
	p.H = append([]string(nil), p.H...)
	return p
}

// streamState is one stream's checkpoint and its bookkeeping.
type streamState struct {
	Pos position `json:"pos"`
	// Read is the stream's lastIngestionTime, as listed, when a pass last read it
	// to its end and every batch was acknowledged: a listing showing no later
	// ingestion needs no read.
	Read int64 `json:"read,omitempty"`
	Gone int64 `json:"gone,omitempty"` // ms since when the stream is missing from listings

	dirty   bool
	deleted bool
	pass    int // last pass whose listing showed the stream
	tr      tracker
}

// tracker orders a pass's batch acknowledgements: the position only moves over
// the contiguous prefix of acknowledged batches, and never past a failed one.
type tracker struct {
	next, sent int
	acked      map[int]ackResult
	blocked    bool
	// ended is set when the pass read the stream to its end; listed is the
	// lastIngestionTime the listing showed then.
	ended  bool
	listed int64
}

type ackResult struct {
	pos position
	err error
}

// ack records batch seq's fate and moves the stream's position. Called with the
// source's lock held.
func (st *streamState) ack(seq int, pos position, err error) {
	st.tr.acked[seq] = ackResult{pos, err}
	for {
		r, ok := st.tr.acked[st.tr.next]
		if !ok {
			st.settle()
			return
		}
		delete(st.tr.acked, st.tr.next)
		st.tr.next++
		switch {
		case st.tr.blocked:
		case r.err != nil:
			st.tr.blocked = true
		default:
			st.Pos, st.dirty = r.pos, true
		}
	}
}

// settle records a stream read to its end once all of the pass's batches are
// acknowledged. Called with the source's lock held.
func (st *streamState) settle() {
	t := &st.tr
	if t.ended && !t.blocked && t.next == t.sent && st.Read != t.listed {
		st.Read, st.dirty = t.listed, true
	}
}

func streamKey(region, group, stream string) string {
	return streamPrefix + region + ":" + group + ":" + stream
}

func startKey(region, group string) string {
	return startPrefix + region + ":" + group
}

// load reads the checkpoints of every stream and group.
func (s *Source) load() error {
	s.streams, s.starts = map[string]*streamState{}, map[string]int64{}
	return awsclient.LoadCheckpoints(s.state, s.name, func(key string, val []byte) error {
		switch {
		case strings.HasPrefix(key, streamPrefix):
			st := &streamState{}
			if err := json.Unmarshal(val, st); err != nil {
				return fmt.Errorf("checkpoint %s: %w", key, err)
			}
			s.streams[key] = st
		case strings.HasPrefix(key, startPrefix):
			ms, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil {
				return fmt.Errorf("checkpoint %s: %w", key, err)
			}
			s.starts[key] = ms
		}
		return nil
	})
}

// Commit writes, in one transaction, the positions acknowledgements moved, the
// starting points of newly read groups, and the removal of forgotten streams.
func (s *Source) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.changed {
		return nil
	}
	if s.state == nil {
		s.committed()
		return nil
	}
	var changes []awsclient.Change
	for key, st := range s.streams {
		switch {
		case st.deleted:
			changes = append(changes, awsclient.Change{Key: key}) // delete
		case st.dirty:
			b, _ := json.Marshal(st)
			changes = append(changes, awsclient.Change{Key: key, Val: b})
		}
	}
	for key := range s.newStarts {
		changes = append(changes, awsclient.Change{Key: key, Val: strconv.AppendInt(nil, s.starts[key], 10)})
	}
	if len(changes) == 0 {
		return nil
	}
	if err := awsclient.CommitCheckpoints(s.state, s.name, changes); err != nil {
		return err
	}
	s.committed()
	return nil
}

// committed clears the change marks once the changes are on disk.
func (s *Source) committed() {
	for key, st := range s.streams {
		if st.deleted {
			delete(s.streams, key)
		}
		st.dirty = false
	}
	s.newStarts = map[string]bool{}
	s.changed = false
}
