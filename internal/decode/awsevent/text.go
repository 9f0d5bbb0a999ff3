package awsevent

// This file models the dict the module builds for a line of a text format
// (VPC flow logs, load balancer and S3 server access logs): keys in insertion
// order, string values, the list of surplus fields under the None key, and
// the module's steps on it (remove None values, merge behind log_info, unwrap
// one-element lists, copy sourceIPAddress, wrap tags), then writes the event.

// Value kinds of a text dict entry.
const (
	vNone    = iota // Python None: removed by remove_none_fields
	vDeleted        // removed
	vStr            // text in textRec.buf
	vList           // surplus fields: textRec.lists[a:b]
	vConst          // JSON text in textRec.consts
)

// tentry is one key of the dict.
type tentry struct {
	key  int32
	kind uint8
	wrap bool // tags: written as {"value": ...}
	a, b int32
}

// textKey is one key name the object's records can use.
type textKey struct {
	name     string
	none     bool  // Python's None (surplus fields), which json.dumps writes as "null"
	off, end int32 // `"name"` in textRec.keyJSON
}

// textKeyID identifies a key name.
type textKeyID struct {
	name string
	none bool
}

// textRec holds one record's dict. Keys are numbered per object.
type textRec struct {
	keys    []textKey
	index   map[textKeyID]int32
	keyJSON []byte
	entries []tentry
	entryOf []int32 // key -> index in entries, -1 when absent
	buf     []byte  // string values
	lists   []span  // elements of vList values, in buf
	consts  []byte  // JSON texts of vConst values
}

// key returns the number of key name, adding it when new; none selects the
// None key (surplus fields), written as "null".
func (t *textRec) key(name string, none bool) int32 {
	if i, ok := t.index[textKeyID{name, none}]; ok {
		return i
	}
	if t.index == nil {
		t.index = make(map[textKeyID]int32)
	}
	t.index[textKeyID{name, none}] = int32(len(t.keys))
	k := textKey{name: name, none: none, off: int32(len(t.keyJSON))}
	if none {
		t.keyJSON = append(t.keyJSON, `"null"`...)
	} else {
		t.keyJSON = AppendTextString(t.keyJSON, name)
	}
	k.end = int32(len(t.keyJSON))
	t.keys = append(t.keys, k)
	return int32(len(t.keys) - 1)
}

// constant stores a JSON text for vConst values and returns its span.
func (t *textRec) constant(js []byte) (int32, int32) {
	off := len(t.consts)
	t.consts = append(t.consts, js...)
	return int32(off), int32(len(t.consts))
}

// reset starts a record whose values live in buf.
func (t *textRec) reset(buf []byte) {
	t.entries, t.lists, t.buf = t.entries[:0], t.lists[:0], buf
	if len(t.entryOf) != len(t.keys) {
		t.entryOf = make([]int32, len(t.keys))
	}
	for i := range t.entryOf {
		t.entryOf[i] = -1
	}
}

// set does d[key] = value: an existing key keeps its place.
func (t *textRec) set(key int32, kind uint8, a, b int32) {
	if i := t.entryOf[key]; i >= 0 {
		e := &t.entries[i]
		e.kind, e.a, e.b, e.wrap = kind, a, b, false
		return
	}
	t.entryOf[key] = int32(len(t.entries))
	t.entries = append(t.entries, tentry{key: key, kind: kind, a: a, b: b})
}

// get returns the live entry of key, or nil.
func (t *textRec) get(key int32) *tentry {
	if key < 0 {
		return nil
	}
	if i := t.entryOf[key]; i >= 0 && t.entries[i].kind != vDeleted {
		return &t.entries[i]
	}
	return nil
}

// str returns the text of a vStr entry.
func (t *textRec) str(e *tentry) []byte { return t.buf[e.a:e.b] }

// addText appends text to buf and returns its span.
func (t *textRec) addText(s []byte) (int32, int32) {
	off := len(t.buf)
	t.buf = append(t.buf, s...)
	return int32(off), int32(len(t.buf))
}

// removeNone deletes the None values.
func (t *textRec) removeNone() {
	for i := range t.entries {
		if e := &t.entries[i]; e.kind == vNone {
			e.kind = vDeleted
			t.entryOf[e.key] = -1
		}
	}
}

// textKeys are the numbers of the keys the module's steps look at.
type textKeys struct {
	logInfo, source, account, srcIP, srcIPCopy, tags, none int32
}

func (t *textRec) specialKeys() textKeys {
	return textKeys{
		logInfo: t.key("log_info", false), source: t.key("source", false),
		account: t.key("aws_account_id", false), srcIP: t.key("sourceIPAddress", false),
		srcIPCopy: t.key("source_ip_address", false), tags: t.key("tags", false), none: t.key("", true),
	}
}

// reformat runs AWSBucket.reformat_msg's copy of sourceIPAddress and tags
// wrapping (one-element lists are unwrapped when written).
func (t *textRec) reformat(k *textKeys) {
	if e := t.get(k.srcIP); e != nil && e.kind == vStr && looksLikeIPv4Text(t.str(e)) {
		a, b := e.a, e.b
		t.set(k.srcIPCopy, vStr, a, b)
	}
	if e := t.get(k.tags); e != nil {
		e.wrap = true
	}
}

// appendEvent writes the event: log_info (the record's own when it has one),
// then every live entry.
func (t *textRec) appendEvent(dst, logInfo []byte, k *textKeys) []byte {
	dst = append(dst, `{"integration": "aws", "aws": {"log_info": `...)
	li := t.get(k.logInfo)
	if li != nil {
		dst = t.appendValue(dst, li)
	} else {
		dst = append(dst, logInfo...)
	}
	for i := range t.entries {
		e := &t.entries[i]
		if e.kind == vDeleted || e.kind == vNone || e == li {
			continue
		}
		dst = append(dst, ',', ' ')
		k := &t.keys[e.key]
		dst = append(dst, t.keyJSON[k.off:k.end]...)
		dst = append(dst, ':', ' ')
		dst = t.appendValue(dst, e)
	}
	return append(dst, '}', '}')
}

func (t *textRec) appendValue(dst []byte, e *tentry) []byte {
	if e.wrap {
		dst = append(dst, `{"value": `...)
	}
	switch e.kind {
	case vStr:
		dst = appendTextBytes(dst, t.buf[e.a:e.b])
	case vConst:
		dst = append(dst, t.consts[e.a:e.b]...)
	case vList:
		items := t.lists[e.a:e.b]
		if len(items) == 1 {
			dst = appendTextBytes(dst, t.buf[items[0].off:items[0].end])
			break
		}
		dst = append(dst, '[')
		for j, it := range items {
			if j > 0 {
				dst = append(dst, ',', ' ')
			}
			dst = appendTextBytes(dst, t.buf[it.off:it.end])
		}
		dst = append(dst, ']')
	}
	if e.wrap {
		dst = append(dst, '}')
	}
	return dst
}
