package awsevent

import (
	"math"
	"strconv"
	"unicode"
)

// This file renders parsed values the way Python's str() prints the objects
// json.loads built: the module stores str(value) for CloudTrail fields that are
// not objects. Inside str() every value is shown as parsed (no null removal,
// no list unwrapping), because the module's reshaping never enters lists.

// appendRepr appends Python's repr() of node id.
func (e *Encoder) appendRepr(dst []byte, id int32) []byte {
	nd := &e.p.nodes[id]
	switch nd.kind {
	case kNull:
		return append(dst, "None"...)
	case kTrue:
		return append(dst, "True"...)
	case kFalse:
		return append(dst, "False"...)
	case kNum:
		lit := e.p.src[nd.off:nd.end]
		if nd.flags&fFloat == 0 {
			return appendInt(dst, lit)
		}
		f, _ := strconv.ParseFloat(string(lit), 64)
		switch {
		case math.IsInf(f, 1):
			return append(dst, "inf"...)
		case math.IsInf(f, -1):
			return append(dst, "-inf"...)
		}
		return AppendFloatRepr(dst, f)
	case kStr:
		return appendStrRepr(dst, e.p.src[nd.off:nd.end])
	case kArr:
		dst = append(dst, '[')
		for c := nd.first; c >= 0; c = e.p.nodes[c].next {
			if c != nd.first {
				dst = append(dst, ',', ' ')
			}
			dst = e.appendRepr(dst, c)
		}
		return append(dst, ']')
	}
	dst = append(dst, '{')
	for c := nd.first; c >= 0; c = e.p.nodes[c].next {
		if c != nd.first {
			dst = append(dst, ',', ' ')
		}
		m := &e.p.nodes[c]
		dst = appendStrRepr(dst, e.p.src[m.koff:m.kend])
		dst = append(dst, ':', ' ')
		dst = e.appendRepr(dst, c)
	}
	return append(dst, '}')
}

// appendStrRepr appends Python's repr() of the string whose raw JSON content is
// raw: single quotes unless the text has a single quote and no double quote,
// backslash escapes for the quote, backslash, \t \n \r, \xNN for other control
// characters and non-printable Latin-1, \uNNNN / \UNNNNNNNN above that;
// printable non-ASCII characters stay as they are.
func appendStrRepr(dst, raw []byte) []byte {
	single, double := false, false
	for i := 0; i < len(raw); {
		var r rune
		r, i = nextRune(raw, i)
		single = single || r == '\''
		double = double || r == '"'
	}
	quote := rune('\'')
	if single && !double {
		quote = '"'
	}
	dst = append(dst, byte(quote))
	for i := 0; i < len(raw); {
		var r rune
		r, i = nextRune(raw, i)
		switch {
		case r == quote || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r < 0x20 || r == 0x7f:
			dst = append(dst, '\\', 'x', hexDigits[r>>4], hexDigits[r&15])
		case r < 0x7f:
			dst = append(dst, byte(r))
		case isPrintable(r):
			dst = appendWTF8(dst, r)
		case r <= 0xff:
			dst = append(dst, '\\', 'x', hexDigits[r>>4], hexDigits[r&15])
		case r <= 0xffff:
			dst = append(dst, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
		default:
			dst = append(dst, '\\', 'U')
			for shift := 28; shift >= 0; shift -= 4 {
				dst = append(dst, hexDigits[r>>shift&15])
			}
		}
	}
	return append(dst, byte(quote))
}

// isPrintable follows Python's str.isprintable for one non-ASCII code point:
// everything except the Other (Cc, Cf, Cs, Co, Cn) and Separator (Zl, Zp, Zs)
// categories, which is exactly Go's unicode.IsPrint above ASCII. Surrogates are
// not printable.
func isPrintable(r rune) bool {
	if r >= 0xD800 && r < 0xE000 {
		return false
	}
	return unicode.IsPrint(r)
}
