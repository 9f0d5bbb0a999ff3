package awsevent

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"unicode/utf8"
)

// kind is the JSON type of a node.
type kind uint8

const (
	kNull kind = iota
	kFalse
	kTrue
	kNum
	kStr
	kArr
	kObj
)

// node flags.
const (
	fPlain    = 1 << iota // string content is printable ASCII without escapes: copy it as is
	fFloat                // number has a fraction or exponent (a Python float)
	fKeyPlain             // the member key is printable ASCII without escapes
	fKeyArena             // the decoded key lives in the arena, not in the record
)

// node is one JSON value of the parsed record; object members carry their key.
// Children form a singly linked list so duplicate keys can be dropped in place.
type node struct {
	kind         kind
	flags        uint8
	off, end     int32 // string content (without quotes) or number literal
	koff, kend   int32 // raw key content, members only
	ckoff, ckend int32 // decoded key, in the record or (fKeyArena) in the arena
	first, next  int32 // first child and next sibling, -1 for none
	n            int32 // number of children
}

const (
	// maxDepth approximates the nesting at which Python's json module (recursion
	// limit 1000) gives up on a record; deeper records are refused.
	maxDepth = 900
	// maxIntDigits is CPython's int_max_str_digits default: json.loads refuses
	// longer integer literals, and with them the whole file.
	maxIntDigits = 4300
	// smallObject is the member count up to which duplicate keys are found
	// with a 64-bit hash filter instead of the hash table.
	smallObject = 64
)

var (
	errSyntax = errors.New("invalid JSON")
	errDepth  = errors.New("nesting deeper than Python's json module accepts")
	errIntLen = errors.New("integer literal longer than Python's 4300-digit limit")
)

// parser builds the node tree of one record. Its slices are reused across records.
type parser struct {
	src   []byte
	nodes []node
	arena []byte  // decoded keys that contained escapes
	table []int32 // open-addressing table for duplicate keys of large objects
}

func (p *parser) reset(src []byte) {
	p.src, p.nodes, p.arena = src, p.nodes[:0], p.arena[:0]
}

