package rules

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Engine pairs a Ruleset with the mutable state Wazuh keeps per analysisd process (or
// per logtest session): rule counters, ignore windows, the correlation history and
// the first-time-seen store. It is safe for concurrent use by many Matchers.
type Engine struct {
	rs      *Ruleset
	now     func() time.Time
	logtest bool

	fired      []atomic.Int64
	ignoreMu   sync.Mutex
	ignoreTill []int64

	corrMu sync.Mutex
	corr   corrState

	ftsMu sync.Mutex
	fts   map[string]struct{}
	// ftsMax bounds the first-time-seen store; it is emptied when full.
	ftsMax int

	diffMu sync.Mutex
	diff   map[int]string

	fieldsDropped atomic.Int64
	jsonErrors    atomic.Int64

	// profileEvery, evalNanos and evalCount sample rule evaluation cost.
	profileEvery uint64
	evalNanos    []atomic.Int64
	evalCount    []atomic.Int64
}

// EngineOptions tune an Engine.
type EngineOptions struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logtest selects logtest's behaviour for ignored rules (report, do not alert)
	// instead of analysisd's (re-attribute to the parent rule).
	Logtest bool
	// ProfileEvery times the condition checks of every rule tried for one event in
	// this many (per Matcher), for the per-rule cost metrics; 0 turns it off.
	// Timing every event would cost more than most rules do.
	ProfileEvery int
}

// NewEngine returns an Engine with fresh state over rs.
func NewEngine(rs *Ruleset, opt EngineOptions) *Engine {
	e := &Engine{rs: rs, now: opt.Now, logtest: opt.Logtest}
	if e.now == nil {
		e.now = time.Now
	}
	e.fired = make([]atomic.Int64, len(rs.All))
	e.ignoreTill = make([]int64, len(rs.All))
	e.corr = newCorrState(rs.corrLists, rs.Options.MemorySize)
	e.fts = make(map[string]struct{})
	e.ftsMax = 1 << 20
	e.diff = make(map[int]string)
	if opt.ProfileEvery > 0 {
		e.profileEvery = uint64(opt.ProfileEvery)
		e.evalNanos = make([]atomic.Int64, len(rs.All))
		e.evalCount = make([]atomic.Int64, len(rs.All))
	}
	return e
}

func (e *Engine) profile(r *Rule, d time.Duration) {
	e.evalNanos[r.index].Add(int64(d))
	e.evalCount[r.index].Add(1)
}

// RuleStat is one rule's counters: how often it won, and, from the sampled events,
// how often its conditions were checked and how long that took.
type RuleStat struct {
	Rule         *Rule
	Fired        int64
	SampledEvals int64
	SampledTime  time.Duration
}

// RuleStats returns the counters of every rule that fired or was sampled.
func (e *Engine) RuleStats() []RuleStat {
	var out []RuleStat
	for i, r := range e.rs.All {
		st := RuleStat{Rule: r, Fired: e.fired[i].Load()}
		if e.evalCount != nil {
			st.SampledEvals = e.evalCount[i].Load()
			st.SampledTime = time.Duration(e.evalNanos[i].Load())
		}
		if st.Fired > 0 || st.SampledEvals > 0 {
			out = append(out, st)
		}
	}
	return out
}

// Ruleset returns the engine's ruleset.
func (e *Engine) Ruleset() *Ruleset { return e.rs }

// Stats are the engine's running counters.
type Stats struct {
	FieldsDropped int64
	JSONErrors    int64
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	return Stats{FieldsDropped: e.fieldsDropped.Load(), JSONErrors: e.jsonErrors.Load()}
}

// fire counts a win for r and returns its new count.
func (e *Engine) fire(r *Rule) int64 {
	return e.fired[r.index].Add(1)
}

// ignored reports whether r is inside its ignore window, starting a new window when
// it is not.
func (e *Engine) ignored(r *Rule, now time.Time) bool {
	e.ignoreMu.Lock()
	defer e.ignoreMu.Unlock()
	t := now.Unix()
	if till := e.ignoreTill[r.index]; till != 0 && t < till {
		return true
	}
	e.ignoreTill[r.index] = t + int64(r.Ignore)
	return false
}

// ftsFirst implements if_fts: true only the first time the decoder's FTS key is seen.
func (e *Engine) ftsFirst(m *Matcher, r *Rule) bool {
	dec := m.d.decoder
	if dec == nil || len(dec.FTS) == 0 {
		return false
	}
	var b strings.Builder
	b.WriteString(dec.Name)
	for _, name := range dec.FTS {
		b.WriteByte(' ')
		b.Write(m.fieldByName(name))
	}
	key := b.String()
	e.ftsMu.Lock()
	defer e.ftsMu.Unlock()
	if _, seen := e.fts[key]; seen {
		return false
	}
	if len(e.fts) >= e.ftsMax {
		clear(e.fts)
	}
	e.fts[key] = struct{}{}
	return true
}

// checkDiff implements <check_diff/>: the rule holds when the log differs from the
// previous log seen by the same rule.
func (e *Engine) checkDiff(m *Matcher, c *cond) bool {
	e.diffMu.Lock()
	defer e.diffMu.Unlock()
	prev, seen := e.diff[c.n]
	cur := string(m.d.log)
	e.diff[c.n] = cur
	return seen && prev != cur
}

// fieldByName returns a field's value by Wazuh name: static names first, then the
// decoder-level names, then dynamic fields by case-insensitive name.
func (m *Matcher) fieldByName(name string) []byte {
	switch name {
	case "program_name":
		return m.d.programName
	case "hostname":
		return m.d.hostname
	case "location":
		return []byte(m.ev.Location)
	case "user":
		v, _ := m.d.userValue()
		return v
	}
	if f := orderStatic(name); f != NoStatic && name != "user" {
		v, _ := m.d.getStatic(f)
		return v
	}
	v, _ := m.dynamicByName(name)
	return v
}

// dynamicByName finds a dynamic field by case-insensitive name, using the interned
// slot when there is one and a scan otherwise.
func (m *Matcher) dynamicByName(name string) ([]byte, bool) {
	d := m.d
	if s := m.rs.Fields.lookupLower(lowerASCII(d.lowbuf[:0], []byte(name))); s >= 0 {
		return d.dynamic(s)
	}
	for _, f := range d.dyn {
		if equalFoldASCII(d.bytes(f.key), name) {
			return d.bytes(f.val), true
		}
	}
	return nil, false
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
