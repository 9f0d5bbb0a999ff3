package awssqs

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Wazuh sends each Security Lake row as Python's json.dumps writes it with its
// defaults: separators ", " and ": ", every character outside printable ASCII
// escaped (ensure_ascii), floats as Python's repr. These writers reproduce that
// text, so full_log is the same as Wazuh's.

const hexDigits = "0123456789abcdef"

// appendPyString writes s as json.dumps does; invalid UTF-8 becomes U+FFFD.
func appendPyString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			if c == '"' || c == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r == '\b':
			dst = append(dst, '\\', 'b')
		case r == '\f':
			dst = append(dst, '\\', 'f')
		case r >= 0x10000:
			r -= 0x10000
			dst = appendU4(appendU4(dst, 0xD800+(r>>10)), 0xDC00+(r&0x3FF))
		default:
			dst = appendU4(dst, r)
		}
	}
	return append(dst, '"')
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
}

// appendPyFloat writes Python's repr of a float: the shortest digits that
// round-trip, positional when the decimal exponent is in [-4, 16) (integral
// values keep ".0"), else scientific with a signed two-digit exponent. NaN and
// infinities, which json.dumps writes as invalid JSON, become null.
func appendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return append(dst, "null"...)
	case f == 0 && math.Signbit(f):
		return append(dst, "-0.0"...)
	case f == 0:
		return append(dst, "0.0"...)
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // d[.ddd]e±XX
	e := 0
	for s[e] != 'e' {
		e++
	}
	exp, _ := strconv.Atoi(string(s[e+1:]))
	var buf [24]byte
	d := buf[:0]
	for _, c := range s[:e] {
		if c != '.' {
			d = append(d, c)
		}
	}
	decpt := exp + 1 // the value is 0.d × 10^decpt
	switch {
	case decpt <= -4 || decpt > 16:
		dst = append(dst, d[0])
		if len(d) > 1 {
			dst = append(append(dst, '.'), d[1:]...)
		}
		sign := byte('+')
		if exp < 0 {
			sign, exp = '-', -exp
		}
		dst = append(dst, 'e', sign)
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	case decpt <= 0:
		dst = append(dst, '0', '.')
		for range -decpt {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	case decpt >= len(d):
		dst = append(dst, d...)
		for range decpt - len(d) {
			dst = append(dst, '0')
		}
		return append(dst, '.', '0')
	}
	return append(append(append(dst, d[:decpt]...), '.'), d[decpt:]...)
}
