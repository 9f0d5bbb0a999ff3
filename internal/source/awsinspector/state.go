package awsinspector

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
)

// Checkpoint keys, in the source's scope of the store:
//
//	cursor/<region>       {"updated_at": ms, "arns": [...]}: every finding with an
//	                      updatedAt before updated_at is delivered, and so are
//	                      the listed ARNs at exactly updated_at
//	done/<region>/<arn>   ms: delivered in the window still open, at that updatedAt
const (
	cursorPrefix = "cursor/"
	donePrefix   = "done/"
)

type cursorValue struct {
	UpdatedAt int64    `json:"updated_at"`
	ARNs      []string `json:"arns"`
}

// regionState is one region's position. The cursor moves only when a whole
// window (one query from the cursor to the time of the pass) is delivered,
// since the service cannot sort findings by updatedAt; until then the findings
// delivered from the open window are remembered one by one.
type regionState struct {
	cursor   int64           // ms; -1 until set
	boundary map[string]bool // ARNs delivered at exactly cursor
	done     map[string]int64
	onDisk   map[string]bool  // done keys in the store
	newDone  map[string]int64 // done entries not yet written
	dirty    bool             // cursor changed: write it, drop the done keys
	win      *window
}

// window is the query of one pass over a region.
type window struct {
	listed  bool // every page was read
	failed  bool // a page or a batch failed: the cursor must not move
	pending int  // batches not yet acknowledged
	max     int64
	atMax   map[string]bool
	sent    map[string]int64 // versions emitted by this pass: pages may overlap
}

func newRegionState() *regionState {
	return &regionState{cursor: -1, boundary: map[string]bool{}, done: map[string]int64{},
		onDisk: map[string]bool{}, newDone: map[string]int64{}}
}

// delivered reports whether this version of a finding was already delivered.
func (r *regionState) delivered(arn string, updated int64) bool {
	if updated == r.cursor && r.boundary[arn] {
		return true
	}
	t, ok := r.done[arn]
	return ok && t == updated
}

// saw notes a finding the window's query returned.
func (w *window) saw(arn string, updated int64) {
	switch {
	case updated > w.max:
		w.max = updated
		w.atMax = map[string]bool{arn: true}
	case updated == w.max:
		w.atMax[arn] = true
	}
}

// settle moves the cursor when the window is complete: listed, nothing pending,
// nothing failed. Called with the source's lock held.
func (r *regionState) settle(w *window) {
	if w != r.win || !w.listed || w.failed || w.pending > 0 {
		return
	}
	r.win = nil
	moved := w.max > r.cursor || (w.max == r.cursor && len(w.atMax) > 0)
	if moved {
		r.cursor, r.boundary = w.max, w.atMax
	}
	if moved || len(r.done) > 0 || len(r.onDisk) > 0 {
		r.done, r.newDone = map[string]int64{}, map[string]int64{}
		r.dirty = true
	}
}

// load reads every region's checkpoint.
func (s *Source) load() error {
	s.regions = map[string]*regionState{}
	return awsclient.LoadCheckpoints(s.state, s.name, func(key string, val []byte) error {
		switch {
		case strings.HasPrefix(key, cursorPrefix):
			var v cursorValue
			if err := json.Unmarshal(val, &v); err != nil {
				return fmt.Errorf("checkpoint %s: %w", key, err)
			}
			r := s.region(strings.TrimPrefix(key, cursorPrefix))
			r.cursor = v.UpdatedAt
			for _, a := range v.ARNs {
				r.boundary[a] = true
			}
		case strings.HasPrefix(key, donePrefix):
			region, arn, ok := strings.Cut(strings.TrimPrefix(key, donePrefix), "/")
			ms, err := strconv.ParseInt(string(val), 10, 64)
			if !ok || err != nil {
				return fmt.Errorf("checkpoint %s: malformed", key)
			}
			r := s.region(region)
			r.done[arn], r.onDisk[arn] = ms, true
		}
		return nil
	})
}

func (s *Source) region(name string) *regionState {
	r := s.regions[name]
	if r == nil {
		r = newRegionState()
		s.regions[name] = r
	}
	return r
}

// Commit writes what acknowledgements changed, in one transaction: the findings
// delivered from open windows, and the cursors of completed windows (whose
// per-finding entries it removes).
func (s *Source) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil {
		return nil
	}
	var changes []awsclient.Change
	for name, r := range s.regions {
		if r.dirty {
			arns := make([]string, 0, len(r.boundary))
			for a := range r.boundary {
				arns = append(arns, a)
			}
			sort.Strings(arns)
			b, _ := json.Marshal(cursorValue{UpdatedAt: r.cursor, ARNs: arns})
			changes = append(changes, awsclient.Change{Key: cursorPrefix + name, Val: b})
			for arn := range r.onDisk {
				changes = append(changes, awsclient.Change{Key: donePrefix + name + "/" + arn}) // delete
			}
		}
		for arn, ms := range r.newDone {
			changes = append(changes, awsclient.Change{Key: donePrefix + name + "/" + arn, Val: strconv.AppendInt(nil, ms, 10)})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	if err := awsclient.CommitCheckpoints(s.state, s.name, changes); err != nil {
		return err
	}
	for _, r := range s.regions {
		if r.dirty {
			r.onDisk, r.dirty = map[string]bool{}, false
		}
		for arn := range r.newDone {
			r.onDisk[arn] = true
		}
		r.newDone = map[string]int64{}
	}
	return nil
}
