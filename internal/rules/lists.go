package rules

import (
	"bytes"

	"github.com/skywatch-dev/skywatch/internal/rules/cdb"
)

// listCond is a compiled <list> condition.
type listCond struct {
	list   *cdb.List
	kind   cdb.LookupKind
	check  func([]byte) bool
	static StaticField
	user   bool // field="user": srcuser, else dstuser
	pname  bool // field="program_name"
	host   bool // field="hostname"
	slot   int32
}

// listValue returns the value a <list> condition looks up.
func (m *Matcher) listValue(l *listCond) ([]byte, bool) {
	d := m.d
	switch {
	case l.user:
		return d.listUserValue()
	case l.pname:
		return d.programName, d.hasProgram
	case l.host:
		return d.hostname, d.hostname != nil
	case l.static != NoStatic:
		return d.getStatic(l.static)
	}
	v, ok := d.dynamic(l.slot)
	if !ok {
		return nil, false
	}
	return bytes.Trim(v, " "), true
}
