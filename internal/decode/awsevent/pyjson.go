package awsevent

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// This file reproduces the text Python's json.dumps writes with its defaults
// (ensure_ascii=True, allow_nan=True, separators ", " and ": ").

const hexDigits = "0123456789abcdef"

var errNonFinite = errors.New("number overflows a float; Python would write the invalid JSON token Infinity")

// appendEscapedRune writes one code point the way json.dumps with
// ensure_ascii does: printable ASCII as is (quote and backslash escaped), the
// usual short escapes, everything else as lowercase \uXXXX, astral code points
// as a surrogate pair.
func appendEscapedRune(dst []byte, r rune) []byte {
	switch {
	case r >= 0x20 && r < 0x7f:
		if r == '"' || r == '\\' {
			return append(dst, '\\', byte(r))
		}
		return append(dst, byte(r))
	case r == '\n':
		return append(dst, '\\', 'n')
	case r == '\r':
		return append(dst, '\\', 'r')
	case r == '\t':
		return append(dst, '\\', 't')
	case r == '\b':
		return append(dst, '\\', 'b')
	case r == '\f':
		return append(dst, '\\', 'f')
	case r >= 0x10000:
		r -= 0x10000
		dst = appendU4(dst, 0xD800+(r>>10))
		return appendU4(dst, 0xDC00+(r&0x3FF))
	}
	return appendU4(dst, r)
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
}

// appendJSONString writes a JSON string from raw JSON string content (as in the
// record, escapes included) the way Python re-encodes the decoded string.
func appendJSONString(dst, raw []byte, plain bool) []byte {
	dst = append(dst, '"')
	if plain {
		dst = append(dst, raw...)
		return append(dst, '"')
	}
	for i := 0; i < len(raw); {
		c := raw[i]
		if c >= 0x20 && c < 0x7f && c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if c == '\\' && raw[i+1] == 'u' {
			// Escaped code units map one to one, surrogates included, so pairs need
			// not be joined here.
			dst = appendEscapedRune(dst, rune(hexVal(raw[i+2:i+6])))
			i += 6
			continue
		}
		var r rune
		r, i = nextRune(raw, i)
		dst = appendEscapedRune(dst, r)
	}
	return append(dst, '"')
}

// AppendTextString appends s, UTF-8 text such as a Go string, as the JSON
// string json.dumps writes for it: printable ASCII as is (quote and backslash
// escaped), everything else escaped (ensure_ascii). Invalid bytes become U+FFFD.
func AppendTextString(dst []byte, s string) []byte {
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
		dst = appendEscapedRune(dst, r)
		i += size
	}
	return append(dst, '"')
}

// appendTextBytes is AppendTextString for text held in a byte slice.
func appendTextBytes(dst, s []byte) []byte {
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
		r, size := utf8.DecodeRune(s[i:])
		dst = appendEscapedRune(dst, r)
		i += size
	}
	return append(dst, '"')
}

// appendNumber writes a JSON number the way Python prints the int or float
// json.loads made of it.
func appendNumber(dst, lit []byte, float bool) ([]byte, error) {
	if !float {
		return appendInt(dst, lit), nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return dst, errSyntax
	}
	if math.IsInf(f, 0) {
		return dst, errNonFinite
	}
	return AppendFloatRepr(dst, f), nil
}

// appendInt writes an integer literal: Python's int keeps every digit, and only
// "-0" changes (to "0").
func appendInt(dst, lit []byte) []byte {
	if len(lit) == 2 && lit[0] == '-' && lit[1] == '0' {
		return append(dst, '0')
	}
	return append(dst, lit...)
}

// AppendFloatRepr appends Python's repr of a finite float, which is also how
// json.dumps writes it: the shortest digits that round-trip, positional when the
// decimal exponent is in [-4, 16), else scientific with a signed exponent of at
// least two digits; integral values keep a ".0". Callers decide what NaN and
// infinities become.
func AppendFloatRepr(dst []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	if s[0] == '-' {
		dst = append(dst, '-')
		s = s[1:]
	}
	e := 0
	for e < len(s) && s[e] != 'e' {
		e++
	}
	exp, _ := strconv.Atoi(string(s[e+1:]))
	var digits [24]byte
	nd := 0
	for _, c := range s[:e] {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	d := digits[:nd]
	decpt := exp + 1 // digits d[0]d[1]... times 10^(decpt-len(d))
	switch {
	case decpt <= -4 || decpt > 16:
		dst = append(dst, d[0])
		if len(d) > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	case decpt <= 0:
		dst = append(dst, '0', '.')
		for i := decpt; i < 0; i++ {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	case decpt >= len(d):
		dst = append(dst, d...)
		for i := len(d); i < decpt; i++ {
			dst = append(dst, '0')
		}
		return append(dst, '.', '0')
	}
	dst = append(dst, d[:decpt]...)
	dst = append(dst, '.')
	return append(dst, d[decpt:]...)
}
