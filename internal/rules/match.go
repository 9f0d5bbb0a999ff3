package rules

import (
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
)

// Result is the outcome of analysing one event.
type Result struct {
	// Rule is the winning rule (the deepest match), nil when no rule matched.
	Rule *Rule
	// Alert is true when the winner is at or above the alert level and not ignored.
	Alert bool
	// Logged is true when the alert goes to alert outputs (Alert and not no_log).
	Logged bool
	// Firedtimes is the winner's match count, as Wazuh reports it.
	Firedtimes int64
	// PreviousOutput holds the full logs of the events a correlation rule counted,
	// newest first, when it collected two or more.
	PreviousOutput []string
	// Dropped is the number of dynamic fields over the per-event limit.
	Dropped int
}

// Matcher analyses events against an Engine's ruleset. It holds per-goroutine scratch
// space: use one Matcher per goroutine.
type Matcher struct {
	// Trace, when set, is told about every rule tried and whether its conditions
	// held (logtest -v).
	Trace func(r *Rule, matched bool)

	eng  *Engine
	rs   *Ruleset
	d    *decoded
	flat event.Flattener
	caps [][]byte
	ev   *event.Event
	now  time.Time

	manager    []byte
	dataBuf    []byte
	prevRule   *Rule
	prevOutput []string
	// corrSame and corrDiff hold the current event's same_field/different_field
	// values during a correlation scan.
	corrSame, corrDiff []storedField
	matched            int // level the current event was marked with by a correlation
	firedtimes         int64

	// processed counts events; every ProfileEvery-th one is timed rule by rule.
	processed uint64
	profiling bool
}

// NewMatcher returns a Matcher bound to the engine.
func (e *Engine) NewMatcher() *Matcher {
	return &Matcher{eng: e, rs: e.rs, d: newDecoded(e.rs.Fields, e.rs.Options.MaxFields)}
}

// KeepAllFields makes the Matcher keep every decoded field, for Decoded to show
// them (logtest). By default JSON fields no rule names are only counted.
func (m *Matcher) KeepAllFields() { m.d.keepAll = true }

// Process decodes and matches one event. The Result (and the decoded fields the
// Matcher keeps for building the alert) are valid until the next call.
func (m *Matcher) Process(ev *event.Event) Result {
	m.processed++
	m.profiling = m.eng.profileEvery > 0 && m.processed%m.eng.profileEvery == 0
	m.ev = ev
	m.now = ev.Received
	if m.now.IsZero() {
		m.now = m.eng.now()
	}
	m.d.reset()
	m.prevRule, m.prevOutput, m.matched = nil, m.prevOutput[:0], 0
	m.decode(ev)
	var res Result
	res.Dropped = m.d.dropped
	if m.d.dropped > 0 {
		m.eng.fieldsDropped.Add(int64(m.d.dropped))
	}
	category := "syslog"
	if m.d.decoder != nil && m.d.decoder.Type != "" {
		category = m.d.decoder.Type
	}
	var winner *Rule
	for _, top := range m.rs.Top {
		if top.Category != category {
			continue
		}
		if r := m.check(top); r != nil {
			winner = r
			break
		}
	}
	if winner == nil {
		return res
	}
	return m.finish(winner)
}

// finish applies what analysisd does after the walk: counters, ignore windows, the
// alert threshold and storing the event for later correlation.
func (m *Matcher) finish(winner *Rule) Result {
	res := Result{Rule: winner, Dropped: m.d.dropped, Firedtimes: m.firedtimes}
	if len(m.prevOutput) >= 2 {
		res.PreviousOutput = append([]string(nil), m.prevOutput...)
	}
	if winner.Level == 0 {
		return res
	}
	if winner.Ignore > 0 && m.eng.ignored(winner, m.now) {
		if m.eng.logtest {
			return res // logtest shows the rule but does not alert
		}
		parent := m.prevRule
		if parent == nil {
			return res
		}
		res.Rule = parent
		winner = parent
	}
	res.Alert = winner.Level >= m.rs.Options.LogAlertLevel
	res.Logged = res.Alert && !winner.NoLog
	m.eng.store(m, winner)
	return res
}

// check evaluates rule r and its children depth-first and returns the deepest
// matching rule, as Wazuh's OS_CheckIfRuleMatch walk does.
func (m *Matcher) check(r *Rule) *Rule {
	var ok bool
	if m.profiling {
		t0 := time.Now()
		ok = m.conditions(r)
		m.eng.profile(r, time.Since(t0))
	} else {
		ok = m.conditions(r)
	}
	if m.Trace != nil {
		m.Trace(r, ok)
	}
	if !ok {
		return nil
	}
	for _, c := range r.Children {
		if w := m.check(c); w != nil {
			if m.prevRule == nil {
				m.prevRule = r
			}
			return w
		}
	}
	if r.NoAlert {
		return nil
	}
	m.firedtimes = m.eng.fire(r)
	return r
}

// conditions reports whether every condition of r holds for the current event, in
// Wazuh's evaluation order (which matters for the FTS and correlation side effects).
func (m *Matcher) conditions(r *Rule) bool {
	d := m.d
	for i := range r.conds {
		c := &r.conds[i]
		if !m.cond(c, d) {
			return false
		}
	}
	if r.fts && !m.eng.ftsFirst(m, r) {
		return false
	}
	for i := range r.lists {
		if !m.listHolds(&r.lists[i]) {
			return false
		}
	}
	if r.corr != nil {
		return m.eng.correlate(m, r)
	}
	return true
}

func (m *Matcher) cond(c *cond, d *decoded) bool {
	var v []byte
	var ok bool
	switch c.kind {
	case cDecodedAs:
		return d.decoder != nil && d.decoder.ID == c.decoderID
	case cProgramName:
		v, ok = d.programName, d.hasProgram
	case cStatic:
		v, ok = d.getStatic(c.static)
	case cMatch, cRegex:
		v, ok = d.log, true
	case cLocation:
		v, ok = []byte(m.ev.Location), true
	case cField:
		v, ok = d.dynamic(c.slot)
	case cSrcIP, cDstIP:
		f := FSrcIP
		if c.kind == cDstIP {
			f = FDstIP
		}
		if v, ok = d.getStatic(f); !ok {
			return false
		}
		return matchIP(c.ips, v) != c.negate
	case cUser:
		v, ok = d.userValue()
	case cGeoIP:
		return false
	case cCompiled:
		return c.compiled(d)
	case cMaxSize:
		return len(d.log) >= c.n
	case cTime:
		return c.tr.holds(m.now)
	case cWeekday:
		return c.wd.holds(m.now)
	case cHostname:
		v, ok = d.hostname, true
	case cCheckDiff:
		return m.eng.checkDiff(m, c)
	}
	if !ok {
		return false
	}
	return c.expr.Match(v) != c.negate
}

func (m *Matcher) listHolds(l *listCond) bool {
	v, ok := m.listValue(l)
	if !ok {
		return false
	}
	return l.list.Check(l.kind, v, l.check)
}
