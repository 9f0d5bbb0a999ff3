package rules

import "github.com/skywatch-dev/skywatch/internal/event"

// span locates bytes in a decoded event's arena.
type span struct{ off, end uint32 }

type dynField struct {
	key, val span
}

// decoded is the per-event result of pre-decoding and decoding: the fields rules
// test. It lives in a Matcher and is reset for each event, so its buffers are reused.
type decoded struct {
	arena     []byte
	dyn       []dynField
	slot      []int32 // per FieldTable slot: index into dyn of the first occurrence
	touched   []int32
	static    [numStatic]span
	staticSet uint32

	maxFields int
	dropped   int // dynamic fields beyond maxFields in this event
	ndyn      int // dynamic fields decoded, kept or not
	// keepAll keeps the text of every dynamic field; otherwise the JSON decoder keeps
	// only fields some rule or description names (the others are counted).
	keepAll bool
	table   *FieldTable
	lowbuf  []byte

	log         []byte // the message rules see (after any syslog header)
	fullLog     []byte // the whole message
	programName []byte
	hasProgram  bool
	hostname    []byte
	headerTime  []byte
	jsonText    []byte   // the text the JSON plugin decoded
	decoder     *Decoder // selected decoder (child or top-level), nil if none
	reported    *Decoder // decoder reported in the alert
	parentShown bool     // alert shows decoder.parent
}

func newDecoded(table *FieldTable, maxFields int) *decoded {
	d := &decoded{table: table, maxFields: maxFields}
	d.slot = make([]int32, table.Len())
	for i := range d.slot {
		d.slot[i] = -1
	}
	return d
}

func (d *decoded) reset() {
	for _, s := range d.touched {
		d.slot[s] = -1
	}
	d.touched = d.touched[:0]
	d.arena = d.arena[:0]
	d.dyn = d.dyn[:0]
	d.staticSet = 0
	d.dropped = 0
	d.ndyn = 0
	d.log, d.fullLog, d.programName, d.hostname, d.headerTime, d.jsonText = nil, nil, nil, nil, nil, nil
	d.hasProgram = false
	d.decoder, d.reported, d.parentShown = nil, nil, false
}

func (d *decoded) put(b []byte) span {
	off := uint32(len(d.arena))
	d.arena = append(d.arena, b...)
	return span{off, uint32(len(d.arena))}
}

func (d *decoded) bytes(s span) []byte { return d.arena[s.off:s.end:s.end] }

// setStatic stores a static field; a later value replaces an earlier one.
func (d *decoded) setStatic(f StaticField, val []byte) {
	d.static[f] = d.put(val)
	d.staticSet |= 1 << uint(f)
}

// getStatic returns a static field and whether it is set.
func (d *decoded) getStatic(f StaticField) ([]byte, bool) {
	if d.staticSet&(1<<uint(f)) == 0 {
		return nil, false
	}
	return d.bytes(d.static[f]), true
}

// addDynamic appends a dynamic field, indexing it if a rule refers to its name.
func (d *decoded) addDynamic(key, val []byte) {
	d.addDynamicHashed(key, val, event.KeyHash(string(key)), true)
}

// addDynamicHashed is addDynamic with the key's event.KeyHash already known. A
// field no rule names is only counted unless keep is set.
func (d *decoded) addDynamicHashed(key, val []byte, h uint64, keep bool) {
	if d.ndyn >= d.maxFields {
		d.dropped++
		return
	}
	d.ndyn++
	s := d.table.lookupHash(key, h)
	if s < 0 && !keep {
		return
	}
	off := uint32(len(d.arena))
	d.arena = append(d.arena, key...)
	mid := uint32(len(d.arena))
	d.arena = append(d.arena, val...)
	idx := int32(len(d.dyn))
	d.dyn = append(d.dyn, dynField{key: span{off, mid}, val: span{mid, uint32(len(d.arena))}})
	if s >= 0 && d.slot[s] < 0 {
		d.slot[s] = idx
		d.touched = append(d.touched, s)
	}
}

// mark is a position in the decoded state that a failed decoding rolls back to.
type mark struct {
	arena, dyn, touched, ndyn int
	static                    [numStatic]span
	staticSet                 uint32
	dropped                   int
}

func (d *decoded) mark() mark {
	return mark{len(d.arena), len(d.dyn), len(d.touched), d.ndyn, d.static, d.staticSet, d.dropped}
}

func (d *decoded) rollback(m mark) {
	for _, s := range d.touched[m.touched:] {
		d.slot[s] = -1
	}
	d.touched = d.touched[:m.touched]
	d.arena, d.dyn, d.ndyn = d.arena[:m.arena], d.dyn[:m.dyn], m.ndyn
	d.static, d.staticSet, d.dropped = m.static, m.staticSet, m.dropped
}

// dynamic returns the first value of the dynamic field in slot s.
func (d *decoded) dynamic(s int32) ([]byte, bool) {
	if s < 0 || int(s) >= len(d.slot) {
		return nil, false
	}
	i := d.slot[s]
	if i < 0 {
		return nil, false
	}
	return d.bytes(d.dyn[i].val), true
}

// WriteField implements event.FieldWriter with the JSON decoder's rules for static
// fields: exact top-level keys, "user" going to dstuser unless that is already set.
func (d *decoded) WriteField(key, val []byte, hash uint64, topLevel bool) {
	if topLevel {
		if f := jsonStatic(key); f != NoStatic {
			d.setStatic(f, val)
			return
		}
		if string(key) == "user" {
			if v, ok := d.getStatic(FDstUser); !ok || len(v) == 0 {
				d.setStatic(FDstUser, val)
				return
			}
		}
	}
	d.addDynamicHashed(key, val, hash, d.keepAll)
}

// userValue is what <user> tests: dstuser when set, else srcuser.
func (d *decoded) userValue() ([]byte, bool) {
	if v, ok := d.getStatic(FDstUser); ok {
		return v, true
	}
	return d.getStatic(FSrcUser)
}

// listUserValue is what <list field="user"> tests: srcuser when set, else dstuser.
func (d *decoded) listUserValue() ([]byte, bool) {
	if v, ok := d.getStatic(FSrcUser); ok {
		return v, true
	}
	return d.getStatic(FDstUser)
}
