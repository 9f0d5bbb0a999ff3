package rules

import (
	"bytes"
)

// correlation holds a rule's if_matched_* settings and same_/different_ conditions.
type correlation struct {
	list      int  // correlation list to scan (sid or group list); -1 for if_matched_regex
	sidTarget bool // list holds a rule id until Build resolves it
	regex     Expr // if_matched_regex
	global    bool // global_frequency: count events of every agent
	need      int  // qualifying stored events needed
	timeframe int64

	sameFields, diffFields []int32
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
	log      string
	decType  string
	location string
	static   [numStatic]string
	set      uint32
	hasDyn   bool
	fields   map[int32]string // only the slots correlation rules compare
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
	if drop > 0 {
		list = append(list[:0], list[drop:]...)
	}
	return append(list, ev)
}

// snapshot copies what correlation needs from the current event.
func (m *Matcher) snapshot() *storedEvent {
	d := m.d
	ev := &storedEvent{
		t:        m.now.Unix(),
		agentID:  m.ev.AgentID,
		matched:  m.matched,
		fullLog:  string(d.fullLog),
		log:      string(d.log),
		location: m.ev.Location,
		set:      d.staticSet,
		hasDyn:   d.ndyn > 0,
	}
	if d.decoder != nil {
		ev.decType = d.decoder.Type
	}
	for f := StaticField(0); f < numStatic; f++ {
		if v, ok := d.getStatic(f); ok {
			ev.static[f] = string(v)
		}
	}
	for _, s := range m.rs.corrSlots {
		if v, ok := d.dynamic(s); ok {
			if ev.fields == nil {
				ev.fields = make(map[int32]string)
			}
			ev.fields[s] = string(v)
		}
	}
	return ev
}

// correlate runs the if_matched_* search for rule r against the current event.
func (e *Engine) correlate(m *Matcher, r *Rule) bool {
	c := r.corr
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
		if c.regex != nil && (ev.decType != m.decType() || !c.regex.Match([]byte(ev.log))) {
			continue
		}
		if !m.sameDifferent(c, ev) {
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
		for _, s := range c.sameFields {
			v, ok := d.dynamic(s)
			old, ok2 := ev.fields[s]
			if !ok || !ok2 || !bytes.Equal(v, []byte(old)) {
				return false
			}
		}
	}
	if len(c.diffFields) > 0 {
		if d.ndyn == 0 && !ev.hasDyn {
			return false
		}
		for _, s := range c.diffFields {
			v, ok := d.dynamic(s)
			old, ok2 := ev.fields[s]
			if ok && ok2 && string(v) == old {
				return false
			}
		}
	}
	return true
}
