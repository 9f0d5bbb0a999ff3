package event

import (
	"strconv"
)

// object walks a validated object at f.pos, writing its members' fields. prefixLen is
// the length of the dotted key prefix in f.key for this object's members; top is true
// only for the outermost object.
func (f *Flattener) object(prefixLen int, top bool) {
	f.pos++ // '{'
	for {
		f.skipWS()
		if f.src[f.pos] == '}' {
			f.pos++
			return
		}
		f.key = f.key[:prefixLen]
		if !top {
			f.key = append(f.key, '.')
		}
		f.key = f.appendString(f.key)
		f.skipWS()
		f.pos++ // ':'
		f.skipWS()
		f.member(top)
		f.skipWS()
		if f.src[f.pos] == ',' {
			f.pos++
		}
	}
}

// member writes the field(s) of the value at f.pos under the key in f.key.
func (f *Flattener) member(top bool) {
	switch c := f.src[f.pos]; {
	case c == '{':
		f.object(len(f.key), false)
	case c == '[':
		f.arrayField(top)
	case c == '"':
		f.val = f.appendString(f.val[:0])
		f.w.WriteField(f.key, f.val, top)
	case c == 'n':
		f.pos += 4
		if f.opt.Nulls != NullDiscard {
			f.w.WriteField(f.key, litNull, top)
		}
	case c == 't':
		f.pos += 4
		f.w.WriteField(f.key, litTrue, top)
	case c == 'f':
		f.pos += 5
		f.w.WriteField(f.key, litFalse, top)
	default:
		v, n := parseNumber(f.src[f.pos:])
		f.pos += n
		f.val = appendNumberText(f.val[:0], v)
		f.w.WriteField(f.key, f.val, top)
	}
}

var (
	litNull  = []byte("null")
	litTrue  = []byte("true")
	litFalse = []byte("false")
)

func (f *Flattener) arrayField(top bool) {
	if f.opt.Arrays == ArrayAsCSV {
		f.arr = f.csvArray(f.arr[:0])
		if len(f.arr) == 0 || len(f.arr) >= maxCSV {
			return
		}
	} else {
		f.arr = f.printValue(f.arr[:0], 0)
	}
	f.w.WriteField(f.key, f.arr, top)
}

// csvArray renders the array at f.pos the way json_array_structure=csv does.
func (f *Flattener) csvArray(dst []byte) []byte {
	f.pos++ // '['
	first := true
	for {
		f.skipWS()
		if f.src[f.pos] == ']' {
			f.pos++
			return dst
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		switch c := f.src[f.pos]; {
		case c == '{' || c == '[':
			// Nested containers are skipped, but the comma before them stays.
			_ = f.skipValue()
		case c == '"':
			dst = f.appendString(dst)
		case c == 'n':
			f.pos += 4
			dst = append(dst, litNull...)
		case c == 't':
			f.pos += 4
			dst = append(dst, litTrue...)
		case c == 'f':
			f.pos += 5
			dst = append(dst, litFalse...)
		default:
			v, n := parseNumber(f.src[f.pos:])
			f.pos += n
			dst = appendNumberText(dst, v)
		}
		f.skipWS()
		if f.src[f.pos] == ',' {
			f.pos++
		}
	}
}

// printValue appends cJSON's formatted print of the value at f.pos. depth is cJSON's
// print depth (the number of enclosing containers).
func (f *Flattener) printValue(dst []byte, depth int) []byte {
	switch c := f.src[f.pos]; {
	case c == '{':
		return f.printObject(dst, depth)
	case c == '[':
		return f.printArray(dst, depth)
	case c == '"':
		start := len(f.val)
		f.val = f.appendString(f.val)
		dst = appendCJSONString(dst, f.val[start:])
		f.val = f.val[:start]
		return dst
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
		v, n := parseNumber(f.src[f.pos:])
		f.pos += n
		return appendCJSONNumber(dst, v)
	}
}

func (f *Flattener) printArray(dst []byte, depth int) []byte {
	f.pos++
	dst = append(dst, '[')
	first := true
	for {
		f.skipWS()
		if f.src[f.pos] == ']' {
			f.pos++
			return append(dst, ']')
		}
		if !first {
			dst = append(dst, ',', ' ')
		}
		first = false
		dst = f.printValue(dst, depth+1)
		f.skipWS()
		if f.src[f.pos] == ',' {
			f.pos++
		}
	}
}

func appendTabs(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, '\t')
	}
	return dst
}

func (f *Flattener) printObject(dst []byte, depth int) []byte {
	f.pos++
	dst = append(dst, '{', '\n')
	first := true
	for {
		f.skipWS()
		if f.src[f.pos] == '}' {
			f.pos++
			if !first {
				dst = append(dst, '\n')
			}
			dst = appendTabs(dst, depth)
			return append(dst, '}')
		}
		if !first {
			dst = append(dst, ',', '\n')
		}
		first = false
		dst = appendTabs(dst, depth+1)
		start := len(f.val)
		f.val = f.appendString(f.val)
		dst = appendCJSONString(dst, f.val[start:])
		f.val = f.val[:start]
		f.skipWS()
		f.pos++ // ':'
		f.skipWS()
		dst = append(dst, ':', '\t')
		dst = f.printValue(dst, depth+1)
		f.skipWS()
		if f.src[f.pos] == ',' {
			f.pos++
		}
	}
}

const hexDigits = "0123456789abcdef"

// appendCJSONString appends s quoted and escaped as cJSON prints strings: the usual
// short escapes, \u00xx for other control bytes, everything else raw.
func appendCJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

// appendCJSONNumber prints a number as cJSON 1.7.15 does: %1.15g, or %1.17g when the
// shorter text does not read back as (nearly) the same double; NaN and infinities as
// null.
func appendCJSONNumber(dst []byte, v float64) []byte {
	if v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308 {
		return append(dst, litNull...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, v, 'g', 15, 64)
	back, err := strconv.ParseFloat(string(dst[start:]), 64)
	if err == nil && nearlyEqual(back, v) {
		return dst
	}
	return strconv.AppendFloat(dst[:start], v, 'g', 17, 64)
}

// nearlyEqual is cJSON's compare_double: equal within DBL_EPSILON relative to the
// larger magnitude.
func nearlyEqual(a, b float64) bool {
	maxV := max(abs(a), abs(b))
	return abs(a-b) <= maxV*2.220446049250313e-16
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
