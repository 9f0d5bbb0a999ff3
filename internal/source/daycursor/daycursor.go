// Package daycursor is the checkpoint of the sources that read buckets laid out
// in day folders (aws-s3, gcs): for each root, a cursor on the oldest day still
// listed, and the objects already read in the days from the cursor on.
//
// Listing on from the last object read, as Wazuh does, would miss objects that
// arrive late with names sorting before it. A source therefore lists every day
// from its root's cursor to today and skips the objects recorded here. A day
// closes once it was listed whole, every object of it was read, and it ended
// more than the re-read window ago: the cursor moves past it and its objects are
// forgotten. Object names start with their day's prefix, so forgetting a day is
// one prefix delete, and the store holds about the re-read window's objects
// however large the bucket.
//
// Checkpoint layout, in the source's scope of the store (existing checkpoints
// depend on it: do not change it):
//
//	c|<root prefix>  -> YYYY-MM-DD, the oldest day of the root still listed
//	k|<object name>  -> "", an object fully read and acknowledged
package daycursor

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

// Key prefixes of the checkpoint layout.
const (
	CursorPrefix = "c|"
	KeyPrefix    = "k|"
)

// DateLayout is how a day is written in cursors and Day.
const DateLayout = "2006-01-02"

// ErrBadCursor is wrapped by Cursor's error when the stored cursor is not a date.
var ErrBadCursor = errors.New("bad cursor")

// Day identifies one day folder of one root.
type Day struct {
	Root string
	Date string // YYYY-MM-DD
}

// dayProgress follows one day folder during a poll.
type dayProgress struct {
	prefix   string // name prefix of the day's objects
	listed   bool   // the whole folder was listed
	pending  int    // objects started and not yet done
	failed   bool   // an object of the day could not be read in this poll
	closable bool   // the day ended more than the re-read window ago
}

// Tracker is the in-memory side of the checkpoint: objects in flight, objects
// done but not yet committed, the days listed and the cursors as committed. Its
// methods are safe for concurrent use by a listing goroutine and reading workers.
//
// O is what a source keeps of an object read until Commit hands it back (the
// name alone, or what a safe delete needs besides, such as a generation); name
// returns the object's name, the key it is recorded under.
type Tracker[O any] struct {
	state  *checkpoint.Store // nil: nothing is persisted
	scope  string            // the source's name, its scope in the store
	window time.Duration     // re-read window
	name   func(O) string

	mu       sync.Mutex
	inflight map[string]bool // started and not yet committed or failed
	done     []O             // acknowledged, to commit
	days     map[Day]*dayProgress
	cursors  map[string]string // root -> oldest open day, as committed
}

// New returns the tracker of a source that keeps its checkpoint in state (nil:
// none) under scope, closing days a re-read window after they end.
func New[O any](state *checkpoint.Store, scope string, window time.Duration, name func(O) string) *Tracker[O] {
	return &Tracker[O]{state: state, scope: scope, window: window, name: name,
		inflight: make(map[string]bool), days: make(map[Day]*dayProgress), cursors: make(map[string]string)}
}

// FirstDay is where a root with no cursor starts: the day onlyAfter
// (YYYY-MM-DD, the source's only_logs_after, checked by its configuration) or,
// when it is empty, the day of now in UTC.
func FirstDay(onlyAfter string, now time.Time) time.Time {
	if onlyAfter != "" {
		t, _ := time.Parse(DateLayout, onlyAfter)
		return t
	}
	return dayOf(now)
}

