package awsevent

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// This file turns the parse tree into a small mutable model of the Python
// objects the module works on, so that the reshaping of every log type can be
// written step by step as the module does it (remove None values, merge into
// the message, unwrap one-element lists, type-specific changes) and the result
// written out afterwards as plain JSON.
//
// Values the module makes up (keys such as "groupId", computed strings, the
// log_info block) are appended to the record buffer itself (parser.src), so
// every node keeps addressing one buffer. The record is therefore copied into
// a buffer the Encoder owns before it is parsed (parseOwned).

// kRaw is a node whose text (src[off:end]) is already JSON and is written as it
// is: the log_info block, the account id, fixed source names.
const kRaw = kObj + 1

// Python exception classes the module would raise; the record is refused.
var (
	errPyType  = errors.New("TypeError")
	errPyKey   = errors.New("KeyError")
	errPyIndex = errors.New("IndexError")
	errPyAttr  = errors.New("AttributeError")
	errPyValue = errors.New("ValueError")
)

// pyErr builds a record error naming the Python exception the module would hit.
func pyErr(class error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", class, fmt.Sprintf(format, args...))
}

// parseOwned copies record into the Encoder's buffer and parses it there.
func (e *Encoder) parseOwned(record []byte) (int32, error) {
	e.p.reset(e.own(record))
	return e.p.parse()
}

// own copies b into the Encoder's buffer, with room for the values the
// reshaping adds. The buffer the last record grew to is kept: parser.src is
// only ever left pointing at an owned buffer (foreign input is released).
func (e *Encoder) own(b []byte) []byte {
	buf := e.work
	if cap(e.p.src) > cap(buf) {
		buf = e.p.src
	}
	if need := len(b) + len(b)/4 + 1024; cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	e.work = append(buf[:0], b...)
	return e.work
}

// syn appends b to the record buffer and returns its span.
func (p *parser) syn(b []byte) (int32, int32) {
	off := len(p.src)
	p.src = append(p.src, b...)
	return int32(off), int32(len(p.src))
}

// rawNode returns a node written as the JSON text js.
func (p *parser) rawNode(js []byte) int32 {
	off, end := p.syn(js)
	id := p.newNode(kRaw)
	p.nodes[id].off, p.nodes[id].end = off, end
	return id
}

// textNode returns a string node for decoded text (WTF-8, as appendDecoded
// writes it), stored escaped the way JSON content is.
func (p *parser) textNode(text []byte) int32 {
	off := len(p.src)
	plain := true
	for i := 0; i < len(text); {
		c := text[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			p.src = append(p.src, c)
			i++
			continue
		}
		plain = false
		var r rune
		r, i = decodeWTF8(text, i)
		p.src = appendEscapedRune(p.src, r)
	}
	id := p.newNode(kStr)
	nd := &p.nodes[id]
	nd.off, nd.end = int32(off), int32(len(p.src))
	if plain {
		nd.flags |= fPlain
	}
	return id
}

// decodeWTF8 decodes one code point of text written by appendWTF8 (lone
// surrogates included) or of valid UTF-8.
func decodeWTF8(b []byte, i int) (rune, int) {
	c := b[i]
	switch {
	case c < 0x80:
		return rune(c), i + 1
	case c < 0xE0 && i+1 < len(b):
		return rune(c&0x1F)<<6 | rune(b[i+1]&0x3F), i + 2
	case c < 0xF0 && i+2 < len(b):
		return rune(c&0x0F)<<12 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F), i + 3
	case i+3 < len(b):
		return rune(c&0x07)<<18 | rune(b[i+1]&0x3F)<<12 | rune(b[i+2]&0x3F)<<6 | rune(b[i+3]&0x3F), i + 4
	}
	return utf8.RuneError, i + 1
}

