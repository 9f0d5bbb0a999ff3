package rules

import (
	"bytes"
	"unsafe"
)

// correlation holds a rule's if_matched_* settings and same_/different_ conditions.
type correlation struct {
	list      int  // correlation list to scan (sid or group list); -1 for if_matched_regex
	sidTarget bool // list holds a rule id until Build resolves it
	regex     Expr // if_matched_regex
	rxIndex   int  // this rule's bit in storedEvent.rxDone/rxHit
	global    bool // global_frequency: count events of every agent
	need      int  // qualifying stored events needed
	timeframe int64

	sameFields, diffFields []int32
	samePos, diffPos       []int // positions of those fields in storedEvent.fields
	sameStatic, diffStatic []StaticField
	sameLocation           bool
	diffLocation           bool
	sameGeo                bool
}

// storedEvent is what the correlation history keeps of an event.
type storedEvent struct {
	seq      uint64
	t        int64
	agentID  string
	matched  int
	fullLog  string
	log      []byte // usually a suffix of fullLog's bytes; read-only
	decType  string
	location string
	static   [numStatic]string
	set      uint32
	hasDyn   bool
	fields   []storedField // Ruleset.corrSlots' values, by position
	// rxDone and rxHit remember the if_matched_regex results for this event (bit =
	// rule's rxIndex): a stored event is scanned by every later event of a burst,
	// and the regex over its log would otherwise run thousands of times.
	rxDone, rxHit uint64
}

// storedField is one same_field/different_field value of a stored event.
type storedField struct {
	v  string
	ok bool
}

// regexMatch runs c's if_matched_regex over the stored log, once per event and rule.
func (ev *storedEvent) regexMatch(c *correlation) bool {
	if c.rxIndex >= 64 {
		return c.regex.Match(ev.log)
	}
	bit := uint64(1) << uint(c.rxIndex)
	if ev.rxDone&bit == 0 {
		ev.rxDone |= bit
		if c.regex.Match(ev.log) {
			ev.rxHit |= bit
		}
	}
	return ev.rxHit&bit != 0
}

// corrState is the engine's correlation history. Wazuh keeps every stored event in one
// global list capped at memory_size and removes evicted events from the per-rule
// lists; the sequence number reproduces that cap without keeping the global list.
type corrState struct {
	seq    uint64
	memory uint64
	lists  [][]*storedEvent
	recent []*storedEvent // for if_matched_regex, capped at memory
}

func newCorrState(n, memory int) corrState {
	return corrState{lists: make([][]*storedEvent, n), memory: uint64(memory)}
}

func (c *corrState) alive(ev *storedEvent) bool { return c.seq-ev.seq < c.memory }

// store records the event that just matched winner for later correlation.
func (e *Engine) store(m *Matcher, winner *Rule) {
	rs := e.rs
	if winner.sidList < 0 && len(winner.groupLists) == 0 && !rs.keepRecent {
		e.corrMu.Lock()
		e.corr.seq++
		e.corrMu.Unlock()
		return
	}
	ev := m.snapshot()
	e.corrMu.Lock()
	defer e.corrMu.Unlock()
	c := &e.corr
	c.seq++
	ev.seq = c.seq
	if winner.sidList >= 0 {
		c.lists[winner.sidList] = appendPruned(c, c.lists[winner.sidList], ev, rs.maxTimeframe)
	} else {
		for _, g := range winner.groupLists {
			c.lists[g] = appendPruned(c, c.lists[g], ev, rs.maxTimeframe)
		}
	}
	if rs.keepRecent {
		c.recent = appendPruned(c, c.recent, ev, rs.maxTimeframe)
	}
}

// appendPruned appends ev and drops entries that are evicted or older than any
// correlation window, so lists stay bounded.
func appendPruned(c *corrState, list []*storedEvent, ev *storedEvent, maxTF int64) []*storedEvent {
	drop := 0
	for drop < len(list) && (!c.alive(list[drop]) || ev.t-list[drop].t > maxTF) {
		drop++
	}
	// Reslicing instead of copying the survivors down: a full memory evicts one
	// event per store, and copying thousands of pointers each time dominated.
	// append moves the live part to a new array when the old one runs out.
	return append(list[drop:], ev)
}

