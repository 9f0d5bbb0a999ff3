package app

import (
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

type matcher struct {
	m *rules.Matcher
}

// Analyze matches one event and appends its alert, if it has one.
func (m *matcher) Analyze(ev *event.Event, out []sink.Record) []sink.Record {
	res := m.m.Process(ev)
	if !res.Logged {
		return out
	}
	a := m.m.Alert(res)
	return append(out, sink.Record{
		JSON:   a.AppendJSON(make([]byte, 0, 1024+2*len(a.Data))),
		ID:     a.ID,
		Level:  a.Rule.Level,
		RuleID: a.Rule.ID,
		Groups: a.Rule.Groups,
	})
}