// dayOf returns the start of t's day in UTC, the zone of the day folders.
func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Cursor returns a root's first open day: the committed cursor, or def for a
// root with none. The tracker remembers it as the root's cursor, so that days
// from it on can close. Errors from the store are returned as they are.
func (t *Tracker[O]) Cursor(root string, def time.Time) (time.Time, error) {
	t.mu.Lock()
	c, ok := t.cursors[root]
	t.mu.Unlock()
	if !ok && t.state != nil {
		b, found, err := t.state.Get(t.scope, CursorPrefix+root)
		if err != nil {
			return time.Time{}, err
		}
		if found {
			c, ok = string(b), true
		}
	}
	first := def
	if ok {
		var err error
		if first, err = time.Parse(DateLayout, c); err != nil {
			return time.Time{}, fmt.Errorf("checkpoint of %s: %w %q", root, ErrBadCursor, c)
		}
	}
	t.mu.Lock()
	if _, ok := t.cursors[root]; !ok {
		t.cursors[root] = first.Format(DateLayout)
	}
	t.mu.Unlock()
	return first, nil
}

// Processed returns the names of the objects under prefix (a day's) recorded
// as read. Errors from the store are returned as they are.
func (t *Tracker[O]) Processed(prefix string) (map[string]bool, error) {
	seen := make(map[string]bool)
	if t.state == nil {
		return seen, nil
	}
	err := t.state.ForEachPrefix(t.scope, KeyPrefix+prefix, func(k string, _ []byte) error {
		seen[k[len(KeyPrefix):]] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return seen, nil
}

// BeginDay records that the listing of a day of root, whose objects' names
// start with prefix, begins at now. The day cannot close until Listed: objects
// not listed yet may be missing from the checkpoint.
func (t *Tracker[O]) BeginDay(root string, date time.Time, prefix string, now time.Time) Day {
	return t.day(root, date, prefix, now, false)
}

// Listed records that a day begun with BeginDay was listed whole.
func (t *Tracker[O]) Listed(d Day) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.days[d]; p != nil {
		p.listed = true
	}
}

// EmptyDay records a day found empty at now, so that the cursor can move past it.
func (t *Tracker[O]) EmptyDay(root string, date time.Time, prefix string, now time.Time) {
	t.day(root, date, prefix, now, true)
}

func (t *Tracker[O]) day(root string, date time.Time, prefix string, now time.Time, listed bool) Day {
	d := Day{Root: root, Date: date.Format(DateLayout)}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.days[d]
	if p == nil {
		p = &dayProgress{prefix: prefix}
		t.days[d] = p
	}
	// A failure of an earlier poll is retried by this one.
	p.listed, p.failed = listed, false
	p.closable = now.Sub(date.AddDate(0, 0, 1)) > t.window
	return d
}

// Start records an object of a day as submitted for reading. It returns false
// when the object is already in flight: a poll that overlaps the previous one's
// acknowledgements must not read it twice.
func (t *Tracker[O]) Start(d Day, name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inflight[name] {
		return false
	}
	t.inflight[name] = true
	if p := t.days[d]; p != nil {
		p.pending++
	}
	return true
}

// Done records an object as read and acknowledged; it is written at the next
// Commit and stays in flight until then.
func (t *Tracker[O]) Done(d Day, o O) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done = append(t.done, o)
	if p := t.days[d]; p != nil {
		p.pending--
	}
}

// Failed records that an object was not fully delivered: the next poll reads
// it again, and its day stays open until then.
func (t *Tracker[O]) Failed(d Day, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.inflight, name)
	if p := t.days[d]; p != nil {
		p.pending--
		p.failed = true
	}
}

// Gone records an object deleted between listing and reading: there is nothing
// to read and nothing is recorded, so that a new object of the same name is read.
func (t *Tracker[O]) Gone(d Day, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.inflight, name)
	if p := t.days[d]; p != nil {
		p.pending--
	}
}

// Progress counts the days of a pass over every root, for a source's
// progress report: a backfill from a date long past moves through them in order.
type Progress struct {
	Done, Total atomic.Int64
}

// Reset starts a new pass.
func (p *Progress) Reset() {
	p.Done.Store(0)
	p.Total.Store(0)
}

