package msgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

// Checkpoint keys, in the source's scope of the store:
//
//	cursor/<unit>         {"end": ns, "floor": ns}: every record of the unit
//	                      with a time before end was delivered; windows never
//	                      start before floor (only_logs_after or the first
//	                      run's start)
//	seen/<unit>\x00<key>  ns: the record version <id>@<time> was delivered;
//	                      kept while a window may list it again (time at or
//	                      after end - lookback), or until its window completes
//
// <unit> is the resource path, with "?<filter>" when it has an extra filter.
const (
	cursorPrefix = "cursor/"
	seenPrefix   = "seen/"
	keySep       = "\x00"
)

type cursorValue struct {
	End   int64 `json:"end"`
	Floor int64 `json:"floor"`
}

// unitState is one resource's position. The cursor moves only when a whole
// window is delivered; until then the versions delivered are remembered one by
// one, and they are kept after it for as long as the next windows' lookback
// can list them again.
type unitState struct {
	end, floor time.Time // zero end: not started
	seen       map[string]time.Time
	onDisk     map[string]bool      // seen keys in the store
	newSeen    map[string]time.Time // seen entries not yet written
	gone       map[string]bool      // seen keys to delete from the store
	dirty      bool                 // cursor changed
	win        *window
}

// window is the query of one span of a unit.
type window struct {
	from, to time.Time
	listed   bool // every page was read
	failed   bool // a page or a batch failed: the cursor must not move
	pending  int  // batches not yet acknowledged
	sent     map[string]bool
	done     chan struct{} // closed when settled
}

func newUnitState() *unitState {
	return &unitState{seen: map[string]time.Time{}, onDisk: map[string]bool{}, newSeen: map[string]time.Time{}, gone: map[string]bool{}}
}

func newWindow(from, to time.Time) *window {
	return &window{from: from, to: to, sent: map[string]bool{}, done: make(chan struct{})}
}

// wait returns when the window is settled (listed, every batch acknowledged)
// or ctx ends.
func (w *window) wait(ctx context.Context) error {
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// settle completes the window once listed with nothing pending: on success the
// cursor moves to its end and the versions no later window can list are
// forgotten. Called with the source's lock held.
func (u *unitState) settle(w *window, lookback time.Duration) {
	if w != u.win || !w.listed || w.pending > 0 {
		return
	}
	u.win = nil
	close(w.done)
	if w.failed {
		return
	}
	if w.to.After(u.end) {
		u.end, u.dirty = w.to, true
	}
	keep := u.start(lookback)
	for k, t := range u.seen {
		if t.Before(keep) {
			delete(u.seen, k)
			delete(u.newSeen, k)
			if u.onDisk[k] {
				u.gone[k] = true
			}
		}
	}
}

// start is where the next window begins: lookback before the cursor, never
// before the floor.
func (u *unitState) start(lookback time.Duration) time.Time {
	from := u.end.Add(-lookback)
	if from.Before(u.floor) {
		return u.floor
	}
	return from
}

// load reads every unit's checkpoint. Called with the lock held.
func (s *Source) load() error {
	s.units = map[string]*unitState{}
	if s.state == nil {
		return nil
	}
	err := s.state.ForEach(s.name, func(key string, val []byte) error {
		switch {
		case strings.HasPrefix(key, cursorPrefix):
			var v cursorValue
			if err := json.Unmarshal(val, &v); err != nil {
				return fmt.Errorf("checkpoint %q: %w", key, err)
			}
			u := s.unit(strings.TrimPrefix(key, cursorPrefix))
			u.end, u.floor = time.Unix(0, v.End).UTC(), time.Unix(0, v.Floor).UTC()
		case strings.HasPrefix(key, seenPrefix):
			unit, rk, ok := strings.Cut(strings.TrimPrefix(key, seenPrefix), keySep)
			ns, err := strconv.ParseInt(string(val), 10, 64)
			if !ok || err != nil {
				return fmt.Errorf("checkpoint %q: malformed", key)
			}
			u := s.unit(unit)
			u.seen[rk], u.onDisk[rk] = time.Unix(0, ns).UTC(), true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read checkpoints of source %s: %w", s.name, err)
	}
	return nil
}

func (s *Source) unit(key string) *unitState {
	u := s.units[key]
	if u == nil {
		u = newUnitState()
		s.units[key] = u
	}
	return u
}

// Commit writes what acknowledgements changed, in one transaction: versions
// delivered, cursors of completed windows, and versions no window can list
// again (deleted). The pipeline calls it after each group of acknowledgements.
func (s *Source) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil {
		return nil
	}
	changed := false
	for _, u := range s.units {
		changed = changed || u.dirty || len(u.newSeen) > 0 || len(u.gone) > 0
	}
	if !changed {
		return nil
	}
	err := s.state.Batch(func(tx *checkpoint.Tx) error {
		for name, u := range s.units {
			if u.dirty {
				b, _ := json.Marshal(cursorValue{End: u.end.UnixNano(), Floor: u.floor.UnixNano()})
				if err := tx.Put(s.name, cursorPrefix+name, b); err != nil {
					return err
				}
			}
			for k := range u.gone {
				if err := tx.Delete(s.name, seenPrefix+name+keySep+k); err != nil {
					return err
				}
			}
			for k, t := range u.newSeen {
				if err := tx.Put(s.name, seenPrefix+name+keySep+k, strconv.AppendInt(nil, t.UnixNano(), 10)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit checkpoints of source %s: %w", s.name, err)
	}
	for _, u := range s.units {
		for k := range u.gone {
			delete(u.onDisk, k)
		}
		for k := range u.newSeen {
			u.onDisk[k] = true
		}
		u.dirty, u.gone, u.newSeen = false, map[string]bool{}, map[string]time.Time{}
	}
	return nil
}
