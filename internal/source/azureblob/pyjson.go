package azureblob

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// This file writes a JSON record as Wazuh's storage module sends it: the module
// parses each record with Python's json.loads, sets azure_tag (and
// azure_storage_tag) on it, and serialises it with json.dumps' defaults. So the
// event has ", " and ": " separators, every character outside printable ASCII
// escaped as \uXXXX, floats in Python's repr, and the two tags set in place when
// the record already has them, else appended. Reproducing it byte for byte keeps
// full_log and any rule that matches the raw text the same as under Wazuh.

var errNotObject = errors.New("record is not a JSON object")

const (
	tagKey        = "azure_tag"
	storageTagKey = "azure_storage_tag"
	tagValue      = "azure-storage"
)

// appendPyRecord appends json.dumps of the object rec with the tags set. rec must
// be valid JSON (the reader validates records before handing them over).
func appendPyRecord(dst, rec []byte, tag string) ([]byte, error) {
	i := skipWS(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return dst, errNotObject
	}
	dst = append(dst, '{')
	i++
	depth := 1
	members := 0 // top-level members written
	haveTag, haveStorage := false, false
	for i < len(rec) {
		c := rec[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			if depth == 1 {
				// A top-level key: the tags replace the value of a key of their name.
				end := stringEnd(rec, i)
				key := rec[i:end]
				if members > 0 {
					dst = append(dst, ", "...)
				}
				members++
				dst = appendPyString(dst, key)
				i = skipWS(rec, end)
				i = skipWS(rec, i+1) // ':'
				dst = append(dst, ": "...)
				var repl string
				switch {
				case string(key) == `"`+tagKey+`"`:
					repl, haveTag = tagValue, true
				case string(key) == `"`+storageTagKey+`"` && tag != "":
					repl, haveStorage = tag, true
				}
				if repl != "" {
					dst = appendPyString(dst, []byte(`"`+repl+`"`))
					i = skipValue(rec, i)
					continue
				}
				depth++ // the member's value, closed by the ',' or '}' that follows it
				continue
			}
			end := stringEnd(rec, i)
			dst = appendPyString(dst, rec[i:end])
			i = end
		case c == ',':
			if depth <= 2 {
				depth = 1 // end of a top-level member: its separator goes before the next key
			} else {
				dst = append(dst, ", "...)
			}
			i++
		case c == ':':
			dst = append(dst, ": "...)
			i++
		case c == '{' || c == '[':
			dst = append(dst, c)
			depth++
			i++
		case c == '}' || c == ']':
			if depth == 2 && c == '}' {
				depth-- // the document's '}' right after a member's value
			}
			depth--
			i++
			if depth == 0 {
				if !haveTag {
					if members > 0 {
						dst = append(dst, ", "...)
					}
					dst = append(dst, `"`+tagKey+`": "`+tagValue+`"`...)
				}
				if tag != "" && !haveStorage {
					dst = append(dst, `, "`+storageTagKey+`": `...)
					dst = appendPyString(dst, []byte(`"`+tag+`"`))
				}
				return append(dst, '}'), nil
			}
			dst = append(dst, c)
		default:
			end := i
			for end < len(rec) && !isDelim(rec[end]) {
				end++
			}
			dst = appendPyScalar(dst, rec[i:end])
			i = end
		}
	}
	return dst, errors.New("record ends inside the object")
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r', ':':
		return true
	}
	return false
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] ('"').
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i = stringEnd(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

const hexDigits = "0123456789abcdef"

// appendPyString re-escapes the JSON string s (with its quotes) as json.dumps
// with ensure_ascii does.
func appendPyString(dst, s []byte) []byte {
	dst = append(dst, '"')
	s = s[1 : len(s)-1]
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			e := s[i+1]
			i += 2
			switch e {
			case 'u':
				if i+4 > len(s) {
					return append(dst, '"')
				}
				u, _ := strconv.ParseUint(string(s[i:i+4]), 16, 16)
				i += 4
				dst = appendPyUnit(dst, rune(u))
			case 'b':
				dst = append(dst, `\b`...)
			case 'f':
				dst = append(dst, `\f`...)
			case 'n':
				dst = append(dst, `\n`...)
			case 'r':
				dst = append(dst, `\r`...)
			case 't':
				dst = append(dst, `\t`...)
			default: // '"', '\\', '/'
				dst = appendPyUnit(dst, rune(e))
			}
		case c < utf8.RuneSelf:
			dst = appendPyUnit(dst, rune(c))
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			i += n
			if r > 0xFFFF {
				r -= 0x10000
				dst = appendPyUnit(dst, 0xD800+(r>>10))
				dst = appendPyUnit(dst, 0xDC00+(r&0x3FF))
			} else {
				dst = appendPyUnit(dst, r)
			}
		}
	}
	return append(dst, '"')
}

// appendPyUnit writes one UTF-16 unit as json.dumps(ensure_ascii=True) does.
func appendPyUnit(dst []byte, u rune) []byte {
	switch {
	case u == '"':
		return append(dst, `\"`...)
	case u == '\\':
		return append(dst, `\\`...)
	case u >= 0x20 && u <= 0x7e:
		return append(dst, byte(u))
	case u == '\n':
		return append(dst, `\n`...)
	case u == '\r':
		return append(dst, `\r`...)
	case u == '\t':
		return append(dst, `\t`...)
	case u == '\b':
		return append(dst, `\b`...)
	case u == '\f':
		return append(dst, `\f`...)
	}
	return append(dst, '\\', 'u', hexDigits[u>>12&0xF], hexDigits[u>>8&0xF], hexDigits[u>>4&0xF], hexDigits[u&0xF])
}

// appendPyScalar writes a number or literal as Python prints what json.loads
// made of it: integers as they are (without a sign on zero), floats in repr.
func appendPyScalar(dst, tok []byte) []byte {
	float := false
	for _, c := range tok {
		if c == '.' || c == 'e' || c == 'E' {
			float = true
			break
		}
	}
	if !float {
		if string(tok) == "-0" {
			return append(dst, '0')
		}
		return append(dst, tok...)
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil && f == 0 {
		return append(dst, tok...)
	}
	return appendPyFloat(dst, f)
}

// appendPyFloat writes f as Python's repr(float) does: the shortest digits that
// read back as f, in positional notation when the decimal exponent is in
// (-4, 16], else as d.ddde±XX.
func appendPyFloat(dst []byte, f float64) []byte {
	switch {
	case f > 1.7976931348623157e308:
		return append(dst, "Infinity"...)
	case f < -1.7976931348623157e308:
		return append(dst, "-Infinity"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	mant, exp, _ := cut(e, 'e')
	x, _ := strconv.Atoi(string(exp))
	var digits []byte
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	decpt := x + 1
	if decpt <= -4 || decpt > 16 {
		dst = append(dst, digits[0])
		if len(digits) > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if x < 0 {
			dst = append(dst, '-')
			x = -x
		} else {
			dst = append(dst, '+')
		}
		if x < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(x), 10)
	}
	switch {
	case decpt <= 0:
		dst = append(dst, "0."...)
		for k := 0; k < -decpt; k++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	case decpt >= len(digits):
		dst = append(dst, digits...)
		for k := len(digits); k < decpt; k++ {
			dst = append(dst, '0')
		}
		dst = append(dst, ".0"...)
	default:
		dst = append(dst, digits[:decpt]...)
		dst = append(dst, '.')
		dst = append(dst, digits[decpt:]...)
	}
	return dst
}

func cut(b []byte, sep byte) (before, after []byte, found bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}