// snapshot copies what correlation needs from the current event.
func (m *Matcher) snapshot() *storedEvent {
	d := m.d
	ev := &storedEvent{
		t:        m.now.Unix(),
		agentID:  m.ev.AgentID,
		matched:  m.matched,
		location: m.ev.Location,
		set:      d.staticSet,
		hasDyn:   d.ndyn > 0,
	}
	// One copy of the message serves both: the log is normally a suffix of it.
	raw := bytes.Clone(d.fullLog)
	ev.fullLog = unsafeString(raw)
	if n := len(d.log); n > 0 && n <= len(d.fullLog) && &d.fullLog[len(d.fullLog)-n] == &d.log[0] {
		ev.log = raw[len(raw)-n:]
	} else {
		ev.log = bytes.Clone(d.log)
	}
	if d.decoder != nil {
		ev.decType = d.decoder.Type
	}
	for f := StaticField(0); f < numStatic; f++ {
		if v, ok := d.getStatic(f); ok {
			ev.static[f] = string(v)
		}
	}
	if d.ndyn > 0 && len(m.rs.corrSlots) > 0 {
		ev.fields = make([]storedField, len(m.rs.corrSlots))
		for i, s := range m.rs.corrSlots {
			if v, ok := d.dynamic(s); ok {
				ev.fields[i] = storedField{string(v), true}
			}
		}
	}
	return ev
}

// field returns the stored value at position pos of Ruleset.corrSlots.
func (ev *storedEvent) field(pos int) storedField {
	if pos < len(ev.fields) {
		return ev.fields[pos]
	}
	return storedField{}
}

// loadCurrent reads the current event's same_field/different_field values once,
// before the scan compares them with every stored event.
func (m *Matcher) loadCurrent(c *correlation) {
	load := func(dst []storedField, slots []int32) []storedField {
		dst = dst[:0]
		for _, s := range slots {
			var f storedField
			if v, ok := m.d.dynamic(s); ok {
				// The string aliases the event's bytes; it is compared and dropped
				// before the event changes, never stored.
				f = storedField{unsafeString(v), true}
			}
			dst = append(dst, f)
		}
		return dst
	}
	m.corrSame = load(m.corrSame, c.sameFields)
	m.corrDiff = load(m.corrDiff, c.diffFields)
}

// correlate runs the if_matched_* search for rule r against the current event.
func (e *Engine) correlate(m *Matcher, r *Rule) bool {
	c := r.corr
	m.loadCurrent(c)
	e.corrMu.Lock()
	defer e.corrMu.Unlock()
	st := &e.corr
	list := st.recent
	if c.list >= 0 {
		list = st.lists[c.list]
	}
	now := m.now.Unix()
	count := 0
	var newest *storedEvent
	m.prevOutput = m.prevOutput[:0]
	for i := len(list) - 1; i >= 0; i-- {
		ev := list[i]
		if !st.alive(ev) {
			break
		}
		if now-ev.t > c.timeframe {
			break
		}
		if !c.global && ev.agentID != m.ev.AgentID {
			continue
		}
		// same_*/different_* first: both are pure filters, and comparing a field
		// is far cheaper than running the regex over a stored log.
		if !m.sameDifferent(c, ev) {
			continue
		}
		if c.regex != nil && (ev.decType != m.decType() || !ev.regexMatch(c)) {
			continue
		}
		if ev.matched >= r.Level {
			break
		}
		if newest == nil {
			newest = ev
		}
		count++
		if len(m.prevOutput) < 11 && (c.regex == nil || count <= c.need-1) {
			m.prevOutput = append(m.prevOutput, ev.fullLog)
		}
		if count >= c.need {
			m.matched = r.Level
			if c.need > 1 {
				newest.matched = r.Level
			}
			return true
		}
	}
	m.prevOutput = m.prevOutput[:0]
	return false
}

func (m *Matcher) decType() string {
	if m.d.decoder == nil {
		return ""
	}
	return m.d.decoder.Type
}

// sameDifferent applies the same_* and different_* conditions to a stored event.
func (m *Matcher) sameDifferent(c *correlation, ev *storedEvent) bool {
	d := m.d
	for _, f := range c.sameStatic {
		v, ok := d.getStatic(f)
		if !ok || ev.set&(1<<uint(f)) == 0 || string(v) != ev.static[f] {
			return false
		}
	}
	for _, f := range c.diffStatic {
		v, ok := d.getStatic(f)
		if ok && ev.set&(1<<uint(f)) != 0 && string(v) == ev.static[f] {
			return false
		}
	}
	if c.sameLocation && m.ev.Location != ev.location {
		return false
	}
	if c.diffLocation && m.ev.Location == ev.location {
		return false
	}
	if c.sameGeo {
		return false // GeoIP fields are never present
	}
	if len(c.sameFields) > 0 {
		if d.ndyn == 0 || !ev.hasDyn {
			return false
		}
		for i, pos := range c.samePos {
			cur, old := m.corrSame[i], ev.field(pos)
			if !cur.ok || !old.ok || cur.v != old.v {
				return false
			}
		}
	}
	if len(c.diffFields) > 0 {
		if d.ndyn == 0 && !ev.hasDyn {
			return false
		}
		for i, pos := range c.diffPos {
			cur, old := m.corrDiff[i], ev.field(pos)
			if cur.ok && old.ok && cur.v == old.v {
				return false
			}
		}
	}
	return true
}

// unsafeString views b as a string without copying; b must not change while the
// string is in use.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