// setKeyLit gives node id the plain ASCII key k.
func (p *parser) setKeyLit(id int32, k string) {
	off := int32(len(p.src))
	p.src = append(p.src, k...)
	nd := &p.nodes[id]
	nd.koff, nd.kend, nd.ckoff, nd.ckend = off, int32(len(p.src)), off, int32(len(p.src))
	nd.flags = nd.flags&^fKeyArena | fKeyPlain
}

// clone returns a new node holding the value of id (children are shared, as
// Python shares the object).
func (p *parser) clone(id int32) int32 {
	c := p.newNode(kNull)
	p.takeValue(c, id)
	p.nodes[c].flags &^= fKeyPlain | fKeyArena
	return c
}

// newContainer returns an empty object or array node.
func (p *parser) newContainer(k kind) int32 { return p.newNode(k) }

// appendChild links child at the end of parent's children.
func (p *parser) appendChild(parent, child int32) {
	last := int32(-1)
	for c := p.nodes[parent].first; c >= 0; c = p.nodes[c].next {
		last = c
	}
	p.nodes[child].next = -1
	p.link(parent, &last, child)
}

// unlink removes child c (preceded by prev, -1 for the first) from parent.
func (p *parser) unlink(parent, prev, c int32) {
	if prev < 0 {
		p.nodes[parent].first = p.nodes[c].next
	} else {
		p.nodes[prev].next = p.nodes[c].next
	}
	p.nodes[parent].n--
}

// member returns the member of object obj with the decoded key k, or -1.
func (p *parser) member(obj int32, k string) int32 {
	for c := p.nodes[obj].first; c >= 0; c = p.nodes[c].next {
		if string(p.key(&p.nodes[c])) == k {
			return c
		}
	}
	return -1
}

// memberBytes is member for a key held in a byte slice.
func (p *parser) memberBytes(obj int32, k []byte) int32 {
	for c := p.nodes[obj].first; c >= 0; c = p.nodes[c].next {
		if bytes.Equal(p.key(&p.nodes[c]), k) {
			return c
		}
	}
	return -1
}

// removeMember deletes the member k of obj if it is there.
func (p *parser) removeMember(obj int32, k string) {
	prev := int32(-1)
	for c := p.nodes[obj].first; c >= 0; c = p.nodes[c].next {
		if string(p.key(&p.nodes[c])) == k {
			p.unlink(obj, prev, c)
			return
		}
		prev = c
	}
}

// setMember does obj[k] = val: an existing member keeps its position and takes
// the value, otherwise val (a fresh node) is appended under key k. It returns
// the member node.
func (p *parser) setMember(obj int32, k string, val int32) int32 {
	if m := p.member(obj, k); m >= 0 {
		p.takeValue(m, val)
		return m
	}
	p.setKeyLit(val, k)
	p.appendChild(obj, val)
	return val
}

// removeNone deletes null members of obj and of the objects below it, not
// looking into arrays (the module's remove_none_fields).
func (p *parser) removeNone(obj int32) {
	prev := int32(-1)
	for c := p.nodes[obj].first; c >= 0; c = p.nodes[c].next {
		switch p.nodes[c].kind {
		case kNull:
			p.unlink(obj, prev, c)
			continue
		case kObj:
			p.removeNone(c)
		}
		prev = c
	}
}

// unwrap replaces one-element array members by their element, recursing into
// object members only (the module's single_element_list_to_dictionary).
func (p *parser) unwrap(obj int32) {
	for c := p.nodes[obj].first; c >= 0; c = p.nodes[c].next {
		nd := &p.nodes[c]
		if nd.kind == kArr && nd.n == 1 {
			p.takeValue(c, nd.first)
		} else if nd.kind == kObj {
			p.unwrap(c)
		}
	}
}

// str returns the decoded content of string node id (the raw content when it
// has no escapes).
func (p *parser) str(id int32, scratch *[]byte) []byte {
	nd := &p.nodes[id]
	raw := p.src[nd.off:nd.end]
	if nd.flags&fPlain != 0 || !hasBackslash(raw) {
		return raw
	}
	*scratch = appendDecoded((*scratch)[:0], raw)
	return *scratch
}