func (p *parser) newNode(k kind) int32 {
	n := len(p.nodes)
	if n == cap(p.nodes) {
		p.nodes = append(p.nodes, node{})
	} else {
		p.nodes = p.nodes[:n+1]
	}
	p.nodes[n] = node{kind: k, first: -1, next: -1}
	return int32(n)
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func (p *parser) skipSpace(i int) int {
	for i < len(p.src) && isSpace(p.src[i]) {
		i++
	}
	return i
}

// parse parses the whole record; the root must be the only value.
func (p *parser) parse() (int32, error) {
	root, i, err := p.value(p.skipSpace(0), 0)
	if err != nil {
		return -1, err
	}
	if p.skipSpace(i) != len(p.src) {
		return -1, errSyntax
	}
	return root, nil
}

// value parses the value at src[i] and returns its node and the index after it.
func (p *parser) value(i, depth int) (int32, int, error) {
	if i >= len(p.src) {
		return -1, i, errSyntax
	}
	switch c := p.src[i]; {
	case c == '"':
		id := p.newNode(kStr)
		end, plain, err := scanString(p.src, i)
		if err != nil {
			return -1, i, err
		}
		nd := &p.nodes[id]
		nd.off, nd.end = int32(i+1), int32(end-1)
		if plain {
			nd.flags |= fPlain
		}
		return id, end, nil
	case c == '{':
		return p.object(i, depth+1)
	case c == '[':
		return p.array(i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(i)
	case c == 't':
		return p.literal(i, "true", kTrue)
	case c == 'f':
		return p.literal(i, "false", kFalse)
	case c == 'n':
		return p.literal(i, "null", kNull)
	}
	return -1, i, errSyntax
}

func (p *parser) literal(i int, lit string, k kind) (int32, int, error) {
	if len(p.src)-i < len(lit) || string(p.src[i:i+len(lit)]) != lit {
		return -1, i, errSyntax
	}
	return p.newNode(k), i + len(lit), nil
}

func (p *parser) number(i int) (int32, int, error) {
	end, float, err := scanNumber(p.src, i)
	if err != nil {
		return -1, end, err
	}
	id := p.newNode(kNum)
	nd := &p.nodes[id]
	nd.off, nd.end = int32(i), int32(end)
	if float {
		nd.flags |= fFloat
	}
	return id, end, nil
}

// scanNumber validates the number starting at src[i] and returns the index
// after it and whether Python would make it a float (fraction or exponent).
func scanNumber(src []byte, i int) (int, bool, error) {
	if src[i] == '-' {
		i++
	}
	digits := i
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	default:
		return i, false, errSyntax
	}
	intDigits := i - digits
	float := false
	if i < len(src) && src[i] == '.' {
		i++
		if i >= len(src) || !isDigit(src[i]) {
			return i, false, errSyntax
		}
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		float = true
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if i >= len(src) || !isDigit(src[i]) {
			return i, false, errSyntax
		}
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		float = true
	}
	if !float && intDigits > maxIntDigits {
		return i, false, errIntLen
	}
	return i, float, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) array(i, depth int) (int32, int, error) {
	if depth > maxDepth {
		return -1, i, errDepth
	}
	id := p.newNode(kArr)
	i = p.skipSpace(i + 1)
	if i < len(p.src) && p.src[i] == ']' {
		return id, i + 1, nil
	}
	last := int32(-1)
	for {
		child, j, err := p.value(i, depth)
		if err != nil {
			return -1, j, err
		}
		p.link(id, &last, child)
		i = p.skipSpace(j)
		if i >= len(p.src) {
			return -1, i, errSyntax
		}
		switch p.src[i] {
		case ',':
			i = p.skipSpace(i + 1)
		case ']':
			return id, i + 1, nil
		default:
			return -1, i, errSyntax
		}
	}
}

// link appends child to parent's list; last tracks the list tail.
func (p *parser) link(parent int32, last *int32, child int32) {
	if *last < 0 {
		p.nodes[parent].first = child
	} else {
		p.nodes[*last].next = child
	}
	*last = child
	p.nodes[parent].n++
}

func (p *parser) object(i, depth int) (int32, int, error) {
	if depth > maxDepth {
		return -1, i, errDepth
	}
	id := p.newNode(kObj)
	i = p.skipSpace(i + 1)
	if i < len(p.src) && p.src[i] == '}' {
		return id, i + 1, nil
	}
	last := int32(-1)
	for {
		if i >= len(p.src) || p.src[i] != '"' {
			return -1, i, errSyntax
		}
		kend, kplain, err := scanString(p.src, i)
		if err != nil {
			return -1, i, err
		}
		j := p.skipSpace(kend)
		if j >= len(p.src) || p.src[j] != ':' {
			return -1, j, errSyntax
		}
		child, j, err := p.value(p.skipSpace(j+1), depth)
		if err != nil {
			return -1, j, err
		}
		p.setKey(child, i+1, kend-1, kplain)
		p.link(id, &last, child)
		i = p.skipSpace(j)
		if i >= len(p.src) {
			return -1, i, errSyntax
		}
		switch p.src[i] {
		case ',':
			i = p.skipSpace(i + 1)
		case '}':
			if p.nodes[id].n > 1 {
				p.dedupe(id)
			}
			return id, i + 1, nil
		default:
			return -1, i, errSyntax
		}
	}
}

// setKey records the member key of node id; keys with escapes are decoded into
// the arena so that equal keys compare equal however they were written.
func (p *parser) setKey(id int32, off, end int, plain bool) {
	nd := &p.nodes[id]
	nd.koff, nd.kend = int32(off), int32(end)
	nd.ckoff, nd.ckend = int32(off), int32(end)
	if plain {
		nd.flags |= fKeyPlain
		return
	}
	raw := p.src[off:end]
	if !hasBackslash(raw) {
		return
	}
	start := len(p.arena)
	p.arena = appendDecoded(p.arena, raw)
	nd = &p.nodes[id]
	nd.flags |= fKeyArena
	nd.ckoff, nd.ckend = int32(start), int32(len(p.arena))
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// key returns the decoded key of member nd.
func (p *parser) key(nd *node) []byte {
	if nd.flags&fKeyArena != 0 {
		return p.arena[nd.ckoff:nd.ckend]
	}
	return p.src[nd.ckoff:nd.ckend]
}

// scanString validates the string starting at src[i] == '"'. It returns the
// index after the closing quote and whether the content is plain: printable
// ASCII without escapes, which Python's json.dumps writes back unchanged.
func scanString(src []byte, i int) (int, bool, error) {
	i++
	plain := true
	for {
		for i+8 <= len(src) {
			if m := stopMask(binary.LittleEndian.Uint64(src[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i+8 > len(src) {
			for i < len(src) && plainByte(src[i]) {
				i++
			}
		}
		if i >= len(src) {
			return i, false, errSyntax
		}
		switch c := src[i]; {
		case c == '"':
			return i + 1, plain, nil
		case c == '\\':
			plain = false
			if i+1 >= len(src) {
				return i, false, errSyntax
			}
			switch src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(src)-i < 6 || hexVal(src[i+2:i+6]) < 0 {
					return i, false, errSyntax
				}
				i += 6
			default:
				return i, false, errSyntax
			}
		case c < 0x20:
			return i, false, errSyntax
		case c >= 0x80:
			plain = false
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				return i, false, errSyntax
			}
			i += size
		default:
			if c == 0x7f {
				plain = false
			}
			i++
		}
	}
}

// stopMask returns a word whose lowest set bit marks the first byte of w that
// ends a plain run: a quote, backslash, control, DEL or non-ASCII byte (w+1
// sets bit 7 for DEL). Borrows and carries only cause false positives above a
// true hit, so the lowest set bit is exact.
func stopMask(w uint64) uint64 {
	const lanes01, lanes80 = 0x0101010101010101, 0x8080808080808080
	q := w ^ (lanes01 * '"')
	b := w ^ (lanes01 * '\\')
	return (((w - lanes01*0x20) & ^w) | ((q - lanes01) & ^q) | ((b - lanes01) & ^b) | (w + lanes01) | w) & lanes80
}

// plainByte reports bytes json.dumps copies unchanged inside a string.
func plainByte(c byte) bool { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' }

// hexVal decodes four hex digits, or returns -1.
func hexVal(h []byte) int {
	v := 0
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return -1
		}
	}
	return v
}
