package rules

import (
	"strings"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// Alert builds the alert for the event the Matcher last processed. Call it before the
// next Process. When res.Rule is nil (no rule matched) the alert has no rule section,
// as logtest shows such events.
func (m *Matcher) Alert(res Result) *alert.Alert {
	a := &alert.Alert{}
	m.AlertInto(res, a)
	a.Data = append([]byte(nil), a.Data...)
	return a
}

// AlertInto is Alert writing into a, for callers that encode the alert at once: a's
// Data is the Matcher's scratch space and is only valid until the next call.
func (m *Matcher) AlertInto(res Result, a *alert.Alert) {
	r := res.Rule
	if r == nil {
		r = &noRule
	}
	ev := m.ev
	d := m.d
	*a = alert.Alert{
		NoRule:    res.Rule == nil,
		Timestamp: m.now,
		Rule: alert.Rule{
			Level:        r.Level,
			Description:  r.Description.expand(m),
			ID:           r.idText,
			Mitre:        r.alertMitre,
			CVE:          r.CVE,
			Info:         r.Info,
			Frequency:    r.Frequency,
			HasFrequency: r.HasCorrelation,
			Firedtimes:   res.Firedtimes,
			NoCounter:    r.NoCounter,
			Mail:         r.Mail,
			Groups:       r.Groups,
			Compliance:   r.alertCompliance,
		},
		Agent:    alert.Agent{ID: ev.AgentID, Name: ev.AgentName},
		Manager:  m.rs.Options.ManagerName,
		Location: ev.Location,
	}
	if res.Rule == nil {
		a.Rule.ID = "0"
	}
	if a.Agent.ID == "" {
		a.Agent.ID = "000"
	}
	if a.Agent.Name == "" {
		a.Agent.Name = m.rs.Options.ManagerName
	}
	if r.HasCorrelation && r.Frequency == 0 {
		a.Rule.Frequency = 2
	}
	if len(res.PreviousOutput) >= 2 {
		a.PreviousOutput = strings.Join(res.PreviousOutput, "\n")
	}
	if !r.NoFullLog {
		a.FullLog = string(d.fullLog)
	}
	if d.reported != nil {
		a.Decoder.Name = d.reported.Name
		if d.parentShown && d.reported.Parent != nil {
			a.Decoder.Parent = d.reported.Parent.Name
		}
	}
	m.dataBuf = m.data(m.dataBuf[:0])
	a.Data = m.dataBuf
	a.ID = alert.ID(ev.Origin.Source, ev.Origin.Unit, ev.Origin.Offset, a.Rule.ID)
}

// data renders the alert's data object: the event's own JSON (types kept) when the
// JSON decoder decoded it, otherwise the decoded fields as Wazuh nests them.
func (m *Matcher) data(dst []byte) []byte {
	d := m.d
	if d.decoder != nil && d.decoder.Plugin == PluginJSON {
		out, err := m.flat.Compact(dst, d.jsonText)
		if err == nil && len(out) > len(dst)+2 && out[len(dst)] == '{' {
			return out
		}
		return dst
	}
	return append(dst, m.fieldsData()...)
}

// noRule stands in for the rule of an event that matched none.
var noRule = Rule{}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// Field is one decoded field, for display.
type Field struct {
	Name, Value string
}

// Decoded describes what pre-decoding and decoding found in the last event, for
// logtest's display.
type Decoded struct {
	ProgramName string
	Hostname    string
	Log         string
	Decoder     string
	Parent      string
	Fields      []Field
}

// Decoded returns the last event's decoding, for display.
func (m *Matcher) Decoded() Decoded {
	d := m.d
	out := Decoded{ProgramName: string(d.programName), Hostname: string(d.hostname), Log: string(d.log)}
	if d.reported != nil {
		out.Decoder = d.reported.Name
		if d.parentShown && d.reported.Parent != nil {
			out.Parent = d.reported.Parent.Name
		}
	}
	for f := StaticField(0); f < numStatic; f++ {
		if v, ok := d.getStatic(f); ok {
			out.Fields = append(out.Fields, Field{f.String(), string(v)})
		}
	}
	for _, f := range d.dyn {
		out.Fields = append(out.Fields, Field{string(d.bytes(f.key)), string(d.bytes(f.val))})
	}
	return out
}
