package azurela

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

// Checkpoint keys, in the source's scope of the store, per stream (one
// workspace and the query; <id> is a hash of both, so a changed query starts
// afresh, as Wazuh keys its state by md5(workspace, query)):
//
//	cursor/<id>         {"workspace","cursor"}: every row whose TimeGenerated
//	                    lies before cursor was read and delivered
//	seen/<id>/<rowkey>  ms: a delivered row that a later window may return
//	                    again (it lies after cursor - overlap, or after cursor
//	                    in a window not yet complete), with its time
const (
	cursorPrefix = "cursor/"
	seenPrefix   = "seen/"
)

type cursorValue struct {
	Workspace string    `json:"workspace"`
	Cursor    time.Time `json:"cursor"`
}

// stream is one workspace's position.
type stream struct {
	id, workspace string
	cursor        time.Time // zero until set
	dirty         bool      // cursor changed since the last commit
	seen          map[rowKey]int64
	onDisk        map[rowKey]bool
	newSeen       map[rowKey]int64
	win           *window
}

// window is what one pass reads of a stream: [from, to), split into leaves
// (the time ranges actually queried) when the service truncated a reply.
type window struct {
	leaves []*leaf         // in time order; settled leaves are removed
	sent   map[rowKey]bool // rows emitted by this pass
}

type leaf struct {
	to      time.Time
	read    bool // every row was emitted
	pending int  // batches not yet acknowledged
	failed  bool // a batch failed or the read stopped: the cursor stays before it
}

func streamID(workspace, query string) string {
	h := sha256.Sum256([]byte(strings.ToLower(workspace) + "\n" + query))
	return hex.EncodeToString(h[:8])
}

func newStream(id, workspace string) *stream {
	return &stream{id: id, workspace: workspace, seen: map[rowKey]int64{}, onDisk: map[rowKey]bool{},
		newSeen: map[rowKey]int64{}}
}

// settle moves the cursor over the leading leaves that are read and
// acknowledged. Called with the source's lock held.
func (st *stream) settle(w *window) {
	for len(w.leaves) > 0 {
		l := w.leaves[0]
		if !l.read || l.pending > 0 || l.failed {
			return
		}
		w.leaves = w.leaves[1:]
		if l.to.After(st.cursor) {
			st.cursor, st.dirty = l.to, true
		}
	}
}

// delivered reports whether a row was already delivered or emitted.
func (st *stream) delivered(w *window, k rowKey) bool {
	_, ok := st.seen[k]
	return ok || w.sent[k]
}

// load reads every stream's checkpoint; streams of workspaces or queries no
// longer configured are left alone.
func (s *Source) load() error {
	if s.state == nil {
		return nil
	}
	byID := map[string]*stream{}
	for _, st := range s.streams {
		byID[st.id] = st
	}
	err := s.state.ForEachPrefix(s.name, cursorPrefix, func(key string, val []byte) error {
		st := byID[strings.TrimPrefix(key, cursorPrefix)]
		if st == nil {
			return nil
		}
		var v cursorValue
		if err := json.Unmarshal(val, &v); err != nil {
			return fmt.Errorf("checkpoint %s: %w", key, err)
		}
		st.cursor = v.Cursor
		return nil
	})
	if err != nil {
		return fmt.Errorf("source %s: load checkpoints: %w", s.name, err)
	}
	for _, st := range s.streams {
		prefix := seenPrefix + st.id + "/"
		err := s.state.ForEachPrefix(s.name, prefix, func(key string, val []byte) error {
			var k rowKey
			b, herr := hex.DecodeString(strings.TrimPrefix(key, prefix))
			ms, perr := strconv.ParseInt(string(val), 10, 64)
			if herr != nil || perr != nil || len(b) != len(k) {
				return fmt.Errorf("checkpoint %s: malformed", key)
			}
			copy(k[:], b)
			st.seen[k], st.onDisk[k] = ms, true
			return nil
		})
		if err != nil {
			return fmt.Errorf("source %s: load checkpoints: %w", s.name, err)
		}
	}
	return nil
}

// Commit writes what acknowledgements changed, in one transaction: rows
// delivered, cursors moved, and the rows that no window can return again
// (before cursor - overlap) forgotten.
func (s *Source) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil {
		return nil
	}
	type change struct {
		key string
		val []byte // nil: delete
	}
	var changes []change
	drops := map[*stream][]rowKey{}
	for _, st := range s.streams {
		horizon := st.cursor.Add(-s.cfg.Overlap.Std()).UnixMilli()
		if st.dirty {
			b, _ := json.Marshal(cursorValue{Workspace: st.workspace, Cursor: st.cursor})
			changes = append(changes, change{cursorPrefix + st.id, b})
			for k, ms := range st.seen {
				if ms < horizon {
					drops[st] = append(drops[st], k)
					if st.onDisk[k] {
						changes = append(changes, change{seenPrefix + st.id + "/" + k.String(), nil})
					}
				}
			}
		}
		for k, ms := range st.newSeen {
			switch {
			case ms >= horizon:
				changes = append(changes, change{seenPrefix + st.id + "/" + k.String(), strconv.AppendInt(nil, ms, 10)})
			case !st.dirty:
				drops[st] = append(drops[st], k) // no window can return it again
			}
		}
	}
	if len(changes) == 0 {
		return nil
	}
	err := s.state.Batch(func(tx *checkpoint.Tx) error {
		for _, c := range changes {
			var err error
			if c.val == nil {
				err = tx.Delete(s.name, c.key)
			} else {
				err = tx.Put(s.name, c.key, c.val)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("source %s: commit checkpoints: %w", s.name, err)
	}
	for _, st := range s.streams {
		for k := range st.newSeen {
			st.onDisk[k] = true // dropped again below when it was not written
		}
		clear(st.newSeen)
		for _, k := range drops[st] {
			delete(st.seen, k)
			delete(st.onDisk, k)
		}
		st.dirty = false
	}
	return nil
}
