package azureblob

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

// Checkpoint layout, in the source's scope of the store (container names cannot
// hold '|'):
//
//	c|<container>|<root>   YYYY-MM-DD: the oldest day folder of a dated root
//	                       (the prefix that holds y=YYYY/m=MM/d=DD/ folders) still listed
//	w|<container>|<path>   RFC 3339 time: blobs outside day folders last modified
//	                       before it are all read
//	b|<container>|<name>   blobState of a blob in a day folder
//	n|<container>|<name>   blobState of a blob outside day folders
//
// Blob names in a day folder start with the folder's prefix, so a day's entries
// go with one prefix delete when the day closes (reread_window after it ends,
// every blob read); entries outside day folders go when the watermark passes
// their last modification. The store therefore holds the blobs of the days and
// the window still open, however large the container.
const (
	cursorPrefix    = "c|"
	watermarkPrefix = "w|"
	datedPrefix     = "b|"
	undatedPrefix   = "n|"
)

// blobState is how far a blob was read and acknowledged.
type blobState struct {
	ETag string `json:"e"`
	// Size is the blob's size in the version read.
	Size int64 `json:"s"`
	// Off is the end of the last record acknowledged (in the decompressed
	// stream for gzip blobs): a grown blob is read on from there.
	Off int64 `json:"o"`
	// Done: the version read was read to its end.
	Done bool `json:"d,omitempty"`
	// Form is how the records are laid out: 'a' a {"records":[...]} array, 'l'
	// JSON lines, 'c' concatenated JSON values, 't' text lines.
	Form string `json:"f,omitempty"`
	Gzip bool   `json:"z,omitempty"`
	// Modified is the blob's last modification (Unix ns) when listed.
	Modified int64 `json:"m"`
}

// dayProgress follows one day folder during a pass.
type dayProgress struct {
	prefix  string // blob name prefix of the folder (…/y=2024/m=05/d=01/)
	listed  bool
	pending int
	failed  bool
}

// rootProgress follows one dated root during a pass.
type rootProgress struct {
	container, prefix string
	cursor            time.Time // first open day, as committed
	walked            bool      // every open day folder was listed in this pass
	failed            bool
	days              map[time.Time]*dayProgress
	counted           time.Time // the days before it are counted done in Progress
}

// undatedProgress follows the blobs outside day folders of one container.
type undatedProgress struct {
	container string
	watermark time.Time
	listed    bool
	pending   int
	failed    bool
	passStart time.Time
}

// tracker is the in-memory side of the checkpoint for one pass.
type tracker struct {
	mu      sync.Mutex
	today   time.Time                   // day of the pass's start, the last day to list
	roots   map[string]*rootProgress    // container|root
	undated map[string]*undatedProgress // container
	dirty   map[string]blobState        // acknowledged progress, to write
}

func newTracker() *tracker {
	return &tracker{roots: map[string]*rootProgress{}, undated: map[string]*undatedProgress{}, dirty: map[string]blobState{}}
}

// group is what a blob counts towards: its day, or its container's undated set.
type group struct {
	day *dayProgress
	und *undatedProgress
}

func (s *Source) groupAdd(g group, n int) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	if g.day != nil {
		g.day.pending += n
	} else {
		g.und.pending += n
	}
}

// blobFinished records the fate of a blob of the group.
func (s *Source) blobFinished(g group, ok bool) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	if g.day != nil {
		g.day.pending--
		g.day.failed = g.day.failed || !ok
	} else {
		g.und.pending--
		g.und.failed = g.und.failed || !ok
	}
}

// progress notes acknowledged progress of a blob, written at the next Commit.
func (s *Source) progress(key string, st blobState) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	s.track.dirty[key] = st
}

// firstDay is where a root or container without a checkpoint starts.
func (s *Source) firstDay() time.Time {
	if t, _ := parseDate(s.cfg.OnlyLogsAfter); !t.IsZero() {
		return t
	}
	return truncDay(s.now())
}

func truncDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// root returns the progress of a dated root, loading its cursor.
func (s *Source) root(container, prefix string) (*rootProgress, error) {
	key := container + "|" + prefix
	s.track.mu.Lock()
	r := s.track.roots[key]
	s.track.mu.Unlock()
	if r != nil {
		return r, nil
	}
	r = &rootProgress{container: container, prefix: prefix, cursor: truncDay(s.firstDay()), days: map[time.Time]*dayProgress{}}
	if s.state != nil {
		v, ok, err := s.state.Get(s.name, cursorPrefix+key)
		if err != nil {
			return nil, fmt.Errorf("read checkpoint of %s/%s: %w", container, prefix, err)
		}
		if ok {
			t, err := time.Parse("2006-01-02", string(v))
			if err != nil {
				return nil, fmt.Errorf("checkpoint of %s/%s: bad cursor %q", container, prefix, v)
			}
			r.cursor = t
		}
	}
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	if old := s.track.roots[key]; old != nil {
		return old, nil
	}
	s.track.roots[key] = r
	r.counted = r.cursor
	if n := daysBetween(r.cursor, s.track.today) + 1; n > 0 {
		s.days.total.Add(n)
	}
	return r, nil
}

// daysBetween is the number of days from a to b (both midnights UTC).
func daysBetween(a, b time.Time) int64 { return int64(b.Sub(a) / (24 * time.Hour)) }