// Walk is what Tracker.Walk needs of a source to list one root.
type Walk struct {
	// Prefix returns the name prefix of a day's objects.
	Prefix func(day time.Time) string
	// List lists a day and starts the objects not read yet (BeginDay, Start,
	// Listed).
	List func(day time.Time) error
	// Next returns the first day from "from" on that holds an object, or the
	// day after last when none does; "from" when it cannot tell.
	Next func(from, last time.Time) (time.Time, error)
}

// Walk lists the open days of root, from first (its Cursor) to the day of now
// (UTC): each day that holds objects with w.List, and the days w.Next skips are
// recorded as empty. Asking for the next object spares a backfill over months
// of empty days one listing per day. It stops at the first error.
func (t *Tracker[O]) Walk(root string, first, now time.Time, w Walk, p *Progress) error {
	today := dayOf(now)
	if days := int64(today.Sub(first)/(24*time.Hour)) + 1; days > 0 {
		p.Total.Add(days)
	}
	for day := first; !day.After(today); {
		if err := w.List(day); err != nil {
			return err
		}
		next := day.AddDate(0, 0, 1)
		jump, err := w.Next(next, today)
		if err != nil {
			return err
		}
		for d := next; d.Before(jump); d = d.AddDate(0, 0, 1) {
			t.EmptyDay(root, d, w.Prefix(d), now)
		}
		p.Done.Add(int64(jump.Sub(day) / (24 * time.Hour)))
		day = jump
	}
	return nil
}

// closing is a day to close and the cursor after it.
type closing struct {
	root, day, next, prefix string
}

// Commit writes the objects done since the last commit and moves the cursor of
// each root past the days that are complete and outside the re-read window
// (forgetting their objects), in one transaction. It returns the objects it
// wrote, for a source that removes them from the bucket once their reading is
// durable. When the transaction fails, nothing moves and the objects are kept
// for the next Commit.
func (t *Tracker[O]) Commit() ([]O, error) {
	t.mu.Lock()
	done := t.done
	t.done = nil
	closes := t.closableDays()
	t.mu.Unlock()
	if len(done) == 0 && len(closes) == 0 {
		return nil, nil
	}
	if t.state != nil {
		err := t.state.Batch(func(tx *checkpoint.Tx) error {
			for _, o := range done {
				if err := tx.Put(t.scope, KeyPrefix+t.name(o), nil); err != nil {
					return err
				}
			}
			for _, c := range closes {
				if _, err := tx.DeletePrefix(t.scope, KeyPrefix+c.prefix); err != nil {
					return err
				}
				if err := tx.Put(t.scope, CursorPrefix+c.root, []byte(c.next)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.mu.Lock()
			t.done = append(done, t.done...) // kept for the next try
			t.mu.Unlock()
			return nil, fmt.Errorf("commit checkpoints of source %s: %w", t.scope, err)
		}
	}
	t.mu.Lock()
	for _, o := range done {
		delete(t.inflight, t.name(o))
	}
	for _, c := range closes {
		t.cursors[c.root] = c.next
		delete(t.days, Day{c.root, c.day})
	}
	t.mu.Unlock()
	return done, nil
}

// closableDays returns, per root, the run of oldest days from the cursor on that
// are listed whole, read whole and older than the re-read window. A day not
// seen in this process stops the run: nothing says it is empty. Called with the
// lock held.
func (t *Tracker[O]) closableDays() []closing {
	var out []closing
	roots := make(map[string]bool)
	for d := range t.days {
		roots[d.Root] = true
	}
	for root := range roots {
		cur, ok := t.cursors[root]
		if !ok {
			continue
		}
		for {
			p := t.days[Day{root, cur}]
			if p == nil || !p.listed || p.pending > 0 || p.failed || !p.closable {
				break
			}
			day, _ := time.Parse(DateLayout, cur)
			next := day.AddDate(0, 0, 1).Format(DateLayout)
			out = append(out, closing{root: root, day: cur, next: next, prefix: p.prefix})
			cur = next
		}
	}
	return out
}
