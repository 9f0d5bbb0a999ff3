package gcs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"cloud.google.com/go/storage"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

// Checkpoint layout, in the source's scope of the store:
//
//	c|<root prefix>  -> YYYY-MM-DD, the oldest day of the root still listed
//	k|<object name>  -> "", an object fully read and acknowledged
//
// Object names start with their day's prefix, so a day's names are deleted with
// one prefix scan when the day closes: the state holds only the objects of the
// days still inside the re-read window, however many objects pass.
const (
	cursorPrefix = "c|"
	keyPrefix    = "k|"
)

// dayKey identifies one day of one root.
type dayKey struct {
	root string
	day  string // YYYY-MM-DD
}

// dayProgress follows one day during a poll.
type dayProgress struct {
	prefix   string // name prefix of the day
	listed   bool   // the whole day was listed
	pending  int    // objects submitted and not yet done
	failed   bool   // an object of the day could not be read in this poll
	closable bool   // the day ended more than the re-read window ago
}

// readObject is an object read and acknowledged, waiting for Commit.
type readObject struct {
	name       string
	generation int64 // the generation read, so that a delete spares a newer one
}

// tracker holds the in-memory side of the checkpoint: objects done but not yet
// committed, days in progress, cursors to move.
type tracker struct {
	mu       sync.Mutex
	inflight map[string]bool         // objects submitted and not yet committed or failed
	done     []readObject            // objects acknowledged, to commit
	days     map[dayKey]*dayProgress // days listed in this process
	cursors  map[string]string       // root -> oldest open day, as committed
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
			return time.Time{}, fmt.Errorf("source %s: read checkpoint: %w", s.name, err)
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
		return time.Time{}, fmt.Errorf("source %s: checkpoint of %s: bad cursor %q", s.name, rootPrefix, c)
	}
	return t, nil
}

// processed loads the names already read under a day prefix.
func (s *Source) processed(prefix string) (map[string]bool, error) {
	seen := make(map[string]bool)
	if s.state == nil {
		return seen, nil
	}
	err := s.state.ForEachPrefix(s.name, keyPrefix+prefix, func(k string, _ []byte) error {
		seen[k[len(keyPrefix):]] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("source %s: read checkpoint: %w", s.name, err)
	}
	return seen, nil
}

// markInFlight records an object as submitted for its day. It returns false
// when the object is already in flight: a poll that overlaps the previous
// one's acknowledgements must not read it twice.
func (s *Source) markInFlight(name string, dk dayKey) bool {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	if s.track.inflight[name] {
		return false
	}
	s.track.inflight[name] = true
	if d := s.track.days[dk]; d != nil {
		d.pending++
	}
	return true
}

// objectDone records an object as read; its name is written at the next Commit.
func (s *Source) objectDone(dk dayKey, o readObject) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	s.track.done = append(s.track.done, o)
	if d := s.track.days[dk]; d != nil {
		d.pending--
	}
}

// objectFailed records that an object was not fully delivered; the next poll
// reads it again and its day stays open.
func (s *Source) objectFailed(dk dayKey, name string) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	delete(s.track.inflight, name)
	if d := s.track.days[dk]; d != nil {
		d.pending--
		d.failed = true
	}
}

// objectGone records an object deleted between listing and reading: there is
// nothing to read, and nothing is recorded, so a new object of the same name
// is read.
func (s *Source) objectGone(dk dayKey, name string) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	delete(s.track.inflight, name)
	if d := s.track.days[dk]; d != nil {
		d.pending--
	}
}

// Commit writes the objects read since the last commit and moves the cursor of
// each root past the days that are complete and outside the re-read window, in
// one transaction; then it removes the objects from the bucket if configured.
func (s *Source) Commit() error {
	s.track.mu.Lock()
	done := s.track.done
	s.track.done = nil
	closing := s.closableDays()
	s.track.mu.Unlock()
	if len(done) == 0 && len(closing) == 0 {
		return nil
	}
	if s.state != nil {
		err := s.state.Batch(func(tx *checkpoint.Tx) error {
			for _, o := range done {
				if err := tx.Put(s.name, keyPrefix+o.name, nil); err != nil {
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
			s.track.done = append(done, s.track.done...) // kept for the next try
			s.track.mu.Unlock()
			return fmt.Errorf("commit checkpoints of source %s: %w", s.name, err)
		}
	}
	s.track.mu.Lock()
	for _, o := range done {
		delete(s.track.inflight, o.name)
	}
	for _, c := range closing {
		s.track.cursors[c.root] = c.next
		delete(s.track.days, dayKey{c.root, c.day})
	}
	s.track.mu.Unlock()
	if s.cfg.remove() && len(done) > 0 {
		s.removeObjects(done)
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
	roots := make(map[string]bool)
	for dk := range s.track.days {
		roots[dk.root] = true
	}
	for rootPrefix := range roots {
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

// removeObjects deletes objects whose alerts are durable (remove_from_bucket).
// The delete is conditional on the generation read, so an object rewritten
// since is kept. A failed delete is logged; the object stays recorded as read.
func (s *Source) removeObjects(objs []readObject) {
	ctx := context.Background()
	for _, o := range objs {
		h := s.bucket.Object(o.name)
		if o.generation != 0 {
			h = h.If(storage.Conditions{GenerationMatch: o.generation})
		}
		if err := h.Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
			s.log.Error("gcs: remove_from_bucket failed", "source", s.name, "bucket", s.cfg.Bucket, "object", o.name, "err", err)
		}
	}
}
