package rules

import (
	"bytes"

	"github.com/skywatch-dev/skywatch/internal/event"
)

// decode runs pre-decoding and the decoder tree on ev, filling m.d.
func (m *Matcher) decode(ev *event.Event) {
	d := m.d
	d.fullLog = ev.Log
	predecode(d, ev.Log)
	if !d.hasHostname() {
		d.hostname = m.hostnameFor(ev)
	}
	list := m.rs.DecodersNoPname
	if d.hasProgram {
		list = m.rs.DecodersPname
	}
	for _, dec := range list {
		if dec.ProgramName != nil && !dec.ProgramName.Match(d.programName) {
			continue
		}
		prematchEnd := 0
		if dec.Prematch != nil {
			end, ok := runExec(dec.Prematch, d.log)
			if !ok {
				continue
			}
			prematchEnd = end
		}
		d.decoder, d.reported = dec, dec
		if len(dec.Children) == 0 {
			m.runDecoder(dec, d.log, prematchEnd, prematchEnd)
		} else {
			m.runChildren(dec, prematchEnd)
		}
		return
	}
}

// hasHostname reports whether pre-decoding found a host name in a header.
func (d *decoded) hasHostname() bool { return d.hostname != nil }

// hostnameFor returns the host name Wazuh reports for an event without a syslog
// header: the agent's name, or the manager's for local events.
func (m *Matcher) hostnameFor(ev *event.Event) []byte {
	if ev.AgentName != "" && ev.AgentID != "" && ev.AgentID != event.LocalAgentID {
		return []byte(ev.AgentName)
	}
	if m.manager == nil {
		m.manager = []byte(m.rs.Options.ManagerName)
	}
	return m.manager
}

// runExec runs a prematch and returns the offset just after the match. Wazuh
// compiles prematch patterns without captures, which changes a few OS_Regex results,
// so prematches run through Exec.
func runExec(e CaptureExpr, s []byte) (int, bool) {
	last, ok := e.Exec(s)
	if !ok {
		return 0, false
	}
	return last + 1, true
}

// runChildren selects a child decoder of parent and runs its chain.
func (m *Matcher) runChildren(parent *Decoder, parentEnd int) {
	d := m.d
	kids := parent.Children
	for i := 0; i < len(kids); i++ {
		c := kids[i]
		ownEnd := parentEnd
		if c.Prematch != nil {
			text, base := d.log, 0
			if c.PrematchOffset == OffsetAfterParent {
				text, base = d.log[parentEnd:], parentEnd
			}
			end, ok := runExec(c.Prematch, text)
			if !ok {
				for i+1 < len(kids) && kids[i+1].chain == c.chain {
					i++
				}
				continue
			}
			ownEnd = base + end
			d.decoder, d.reported, d.parentShown = c, c, true
		}
		// A child without prematch runs, but the event stays decoded as its parent
		// (its type and id), as in Wazuh.
		// Run the chain of same-name children starting here.
		regexEnd := ownEnd
		for j := i; j < len(kids) && kids[j].chain == c.chain; j++ {
			regexEnd = m.runDecoderAt(kids[j], parentEnd, ownEnd, regexEnd)
		}
		return
	}
}

// runDecoder runs a childless top-level decoder.
func (m *Matcher) runDecoder(dec *Decoder, log []byte, parentEnd, ownEnd int) {
	_ = log
	m.runDecoderAt(dec, parentEnd, ownEnd, ownEnd)
}

// runDecoderAt runs one decoder's regex or plugin and returns the offset after its
// regex (or prevEnd when it has none or it failed).
func (m *Matcher) runDecoderAt(dec *Decoder, parentEnd, ownEnd, prevEnd int) int {
	d := m.d
	if dec.Plugin == PluginJSON {
		off := offsetFor(dec.PluginOffset, parentEnd, ownEnd, prevEnd, len(d.log))
		m.decodeJSON(dec, d.log[off:])
		return prevEnd
	}
	if dec.Regex == nil {
		return prevEnd
	}
	off := offsetFor(dec.RegexOffset, parentEnd, ownEnd, prevEnd, len(d.log))
	var last int
	var ok bool
	m.caps, last, ok = dec.Regex.Captures(d.log[off:], m.caps[:0])
	if !ok {
		return prevEnd
	}
	for i, c := range m.caps {
		if i >= len(dec.Order) {
			break
		}
		t := dec.Order[i]
		if t.Static != NoStatic {
			d.setStatic(t.Static, c)
		} else {
			d.addDynamic([]byte(t.Name), c)
		}
	}
	return off + last + 1
}

func offsetFor(o Offset, parentEnd, ownEnd, prevEnd, n int) int {
	var off int
	switch o {
	case OffsetAfterParent:
		off = parentEnd
	case OffsetAfterPrematch:
		off = ownEnd
	case OffsetAfterRegex:
		off = prevEnd
	}
	if off < 0 {
		off = 0
	}
	if off > n {
		off = n
	}
	return off
}

// decodeJSON runs the JSON decoder plugin. A document that does not parse leaves the
// event decoded as JSON but without fields, as in Wazuh.
func (m *Matcher) decodeJSON(dec *Decoder, text []byte) {
	d := m.d
	d.jsonText = text
	mk := d.mark()
	if err := m.flat.Flatten(text, dec.JSON, d); err != nil {
		// Wazuh keeps no field of a document that does not parse.
		d.rollback(mk)
		m.eng.jsonErrors.Add(1)
	}
}

// predecode strips a syslog-style header from the message, as Wazuh's pre-decoding
// does, setting the program name, host name and header time it finds. Messages
// without a recognised header (every JSON cloud event) pass through unchanged.
func predecode(d *decoded, msg []byte) {
	d.log = msg
	if len(msg) == 0 || msg[0] == '{' {
		return
	}
	if n := noHostHeaderLen(msg); n > 0 {
		// Formats whose header carries a time but no host or program name.
		d.headerTime = bytes.TrimRight(msg[:n], " ")
		d.log = msg[n:]
		return
	}
	n := syslogHeaderLen(msg)
	if n == 0 {
		return
	}
	d.headerTime = msg[:n-1]
	rest := msg[n:]
	host, after, ok := splitHost(rest)
	if !ok {
		// An invalid host: Wazuh keeps the whole message as the log (the ruleset
		// test oracle confirms it, e.g. SQL Server lines in malicious-ioc.ini).
		return
	}
	if prog, body, ok := splitProgram(after); ok {
		d.hostname = host
		d.programName, d.hasProgram = prog, true
		d.log = body
		return
	}
	// "host: message" is a program name without a host (Solaris style).
	if len(after) >= 2 && after[0] == ':' && after[1] == ' ' {
		d.programName, d.hasProgram = host, true
		d.log = after[2:]
		return
	}
	d.hostname = host
	d.log = bytes.TrimLeft(after, " ")
}