// strIs reports whether node id is the string s.
func (p *parser) strIs(id int32, s string) bool {
	if p.nodes[id].kind != kStr {
		return false
	}
	var tmp []byte
	return string(p.str(id, &tmp)) == s
}

// typeName is Python's name for the type of node id, for error messages.
func (p *parser) typeName(id int32) string {
	switch p.nodes[id].kind {
	case kNull:
		return "NoneType"
	case kTrue, kFalse:
		return "bool"
	case kNum:
		if p.nodes[id].flags&fFloat != 0 {
			return "float"
		}
		return "int"
	case kStr:
		return "str"
	case kArr:
		return "list"
	}
	return "dict"
}

// pyIn evaluates Python's `k in v`: a key of a dict, a substring of a str, an
// element of a list; other types raise TypeError.
func (p *parser) pyIn(v int32, k string) (bool, error) {
	var tmp []byte
	switch p.nodes[v].kind {
	case kObj:
		return p.member(v, k) >= 0, nil
	case kStr:
		return bytes.Contains(p.str(v, &tmp), []byte(k)), nil
	case kArr:
		for c := p.nodes[v].first; c >= 0; c = p.nodes[c].next {
			if p.strIs(c, k) {
				return true, nil
			}
		}
		return false, nil
	}
	return false, pyErr(errPyType, "argument of type '%s' is not iterable", p.typeName(v))
}

// pyGet evaluates Python's v[k] for a str key and returns the member node.
func (p *parser) pyGet(v int32, k string) (int32, error) {
	switch p.nodes[v].kind {
	case kObj:
		if m := p.member(v, k); m >= 0 {
			return m, nil
		}
		return -1, pyErr(errPyKey, "%q", k)
	case kStr:
		return -1, pyErr(errPyType, "string indices must be integers (looking up %q)", k)
	case kArr:
		return -1, pyErr(errPyType, "list indices must be integers or slices, not str (looking up %q)", k)
	}
	return -1, pyErr(errPyType, "'%s' object is not subscriptable (looking up %q)", p.typeName(v), k)
}

// pyLen evaluates Python's len(v).
func (p *parser) pyLen(v int32) (int, error) {
	nd := &p.nodes[v]
	switch nd.kind {
	case kObj, kArr:
		return int(nd.n), nil
	case kStr:
		n := 0
		raw := p.src[nd.off:nd.end]
		for i := 0; i < len(raw); n++ {
			_, i = nextRune(raw, i)
		}
		return n, nil
	}
	return 0, pyErr(errPyType, "object of type '%s' has no len()", p.typeName(v))
}

// pyIter appends to dst the values Python's `for x in v` yields: list
// elements, dict keys (as new string nodes), str characters (as new string
// nodes). Other types raise TypeError.
func (p *parser) pyIter(dst []int32, v int32) ([]int32, error) {
	nd := p.nodes[v]
	switch nd.kind {
	case kArr:
		for c := nd.first; c >= 0; c = p.nodes[c].next {
			dst = append(dst, c)
		}
		return dst, nil
	case kObj:
		for c := nd.first; c >= 0; c = p.nodes[c].next {
			m := p.nodes[c]
			id := p.newNode(kStr)
			p.nodes[id].off, p.nodes[id].end = m.koff, m.kend
			if m.flags&fKeyPlain != 0 {
				p.nodes[id].flags |= fPlain
			}
			dst = append(dst, id)
		}
		return dst, nil
	case kStr:
		var buf [4]byte
		for i := nd.off; i < nd.end; {
			r, j := nextRune(p.src[:nd.end], int(i))
			i = int32(j)
			dst = append(dst, p.textNode(appendWTF8(buf[:0], r)))
		}
		return dst, nil
	}
	return dst, pyErr(errPyType, "'%s' object is not iterable", p.typeName(v))
}
