package app

import (
	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/pipeline"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// detector adapts the rules engine to the pipeline.
type detector struct{ eng *rules.Engine }

func (d detector) NewMatcher() pipeline.Matcher {
	return &matcher{m: d.eng.NewMatcher()}
}

// arenaChunk is how much alert JSON one allocation holds.
const arenaChunk = 256 << 10

type matcher struct {
	m *rules.Matcher
	a alert.Alert
	// arena holds encoded alerts. Records point into it until they are written, so
	// a full chunk is never reused: the next alerts go to a fresh one.
	arena  []byte
	origin event.Origin
}

// Analyze matches one event and appends its alert, if it has one.
func (m *matcher) Analyze(ev *event.Event, out []sink.Record) []sink.Record {
	m.origin = ev.Origin
	res := m.m.Process(ev)
	if !res.Logged {
		return out
	}
	m.m.AlertInto(res, &m.a)
	return append(out, m.encode())
}

// Archive appends the archive record of the event Analyze last processed: the
// alert shape without a rule, as Wazuh's archives.json has it, for every event.
func (m *matcher) Archive(out []sink.Record) []sink.Record {
	m.m.AlertInto(rules.Result{}, &m.a)
	ev := &m.a
	ev.ID = alert.ID(m.origin.Source, m.origin.Unit, m.origin.Offset, "archive")
	return append(out, m.encode())
}

// encode writes m.a into the arena and returns its record.
func (m *matcher) encode() sink.Record {
	need := 1024 + 2*len(m.a.Data) + len(m.a.FullLog) + len(m.a.PreviousOutput)
	if cap(m.arena)-len(m.arena) < need {
		m.arena = make([]byte, 0, max(arenaChunk, need))
	}
	start := len(m.arena)
	m.arena = m.a.AppendJSON(m.arena)
	return sink.Record{
		JSON:   m.arena[start:len(m.arena):len(m.arena)],
		ID:     m.a.ID,
		Level:  m.a.Rule.Level,
		RuleID: m.a.Rule.ID,
		Groups: m.a.Rule.Groups,
	}
}
