package awsevent

import (
	"bytes"
	"encoding/binary"
)

// dedupe applies Python's dict semantics to the members of object obj: when a
// key repeats, the first member keeps its position but takes the last value,
// and the later members disappear.
func (p *parser) dedupe(obj int32) {
	if p.nodes[obj].n <= smallObject {
		p.dedupeSmall(obj)
		return
	}
	size := 16
	for size < 2*int(p.nodes[obj].n) {
		size <<= 1
	}
	if cap(p.table) < size {
		p.table = make([]int32, size)
	}
	table := p.table[:size]
	for i := range table {
		table[i] = -1
	}
	mask := uint64(size - 1)
	prev := int32(-1)
	for j := p.nodes[obj].first; j >= 0; {
		next := p.nodes[j].next
		k := p.key(&p.nodes[j])
		h := keyHash(k) & mask
		dup := false
		for table[h] >= 0 {
			if i := table[h]; bytes.Equal(p.key(&p.nodes[i]), k) {
				p.takeValue(i, j)
				p.nodes[prev].next = next
				p.nodes[obj].n--
				dup = true
				break
			}
			h = (h + 1) & mask
		}
		if !dup {
			table[h] = j
			prev = j
		}
		j = next
	}
}

// dedupeSmall is dedupe for objects of up to 64 members: a 64-bit filter of
// key hashes leaves pairwise comparison to the rare filter collisions.
func (p *parser) dedupeSmall(obj int32) {
	nodes := p.nodes
	first := nodes[obj].first
	var seen uint64
	prev := int32(-1)
	for j := first; j >= 0; {
		next := nodes[j].next
		k := p.key(&nodes[j])
		bit := uint64(1) << (keyHash(k) >> 58)
		dup := int32(-1)
		if seen&bit != 0 {
			for i := first; i != j; i = nodes[i].next {
				if bytes.Equal(p.key(&nodes[i]), k) {
					dup = i
					break
				}
			}
		}
		seen |= bit
		if dup >= 0 {
			p.takeValue(dup, j)
			nodes[prev].next = next
			nodes[obj].n--
		} else {
			prev = j
		}
		j = next
	}
}

// takeValue gives member dst the value of member src, keeping dst's key.
func (p *parser) takeValue(dst, src int32) {
	d, s := &p.nodes[dst], &p.nodes[src]
	const keyFlags = fKeyPlain | fKeyArena
	d.kind = s.kind
	d.flags = d.flags&keyFlags | s.flags&^keyFlags
	d.off, d.end = s.off, s.end
	d.first, d.n = s.first, s.n
}

// keyHash mixes the length and the first and last eight bytes of a key: O(1)
// per key, and enough to spread the keys of real objects. The top bits are the
// best mixed.
func keyHash(k []byte) uint64 {
	var a, b uint64
	if len(k) >= 8 {
		a = binary.LittleEndian.Uint64(k)
		b = binary.LittleEndian.Uint64(k[len(k)-8:])
	} else {
		for i, c := range k {
			a |= uint64(c) << (8 * i)
		}
	}
	h := (a ^ uint64(len(k))) * 0x9E3779B97F4A7C15
	h ^= b * 0xC2B2AE3D27D4EB4F
	return h ^ h>>31
}

// nextRune decodes the code point at raw[i] of validated JSON string content:
// escapes are resolved and an escaped surrogate pair becomes one astral code
// point, as Python's json decoder does. A lone surrogate is returned as is.
func nextRune(raw []byte, i int) (rune, int) {
	c := raw[i]
	if c < 0x80 {
		if c != '\\' {
			return rune(c), i + 1
		}
		switch raw[i+1] {
		case 'b':
			return '\b', i + 2
		case 'f':
			return '\f', i + 2
		case 'n':
			return '\n', i + 2
		case 'r':
			return '\r', i + 2
		case 't':
			return '\t', i + 2
		case 'u':
			r := rune(hexVal(raw[i+2 : i+6]))
			if r >= 0xD800 && r < 0xDC00 && i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if lo := rune(hexVal(raw[i+8 : i+12])); lo >= 0xDC00 && lo < 0xE000 {
					return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), i + 12
				}
			}
			return r, i + 6
		default: // '"', '\\', '/'
			return rune(raw[i+1]), i + 2
		}
	}
	return decodeUTF8(raw, i)
}

// decodeUTF8 decodes one rune of valid UTF-8 (validated by the parser).
func decodeUTF8(b []byte, i int) (rune, int) {
	c := b[i]
	switch {
	case c < 0xE0:
		return rune(c&0x1F)<<6 | rune(b[i+1]&0x3F), i + 2
	case c < 0xF0:
		return rune(c&0x0F)<<12 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F), i + 3
	default:
		return rune(c&0x07)<<18 | rune(b[i+1]&0x3F)<<12 | rune(b[i+2]&0x3F)<<6 | rune(b[i+3]&0x3F), i + 4
	}
}

// appendDecoded appends the decoded form of raw JSON string content. Lone
// surrogates are encoded like other BMP code points (WTF-8), which keeps them
// distinct from every valid character.
func appendDecoded(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		var r rune
		r, i = nextRune(raw, i)
		dst = appendWTF8(dst, r)
	}
	return dst
}

func appendWTF8(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xC0|byte(r>>6), 0x80|byte(r&0x3F))
	case r < 0x10000:
		return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
	}
	return append(dst, 0xF0|byte(r>>18), 0x80|byte(r>>12&0x3F), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
}
