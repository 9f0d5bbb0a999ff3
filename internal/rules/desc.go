package rules

import "strings"

// maxDescription is Wazuh's limit: a description that reaches it is not expanded.
const maxDescription = 1024

type descKind uint8

const (
	dLiteral descKind = iota
	dStatic
	dProgramName
	dHostname
	dDynamic
)

type descPart struct {
	kind   descKind
	text   string
	static StaticField
	slot   int32
}

// descTemplate is a rule description with its $(field) references resolved to
// static fields or dynamic slots at load time.
type descTemplate struct {
	raw   string
	parts []descPart
	plain bool
}

// parseDescription compiles a description template, interning its dynamic names.
func parseDescription(raw string, fields *FieldTable) descTemplate {
	t := descTemplate{raw: raw}
	rest := raw
	for {
		i := strings.Index(rest, "$(")
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+2:], ')')
		if j < 0 {
			break
		}
		if i > 0 {
			t.parts = append(t.parts, descPart{kind: dLiteral, text: rest[:i]})
		}
		t.parts = append(t.parts, refPart(rest[i+2:i+2+j], fields))
		rest = rest[i+2+j+1:]
	}
	if rest != "" {
		t.parts = append(t.parts, descPart{kind: dLiteral, text: rest})
	}
	t.plain = len(t.parts) <= 1 && (len(t.parts) == 0 || t.parts[0].kind == dLiteral)
	return t
}

func refPart(name string, fields *FieldTable) descPart {
	switch name {
	case "program_name":
		return descPart{kind: dProgramName}
	case "hostname":
		return descPart{kind: dHostname}
	case "dstuser", "srcuser", "srcip", "dstip", "srcport", "dstport", "protocol",
		"action", "id", "url", "data", "status", "extra_data", "system_name":
		return descPart{kind: dStatic, static: orderStatic(name)}
	}
	return descPart{kind: dDynamic, slot: fields.Intern(name)}
}

// expand renders the description for the matcher's current event.
func (t *descTemplate) expand(m *Matcher) string {
	if t.plain || len(t.raw) >= maxDescription {
		return t.raw
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p.kind {
		case dLiteral:
			b.WriteString(p.text)
		case dStatic:
			v, _ := m.d.getStatic(p.static)
			b.Write(v)
		case dProgramName:
			b.Write(m.d.programName)
		case dHostname:
			b.Write(m.d.hostname)
		case dDynamic:
			v, _ := m.d.dynamic(p.slot)
			b.Write(v)
		}
		if b.Len() >= maxDescription {
			return t.raw
		}
	}
	return b.String()
}