// countDays counts r's days up to through (at most the pass's day) done in
// Progress: the walk lists day folders in order, and the days without a folder
// before one it lists are done too. Called with the lock held.
func (s *Source) countDays(r *rootProgress, through time.Time) {
	if through.After(s.track.today) {
		through = s.track.today
	}
	if n := daysBetween(r.counted, through) + 1; n > 0 {
		s.days.done.Add(n)
		r.counted = through.AddDate(0, 0, 1)
	}
}

// undatedOf returns the progress of a container's blobs outside day folders.
func (s *Source) undatedOf(container string, passStart time.Time) (*undatedProgress, error) {
	u := &undatedProgress{container: container, watermark: s.firstDay(), passStart: passStart}
	if s.state != nil {
		v, ok, err := s.state.Get(s.name, watermarkPrefix+container+"|"+s.cfg.Path)
		if err != nil {
			return nil, fmt.Errorf("read checkpoint of %s: %w", container, err)
		}
		if ok {
			t, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return nil, fmt.Errorf("checkpoint of %s: bad watermark %q", container, v)
			}
			u.watermark = t
		}
	}
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	s.track.undated[container] = u
	return u, nil
}

// blobStateOf reads a blob's checkpoint.
func (s *Source) blobStateOf(key string) (*blobState, error) {
	if s.state == nil {
		return nil, nil
	}
	v, ok, err := s.state.Get(s.name, key)
	if err != nil || !ok {
		return nil, err
	}
	var st blobState
	if err := json.Unmarshal(v, &st); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", key, err)
	}
	return &st, nil
}

// Commit writes the progress acknowledged since the last commit, closes the
// day folders that are complete and older than the re-read window (moving their
// root's cursor and forgetting their blobs), and moves the watermark of the
// blobs outside day folders after a complete pass, in one transaction.
func (s *Source) Commit() error {
	if s.state == nil {
		return nil
	}
	now := s.now()
	window := s.cfg.RereadWindow.Std()
	s.track.mu.Lock()
	dirty := s.track.dirty
	s.track.dirty = map[string]blobState{}
	type closing struct {
		r      *rootProgress
		cursor time.Time
		purge  []string
	}
	var closes []closing
	for _, r := range s.track.roots {
		if !r.walked || r.failed {
			continue
		}
		c := closing{r: r, cursor: r.cursor}
		for d := r.cursor; now.Sub(d.AddDate(0, 0, 1)) > window; d = d.AddDate(0, 0, 1) {
			dp := r.days[d]
			if dp != nil {
				if !dp.listed || dp.pending > 0 || dp.failed {
					break
				}
				c.purge = append(c.purge, datedPrefix+r.container+"|"+dp.prefix)
			}
			c.cursor = d.AddDate(0, 0, 1)
		}
		if c.cursor.After(r.cursor) {
			closes = append(closes, c)
		}
	}
	type moving struct {
		u         *undatedProgress
		watermark time.Time
	}
	var moves []moving
	for _, u := range s.track.undated {
		if u.listed && u.pending == 0 && !u.failed {
			if w := u.passStart.Add(-window); w.After(u.watermark) {
				moves = append(moves, moving{u, w})
			}
		}
	}
	s.track.mu.Unlock()
	if len(dirty) == 0 && len(closes) == 0 && len(moves) == 0 {
		return nil
	}
	// Entries of blobs outside day folders that the new watermark passes.
	var stale []string
	for _, m := range moves {
		p := undatedPrefix + m.u.container + "|" + s.cfg.Path
		err := s.state.ForEachPrefix(s.name, p, func(k string, v []byte) error {
			var st blobState
			if json.Unmarshal(v, &st) == nil && st.Modified < m.watermark.UnixNano() {
				stale = append(stale, k)
			}
			return nil
		})
		if err != nil {
			s.requeue(dirty)
			return fmt.Errorf("commit checkpoints of source %s: %w", s.name, err)
		}
	}
	err := s.state.Batch(func(tx *checkpoint.Tx) error {
		for k, st := range dirty {
			b, _ := json.Marshal(st)
			if err := tx.Put(s.name, k, b); err != nil {
				return err
			}
		}
		for _, c := range closes {
			for _, p := range c.purge {
				if _, err := tx.DeletePrefix(s.name, p); err != nil {
					return err
				}
			}
			if err := tx.Put(s.name, cursorPrefix+c.r.container+"|"+c.r.prefix, []byte(c.cursor.Format("2006-01-02"))); err != nil {
				return err
			}
		}
		for _, m := range moves {
			if err := tx.Put(s.name, watermarkPrefix+m.u.container+"|"+s.cfg.Path, []byte(m.watermark.Format(time.RFC3339Nano))); err != nil {
				return err
			}
		}
		for _, k := range stale {
			if err := tx.Delete(s.name, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.requeue(dirty)
		return fmt.Errorf("commit checkpoints of source %s: %w", s.name, err)
	}
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	for _, c := range closes {
		c.r.cursor = c.cursor
	}
	for _, m := range moves {
		m.u.watermark = m.watermark
	}
	return nil
}

// requeue puts back progress a failed commit did not write, unless newer
// progress of the same blob arrived meanwhile.
func (s *Source) requeue(dirty map[string]blobState) {
	s.track.mu.Lock()
	defer s.track.mu.Unlock()
	for k, st := range dirty {
		if _, ok := s.track.dirty[k]; !ok {
			s.track.dirty[k] = st
		}
	}
}
