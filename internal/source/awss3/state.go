package awss3

import (
	"fmt"
	"sync"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

// Checkpoint layout, in the source's scope of the store:
//
//	c|<root prefix>  -> YYYY-MM-DD, the oldest day of the root still listed
//	k|<object key>   -> "", an object fully read and acknowledged
//
// Object keys start with their day's prefix, so a day's keys are deleted with one
// prefix scan when the day closes. State therefore holds only the objects of the
// days still inside the re-read window, however many objects pass.
const (
	cursorPrefix = "c|"
	keyPrefix    = "k|"
)

// dayKey identifies one day folder of one root.
type dayKey struct {
	root string
	day  string // YYYY-MM-DD
}

// dayProgress follows one day folder during a poll.
type dayProgress struct {
	prefix   string // key prefix of the day
	listed   bool   // the whole folder was listed
	pending  int    // objects submitted and not yet done
	failed   bool   // an object of the day could not be read in this poll
	closable bool   // the day ended more than the re-read window ago
}

// tracker holds the in-memory side of the checkpoint: objects done but not yet
// committed, days in progress, cursors to move.
type tracker struct {
	mu       sync.Mutex
	inflight map[string]bool         // objects submitted and not yet committed or failed
	done     []string                // object keys acknowledged, to commit
	days     map[dayKey]*dayProgress // days listed in this process
	cursors  map[string]string       // root -> oldest open day, as committed
	deleted  []string                // objects to remove from the bucket after commit
}

func newTracker() *tracker {
	return &tracker{days: make(map[dayKey]*dayProgress), cursors: make(map[string]string), inflight: make(map[string]bool)}
}

// cursor returns a root's committed cursor, loading it from the store.
func (s *Source) cursor(rootPrefix string, def time.Time) (time.Time, error) {
	s.track.mu.Lock()
	c, ok := s.track.cursors[rootPrefix]
	s.track.mu.Unlock()
	if !ok && s.state != nil {
		b, found, err := s.state.Get(s.name, cursorPrefix+rootPrefix)
		if err != nil {
			return time.Time{}, err
		}
		if found {
			c, ok = string(b), true
		}
	}
	if !ok {
		return def, nil
	}
	t, err := time.Parse("2006-01-02", c)
	if err != nil {
		return time.Time{}, fmt.Errorf("checkpoint of %s: bad cursor %q", rootPrefix, c)
	}
	return t, nil
}

// processed loads the keys already read under a day prefix.
func (s *Source) processed(prefix string) (map[string]bool, error) {
	seen := make(map[string]bool)
	if s.state == nil {
		return seen, nil
	}
	err := s.state.ForEachPrefix(s.name, keyPrefix+prefix, func(k string, _ []byte) error {
		seen[k[len(keyPrefix):]] = true
		return nil
	})
	return seen, err
}

// inFlight reports whether an object was submitted and is not yet committed, so a
// poll that overlaps the previous one's acknowledgements does not read it twice.
func (s *Source) inFlight(key string) bool {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	return s.track.inflight[key]
}

// markInFlight records an object as submitted for its day.
func (s *Source) markInFlight(key string, dk dayKey) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	s.track.inflight[key] = true
	if d := s.track.days[dk]; d != nil {
		d.pending++
	}
}

// objectDone records an object as read; its key is written at the next Commit.
func (s *Source) objectDone(dk dayKey, key string) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	s.track.done = append(s.track.done, key)
	if s.cfg.RemoveFromBucket {
		s.track.deleted = append(s.track.deleted, key)
	}
	if d := s.track.days[dk]; d != nil {
		d.pending--
	}
}

// objectFailed records that an object of the day was not fully delivered; the next
// poll reads it again.
func (s *Source) objectFailed(dk dayKey, key string) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	delete(s.track.inflight, key)
	if d := s.track.days[dk]; d != nil {
		d.pending--
		d.failed = true
	}
}

// Commit writes the objects read since the last commit and moves the cursor of each
// root past the days that are complete and outside the re-read window, in one
// transaction; then it removes the objects from the bucket if configured.
func (s *Source) Commit() error {
	s.track.mu.Lock()
	done := s.track.done
	s.track.done = nil
	closing := s.closableDays()
	deletes := s.track.deleted
	s.track.deleted = nil
	s.track.mu.Unlock()
	if len(done) == 0 && len(closing) == 0 {
		return nil
	}
	if s.state != nil {
		err := s.state.Batch(func(tx *checkpoint.Tx) error {
			for _, k := range done {
				if err := tx.Put(s.name, keyPrefix+k, nil); err != nil {
					return err
				}
			}
			for _, c := range closing {
				if _, err := tx.DeletePrefix(s.name, keyPrefix+c.prefix); err != nil {
					return err
				}
				if err := tx.Put(s.name, cursorPrefix+c.root, []byte(c.next)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.track.mu.Lock()
			s.track.done = append(done, s.track.done...) // keep them for the next try
			s.track.deleted = append(deletes, s.track.deleted...)
			s.track.mu.Unlock()
			return fmt.Errorf("commit checkpoints of source %s: %w", s.name, err)
		}
	}
	s.track.mu.Lock()
	for _, k := range done {
		delete(s.track.inflight, k)
	}
	for _, c := range closing {
		s.track.cursors[c.root] = c.next
		delete(s.track.days, dayKey{c.root, c.day})
	}
	s.track.mu.Unlock()
	if len(deletes) > 0 {
		s.removeObjects(deletes)
	}
	return nil
}

type closing struct {
	root, day, next, prefix string
}

// closableDays returns, per root, the run of oldest days that are fully listed,
// fully read, and older than the re-read window. Called with the lock held.
func (s *Source) closableDays() []closing {
	var out []closing
	byRoot := make(map[string][]dayKey)
	for dk := range s.track.days {
		byRoot[dk.root] = append(byRoot[dk.root], dk)
	}
	for rootPrefix := range byRoot {
		cur, ok := s.track.cursors[rootPrefix]
		if !ok {
			continue
		}
		for {
			d := s.track.days[dayKey{rootPrefix, cur}]
			if d == nil || !d.listed || d.pending > 0 || d.failed || !d.closable {
				break
			}
			t, _ := time.Parse("2006-01-02", cur)
			next := t.AddDate(0, 0, 1).Format("2006-01-02")
			out = append(out, closing{root: rootPrefix, day: cur, next: next, prefix: d.prefix})
			cur = next
		}
	}
	return out
}
