package event

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Compact appends a strict, compact JSON rendering of the document js (anything
// Wazuh's parser accepts) to dst: insignificant whitespace removed, strings
// re-escaped so the result is valid UTF-8 JSON, numbers that are not strict JSON
// rewritten. Values and key order are kept; trailing data after the value is dropped.
func (f *Flattener) Compact(dst, js []byte) ([]byte, error) {
	f.src, f.pos, f.depth = js, 0, 0
	if err := f.skipValue(); err != nil {
		f.src = nil
		return dst, err
	}
	f.pos = 0
	f.skipWS()
	dst = f.compactValue(dst)
	f.src = nil
	return dst, nil
}

func (f *Flattener) compactValue(dst []byte) []byte {
	switch c := f.src[f.pos]; {
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		f.pos++
		dst = append(dst, c)
		first := true
		for {
			f.skipWS()
			if f.src[f.pos] == end {
				f.pos++
				return append(dst, end)
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			if end == '}' {
				dst = f.compactString(dst)
				f.skipWS()
				f.pos++ // ':'
				f.skipWS()
				dst = append(dst, ':')
			}
			dst = f.compactValue(dst)
			f.skipWS()
			if f.src[f.pos] == ',' {
				f.pos++
			}
		}
	case c == '"':
		return f.compactString(dst)
	case c == 'n':
		f.pos += 4
		return append(dst, litNull...)
	case c == 't':
		f.pos += 4
		return append(dst, litTrue...)
	case c == 'f':
		f.pos += 5
		return append(dst, litFalse...)
	default:
		start := f.pos
		v, n := parseNumber(f.src[f.pos:])
		f.pos += n
		text := f.src[start:f.pos]
		if strictNumber(text) {
			return append(dst, text...)
		}
		if v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308 {
			return append(dst, litNull...)
		}
		return strconv.AppendFloat(dst, v, 'g', -1, 64)
	}
}

// compactString re-encodes the string at f.pos as strict JSON.
func (f *Flattener) compactString(dst []byte) []byte {
	// Fast path: a string whose raw text is printable ASCII is already valid JSON,
	// escapes included (they were checked when the document was validated).
	if end, ok := f.rawASCIIString(); ok {
		dst = append(dst, f.src[f.pos:end]...)
		f.pos = end
		return dst
	}
	start := len(f.val)
	f.val = f.appendString(f.val)
	s := f.val[start:]
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
			i++
		case c < 0x20:
			switch c {
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
		}
	}
	f.val = f.val[:start]
	return append(dst, '"')
}

// rawASCIIString returns the end (after the closing quote) of the string at f.pos
// when every byte of its raw text is printable ASCII.
func (f *Flattener) rawASCIIString() (int, bool) {
	i := f.pos + 1
	for {
		q := quoteOrBackslash(f.src[i:])
		if q < 0 {
			return 0, false
		}
		if !printableASCII(f.src[i : i+q]) {
			return 0, false
		}
		i += q
		if f.src[i] == '"' {
			return i + 1, true
		}
		// A backslash escape: skip it (\uXXXX is printable too).
		if i+1 >= len(f.src) || f.src[i+1] < 0x20 || f.src[i+1] >= 0x80 {
			return 0, false
		}
		i += 2
	}
}

// printableASCII reports whether b holds only bytes 0x20..0x7f.
func printableASCII(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// A byte below 0x20 or at/above 0x80.
		if (w-0x2020202020202020|w)&swarHighs != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 || b[i] >= 0x80 {
			return false
		}
	}
	return true
}

// strictNumber reports whether b is a number in strict JSON syntax.
func strictNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}
