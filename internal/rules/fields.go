package rules

import (
	"strings"

	"github.com/skywatch-dev/skywatch/internal/event"
)

// StaticField names one of Wazuh's fixed event fields.
type StaticField int8

// The static fields, in the order Wazuh prints them in alert data.
const (
	FProtocol StaticField = iota
	FAction
	FSrcIP
	FSrcPort
	FSrcUser
	FDstIP
	FDstPort
	FDstUser
	FID
	FStatus
	FURL
	FData
	FExtraData
	FSystemName
	numStatic
	// NoStatic marks a dynamic field.
	NoStatic StaticField = -1
)

var staticNames = [numStatic]string{
	FProtocol: "protocol", FAction: "action", FSrcIP: "srcip", FSrcPort: "srcport",
	FSrcUser: "srcuser", FDstIP: "dstip", FDstPort: "dstport", FDstUser: "dstuser",
	FID: "id", FStatus: "status", FURL: "url", FData: "data", FExtraData: "extra_data",
	FSystemName: "system_name",
}

// String returns the field's Wazuh name.
func (f StaticField) String() string {
	if f < 0 || f >= numStatic {
		return "dynamic"
	}
	return staticNames[f]
}

// jsonStatic maps a top-level JSON key (exact, case-sensitive) to the static field it
// feeds, as Wazuh's JSON decoder does. "user" is handled separately.
func jsonStatic(key []byte) StaticField {
	switch string(key) {
	case "srcip":
		return FSrcIP
	case "dstip":
		return FDstIP
	case "srcport":
		return FSrcPort
	case "dstport":
		return FDstPort
	case "protocol":
		return FProtocol
	case "action":
		return FAction
	case "srcuser":
		return FSrcUser
	case "dstuser":
		return FDstUser
	case "id":
		return FID
	case "status":
		return FStatus
	case "url":
		return FURL
	case "data":
		return FData
	case "extra_data":
		return FExtraData
	case "systemname":
		return FSystemName
	}
	return NoStatic
}

// orderStatic maps a decoder <order> name to a static field (exact lowercase), with
// "user" going to dstuser.
func orderStatic(name string) StaticField {
	switch name {
	case "user":
		return FDstUser
	case "system_name":
		return FSystemName
	case "systemname":
		return NoStatic
	}
	return jsonStatic([]byte(name))
}

// FieldTable interns the dynamic field names that rules and decoders refer to, so
// that an event's fields can be indexed once and then looked up in constant time.
// Names are case-insensitive, as Wazuh's lookups are.
type FieldTable struct {
	slots map[string]int32
	names []string
	// hashed is an open-addressing table from event.KeyHash of a name to its slot,
	// built by freeze, so events' keys are looked up without lower-casing them.
	hashed []hashSlot
	mask   uint64
}

type hashSlot struct {
	hash uint64
	slot int32
}

// NewFieldTable returns an empty table.
func NewFieldTable() *FieldTable {
	return &FieldTable{slots: make(map[string]int32)}
}

// Intern returns the slot for name, adding it if new.
func (t *FieldTable) Intern(name string) int32 {
	low := strings.ToLower(name)
	if s, ok := t.slots[low]; ok {
		return s
	}
	s := int32(len(t.names))
	t.slots[low] = s
	t.names = append(t.names, name)
	return s
}

// Len returns the number of interned names.
func (t *FieldTable) Len() int { return len(t.names) }

// freeze builds the hash index; call it once every name is interned.
func (t *FieldTable) freeze() {
	n := 16
	for n < 2*len(t.names) {
		n <<= 1
	}
	t.hashed = make([]hashSlot, n)
	for i := range t.hashed {
		t.hashed[i].slot = -1
	}
	t.mask = uint64(n - 1)
	for s, name := range t.names {
		h := event.KeyHash(name)
		i := h & t.mask
		for t.hashed[i].slot >= 0 {
			i = (i + 1) & t.mask
		}
		t.hashed[i] = hashSlot{hash: h, slot: int32(s)}
	}
}

// lookupHash returns the slot of key, whose event.KeyHash is h, or -1.
func (t *FieldTable) lookupHash(key []byte, h uint64) int32 {
	if len(t.hashed) == 0 {
		return -1
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := &t.hashed[i]
		if e.slot < 0 {
			return -1
		}
		if e.hash == h && equalFoldASCII(key, t.names[e.slot]) {
			return e.slot
		}
	}
}

// lookupLower returns the slot of an already lower-cased name.
func (t *FieldTable) lookupLower(low []byte) int32 {
	if s, ok := t.slots[string(low)]; ok {
		return s
	}
	return -1
}

// lowerASCII appends s with A-Z lowered, the only folding Wazuh's comparisons do.
func lowerASCII(dst, s []byte) []byte {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
