package wregex

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Escape decoding and class emission helpers for the PCRE2 rewriter.

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// charEscape decodes an escape that stands for one byte value: \xHH,
// \x{H..}, \o{O..}, octal \ddd, \cX, \a, \e, and (inside classes) \b, \n,
// \r, \t, \f. It returns the value and the number of pattern bytes used.
func (w *pcreRewriter) charEscape(i int, inClass bool) (int, int, error) {
	s := w.src
	d := s[i+1]
	limit := uint64(0xFF)
	if w.utf {
		limit = utf8.MaxRune
	}
	tooBig := func() (int, int, error) {
		return 0, 0, w.errorf(i, "character code point value in escape is too large")
	}
	switch d {
	case 'x':
		if i+2 < len(s) && s[i+2] == '{' {
			j := strings.IndexByte(s[i+3:], '}')
			if j < 0 {
				return 0, 0, w.errorf(i, `missing } after \x{`)
			}
			v, err := strconv.ParseUint(s[i+3:i+3+j], 16, 32)
			if err != nil || j == 0 {
				return 0, 0, w.errorf(i, `invalid \x{...} escape`)
			}
			if v > limit {
				return tooBig()
			}
			return int(v), j + 4, nil
		}
		v, j := 0, i+2
		for j < len(s) && j < i+4 && isHex(s[j]) {
			v = v*16 + hexVal(s[j])
			j++
		}
		return v, j - i, nil
	case 'o':
		if i+2 >= len(s) || s[i+2] != '{' {
			return 0, 0, w.errorf(i, `missing { after \o`)
		}
		j := strings.IndexByte(s[i+3:], '}')
		if j <= 0 {
			return 0, 0, w.errorf(i, `invalid \o{...} escape`)
		}
		v, err := strconv.ParseUint(s[i+3:i+3+j], 8, 32)
		if err != nil {
			return 0, 0, w.errorf(i, `invalid \o{...} escape`)
		}
		if v > limit {
			return tooBig()
		}
		return int(v), j + 4, nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v, j := 0, i+1
		for j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '7' {
			v = v*8 + int(s[j]-'0')
			j++
		}
		if v > 0xFF {
			return tooBig()
		}
		return v, j - i, nil
	case 'c':
		if i+2 >= len(s) || s[i+2] < 0x20 || s[i+2] > 0x7E {
			return 0, 0, w.errorf(i, `\c must be followed by a printable ASCII character`)
		}
		return int(upper(s[i+2]) ^ 0x40), 3, nil
	case 'a':
		return 0x07, 2, nil
	case 'e':
		return 0x1B, 2, nil
	}
	if inClass {
		switch d {
		case 'b':
			return 0x08, 2, nil
		case 'n':
			return '\n', 2, nil
		case 'r':
			return '\r', 2, nil
		case 't':
			return '\t', 2, nil
		case 'f':
			return '\f', 2, nil
		case '8', '9':
			return int(d), 2, nil
		}
	}
	return 0, 0, w.errorf(i, "unexpected escape %q", s[i:i+2])
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// escapeSet returns the bytes of a PCRE2 class escape (non-UTF, default
// tables), ignoring negation for the upper-case forms.
func escapeSet(d byte) byteSet {
	var set byteSet
	add := func(chars string) {
		for k := 0; k < len(chars); k++ {
			set.add(chars[k])
		}
	}
	switch d {
	case 'd', 'D':
		add("0123456789")
	case 'w', 'W':
		add("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
	case 's', 'S':
		add(pcreSpace)
	case 'h', 'H':
		add("\t \xA0")
	case 'v', 'V':
		add("\n\v\f\r\x85")
	}
	return set
}

// utfSpaceClass spells \h, \H, \v or \V in UTF mode, where they cover the
// Unicode horizontal and vertical space characters.
func utfSpaceClass(d byte) string {
	h := "\t \u00A0\u1680\u180E\u2000-\u200A\u202F\u205F\u3000"
	v := "\n\v\f\r\u0085\u2028\u2029"
	switch d {
	case 'h':
		return "[" + h + "]"
	case 'H':
		return "[^" + h + "]"
	case 'v':
		return "[" + v + "]"
	}
	return "[^" + v + "]"
}

func complement(s byteSet) byteSet {
	for k := range s {
		s[k] = ^s[k]
	}
	return s
}

// writeSet emits a bracket expression for a byte set over the mapped
// alphabet.
func (w *pcreRewriter) writeSet(set byteSet, negate bool) {
	w.out.WriteByte('[')
	if negate {
		w.out.WriteByte('^')
	}
	for lo := 0; lo < 256; {
		if !set.has(byte(lo)) {
			lo++
			continue
		}
		hi := lo
		for hi+1 < 256 && set.has(byte(hi+1)) && (hi+1 != 0x80) {
			hi++
		}
		w.writeClassChar(lo)
		if hi > lo {
			w.out.WriteByte('-')
			w.writeClassChar(hi)
		}
		lo = hi + 1
	}
	w.out.WriteByte(']')
}

func (w *pcreRewriter) writeClassChar(v int) {
	if v >= 0x80 {
		w.out.WriteRune(highBase + rune(v))
		return
	}
	fmt.Fprintf(&w.out, `\x%02X`, v)
}
