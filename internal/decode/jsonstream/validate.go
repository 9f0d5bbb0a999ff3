package jsonstream

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// SWAR constants: one byte lane each.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// specialMask returns a word whose lowest set bit marks the first byte of w that
// ends the fast path inside a string: '"', '\\', a control byte or a non-ASCII
// byte. The classic "has zero byte" trick only gives false positives above the
// first true hit, so the lowest set bit is exact.
func specialMask(w uint64) uint64 {
	q := w ^ (lanes01 * '"')
	b := w ^ (lanes01 * '\\')
	ctl := (w - lanes01*0x20) & ^w
	return (ctl | ((q - lanes01) & ^q) | ((b - lanes01) & ^b) | w) & lanes80
}

// validator checks complete JSON texts. It keeps its nesting stack between calls
// so validation does not allocate once warmed up.
type validator struct {
	stack []byte
}

// isSpace reports JSON insignificant whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// validation states of the iterative checker.
const (
	vValue = iota // a value must start here
	vKey          // an object key must start here
	vAfter        // a value just ended
)

// check returns -1 when b holds exactly one JSON value (surrounding whitespace
// allowed), else the index of the offending byte and a short description. It is
// iterative so hostile nesting cannot exhaust the goroutine stack.
func (v *validator) check(b []byte) (int, string) {
	stack := v.stack[:0]
	defer func() { v.stack = stack[:0] }()
	i, state := 0, vValue
	for {
		i = skipSpace(b, i)
		switch state {
		case vValue:
			if i >= len(b) {
				return i, "unexpected end of value"
			}
			switch c := b[i]; {
			case c == '{':
				i = skipSpace(b, i+1)
				if i < len(b) && b[i] == '}' {
					i++
					state = vAfter
					continue
				}
				stack = append(stack, '{')
				state = vKey
				continue
			case c == '[':
				i = skipSpace(b, i+1)
				if i < len(b) && b[i] == ']' {
					i++
					state = vAfter
					continue
				}
				stack = append(stack, '[')
				continue
			case c == '"':
				n, msg := checkString(b, i)
				if msg != "" {
					return n, msg
				}
				i = n
			case c == '-' || (c >= '0' && c <= '9'):
				n, msg := checkNumber(b, i)
				if msg != "" {
					return n, msg
				}
				i = n
			case c == 't':
				if !hasLiteral(b, i, "true") {
					return i, "invalid literal"
				}
				i += 4
			case c == 'f':
				if !hasLiteral(b, i, "false") {
					return i, "invalid literal"
				}
				i += 5
			case c == 'n':
				if !hasLiteral(b, i, "null") {
					return i, "invalid literal"
				}
				i += 4
			default:
				return i, "invalid character " + quoteByte(c) + " looking for a value"
			}
			state = vAfter
		case vKey:
			if i >= len(b) {
				return i, "unexpected end of object"
			}
			if b[i] != '"' {
				return i, "invalid character " + quoteByte(b[i]) + " looking for an object key"
			}
			n, msg := checkString(b, i)
			if msg != "" {
				return n, msg
			}
			i = skipSpace(b, n)
			if i >= len(b) || b[i] != ':' {
				return i, "missing ':' after object key"
			}
			i++
			state = vValue
		case vAfter:
			if len(stack) == 0 {
				if i != len(b) {
					return i, "invalid character " + quoteByte(b[i]) + " after top-level value"
				}
				return -1, ""
			}
			if i >= len(b) {
				return i, "unexpected end of value"
			}
			top := stack[len(stack)-1]
			switch c := b[i]; {
			case c == ',':
				i++
				if top == '{' {
					state = vKey
				} else {
					state = vValue
				}
			case (c == '}' && top == '{') || (c == ']' && top == '['):
				i++
				stack = stack[:len(stack)-1]
			default:
				return i, "invalid character " + quoteByte(c) + " after value"
			}
		}
	}
}

func hasLiteral(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// checkString validates the string starting at b[i] == '"' and returns the index
// just past its closing quote.
func checkString(b []byte, i int) (int, string) {
	i++
	for {
		for i+8 <= len(b) {
			m := specialMask(binary.LittleEndian.Uint64(b[i:]))
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return i, "unterminated string"
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, ""
		case c == '\\':
			if i+1 >= len(b) {
				return i, "unterminated string"
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, "invalid \\u escape"
				}
				i += 6
			default:
				return i, "invalid escape " + quoteByte(b[i+1])
			}
		case c < 0x20:
			return i, "control character in string"
		case c >= 0x80:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return i, "invalid UTF-8 in string"
			}
			i += size
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// checkNumber validates the RFC 8259 number grammar starting at b[i].
func checkNumber(b []byte, i int) (int, string) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, "invalid number"
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, "invalid number fraction"
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, "invalid number exponent"
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, ""
}

func quoteByte(c byte) string {
	const hex = "0123456789abcdef"
	if c >= 0x20 && c < 0x7f && c != '\'' {
		return "'" + string(rune(c)) + "'"
	}
	return "'\\x" + string([]byte{hex[c>>4], hex[c&15]}) + "'"
}
