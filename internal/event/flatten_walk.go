package event

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
)

// KeyHash hashes a field name the way the flattener hashes keys: FNV-1a over the
// name with ASCII letters lower-cased, so that tables of names rules use can be
// probed without building lower-cased copies of every key.
func KeyHash(name string) uint64 {
	h := uint64(hashSeed)
	for i := 0; i < len(name); i++ {
		h = hashByte(h, name[i])
	}
	return h
}

const (
	hashSeed  = 14695981039346656037
	hashPrime = 1099511628211
)

func hashByte(h uint64, c byte) uint64 {
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	return (h ^ uint64(c)) * hashPrime
}

func (f *Flattener) eof() error { return f.errorf("unexpected end of input") }

// stringToken reads the string at f.pos (which is '"'). It returns its bytes: a slice
// of the source when the string has no escapes, otherwise the decoded text appended
// to *scratch.
func (f *Flattener) stringToken(scratch *[]byte) ([]byte, error) {
	start := f.pos + 1
	rest := f.src[start:]
	q := quoteOrBackslash(rest)
	if q < 0 {
		return nil, f.errorf("unterminated string")
	}
	if rest[q] == '"' {
		f.pos = start + q + 1
		return rest[:q], nil
	}
	if _, err := f.scanString(); err != nil {
		return nil, err
	}
	end := f.pos
	f.pos = start - 1
	mark := len(*scratch)
	*scratch = f.appendString(*scratch)
	f.pos = end
	return (*scratch)[mark:], nil
}

const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
	swarQuote = '"' * swarOnes
	swarBack  = '\\' * swarOnes
)

// quoteOrBackslash returns the index of the first '"' or '\\' in b, or -1. Strings
// in cloud events are short, so eight bytes at a time beats two IndexByte calls.
func quoteOrBackslash(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		x, y := w^swarQuote, w^swarBack
		// A zero byte in x or y marks a match (the classic has-zero-byte test).
		m := ((x-swarOnes)&^x | (y-swarOnes)&^y) & swarHighs
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '"' || b[i] == '\\' {
			return i
		}
	}
	return -1
}

// literal checks a null/true/false literal at f.pos.
func (f *Flattener) literal() ([]byte, error) {
	for _, lit := range [...][]byte{litNull, litTrue, litFalse} {
		if bytes.HasPrefix(f.src[f.pos:], lit) {
			f.pos += len(lit)
			return lit, nil
		}
	}
	return nil, f.errorf("unexpected character %q", f.src[f.pos])
}

// object walks the object at f.pos, writing its members' fields and validating as it
// goes. prefixLen is the length of this object's key prefix in f.key and h its hash.
func (f *Flattener) object(prefixLen int, top bool, h uint64) error {
	f.depth++
	if f.depth > maxNesting {
		return f.errorf("nesting deeper than %d", maxNesting)
	}
	f.pos++ // '{'
	f.skipWS()
	if f.pos < len(f.src) && f.src[f.pos] == '}' {
		f.pos++
		f.depth--
		return nil
	}
	for {
		f.skipWS()
		if f.pos >= len(f.src) {
			return f.eof()
		}
		if f.src[f.pos] != '"' {
			return f.errorf("object key is not a string")
		}
		f.key = f.key[:prefixLen]
		kh := h
		if !top {
			f.key = append(f.key, '.')
			kh = hashByte(kh, '.')
		}
		f.val = f.val[:0]
		name, err := f.stringToken(&f.val)
		if err != nil {
			return err
		}
		f.key = append(f.key, name...)
		for _, c := range name {
			kh = hashByte(kh, c)
		}
		f.skipWS()
		if f.pos >= len(f.src) || f.src[f.pos] != ':' {
			return f.errorf("missing ':' after object key")
		}
		f.pos++
		f.skipWS()
		if f.pos >= len(f.src) {
			return f.eof()
		}
		if err := f.member(top, kh); err != nil {
			return err
		}
		f.skipWS()
		if f.pos >= len(f.src) {
			return f.eof()
		}
		switch f.src[f.pos] {
		case ',':
			f.pos++
		case '}':
			f.pos++
			f.depth--
			return nil
		default:
			return f.errorf("expected ',' or '}'")
		}
	}
}

// member writes the field(s) of the value at f.pos under the key in f.key.
func (f *Flattener) member(top bool, h uint64) error {
	switch c := f.src[f.pos]; {
	case c == '{':
		return f.object(len(f.key), false, h)
	case c == '[':
		return f.arrayField(top, h)
	case c == '"':
		f.val = f.val[:0]
		v, err := f.stringToken(&f.val)
		if err != nil {
			return err
		}
		f.w.WriteField(f.key, v, h, top)
	case c == 'n' || c == 't' || c == 'f':
		v, err := f.literal()
		if err != nil {
			return err
		}
		if c != 'n' || f.opt.Nulls != NullDiscard {
			f.w.WriteField(f.key, v, h, top)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := f.numberText(f.val[:0])
		if err != nil {
			return err
		}
		f.val = v
		f.w.WriteField(f.key, v, h, top)
	default:
		return f.errorf("unexpected character %q", c)
	}
	return nil
}

// numberText reads the number at f.pos and appends its Wazuh field text. Small
// integers written plainly are copied as they are, without converting.
func (f *Flattener) numberText(dst []byte) ([]byte, error) {
	b := f.src[f.pos:]
	i := 0
	if b[0] == '-' {
		i = 1
	}
	j := i
	for j < len(b) && j-i < 10 && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	digits := j - i
	plain := digits > 0 && digits <= 9 && (j == len(b) || !isNumberByte(b[j])) &&
		(b[i] != '0' || digits == 1) && !(i == 1 && digits == 1 && b[1] == '0')
	if plain {
		f.pos += j
		return append(dst, b[:j]...), nil
	}
	v, n := parseNumber(b)
	if n == 0 {
		return dst, f.errorf("bad number")
	}
	f.pos += n
	return appendNumberText(dst, v), nil
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func (f *Flattener) arrayField(top bool, h uint64) error {
	var err error
	if f.opt.Arrays == ArrayAsCSV {
		f.arr, err = f.csvArray(f.arr[:0])
		if err != nil {
			return err
		}
		if len(f.arr) == 0 || len(f.arr) >= maxCSV {
			return nil
		}
	} else if f.arr, err = f.printValue(f.arr[:0], 0); err != nil {
		return err
	}
	f.w.WriteField(f.key, f.arr, h, top)
	return nil
}

// csvArray renders the array at f.pos the way json_array_structure=csv does: each
// scalar followed by a comma, nested containers skipped, and the trailing comma
// removed only when the last element was a scalar ([1,{"o":1}] gives "1,").
func (f *Flattener) csvArray(dst []byte) ([]byte, error) {
	f.pos++ // '['
	lastScalar := false
	for first := true; ; first = false {
		f.skipWS()
		if f.pos >= len(f.src) {
			return dst, f.eof()
		}
		if first && f.src[f.pos] == ']' {
			f.pos++
			return dst, nil
		}
		var err error
		lastScalar = true
		switch c := f.src[f.pos]; {
		case c == '{' || c == '[':
			err = f.skipValue()
			lastScalar = false
		case c == '"':
			var v []byte
			mark := len(f.val)
			v, err = f.stringToken(&f.val)
			dst = append(dst, v...)
			f.val = f.val[:mark]
		case c == 'n' || c == 't' || c == 'f':
			var v []byte
			v, err = f.literal()
			dst = append(dst, v...)
		case c == '-' || (c >= '0' && c <= '9'):
			dst, err = f.numberText(dst)
		default:
			err = f.errorf("unexpected character %q", c)
		}
		if err != nil {
			return dst, err
		}
		if lastScalar {
			dst = append(dst, ',')
		}
		if dst, err = f.endOfElement(dst, ']'); err != nil {
			return dst, err
		}
		if f.src[f.pos-1] == ']' {
			if lastScalar {
				dst = dst[:len(dst)-1]
			}
			return dst, nil
		}
	}
}

// endOfElement consumes the ',' or the closing bracket after a container element.
func (f *Flattener) endOfElement(dst []byte, end byte) ([]byte, error) {
	f.skipWS()
	if f.pos >= len(f.src) {
		return dst, f.eof()
	}
	switch f.src[f.pos] {
	case ',':
		f.pos++
		return dst, nil
	case end:
		f.pos++
		return dst, nil
	}
	return dst, f.errorf("expected ',' or %q", end)
}

// printValue appends cJSON's formatted print of the value at f.pos. depth is cJSON's
// print depth (the number of enclosing containers).
func (f *Flattener) printValue(dst []byte, depth int) ([]byte, error) {
	if f.pos >= len(f.src) {
		return dst, f.eof()
	}
	switch c := f.src[f.pos]; {
	case c == '{':
		return f.printContainer(dst, depth, '}')
	case c == '[':
		return f.printContainer(dst, depth, ']')
	case c == '"':
		mark := len(f.val)
		v, err := f.stringToken(&f.val)
		if err != nil {
			return dst, err
		}
		dst = appendCJSONString(dst, v)
		f.val = f.val[:mark]
		return dst, nil
	case c == 'n' || c == 't' || c == 'f':
		v, err := f.literal()
		return append(dst, v...), err
	case c == '-' || (c >= '0' && c <= '9'):
		v, n := parseNumber(f.src[f.pos:])
		if n == 0 {
			return dst, f.errorf("bad number")
		}
		f.pos += n
		return appendCJSONNumber(dst, v), nil
	default:
		return dst, f.errorf("unexpected character %q", c)
	}
}

func appendTabs(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, '\t')
	}
	return dst
}

// printContainer prints an array ("[a, b]") or an object (one tab-indented member per
// line) as cJSON's formatted printer does.
func (f *Flattener) printContainer(dst []byte, depth int, end byte) ([]byte, error) {
	f.depth++
	if f.depth > maxNesting {
		return dst, f.errorf("nesting deeper than %d", maxNesting)
	}
	obj := end == '}'
	f.pos++
	dst = append(dst, f.src[f.pos-1])
	if obj {
		dst = append(dst, '\n')
	}
	first := true
	for {
		f.skipWS()
		if f.pos >= len(f.src) {
			return dst, f.eof()
		}
		if first && f.src[f.pos] == end {
			f.pos++
			break
		}
		if !first {
			if obj {
				dst = append(dst, ',', '\n')
			} else {
				dst = append(dst, ',', ' ')
			}
		}
		first = false
		var err error
		if obj {
			if dst, err = f.printMemberKey(dst, depth); err != nil {
				return dst, err
			}
		}
		if dst, err = f.printValue(dst, depth+1); err != nil {
			return dst, err
		}
		if dst, err = f.endOfElement(dst, end); err != nil {
			return dst, err
		}
		if f.src[f.pos-1] == end {
			if obj {
				dst = append(dst, '\n')
			}
			break
		}
	}
	f.depth--
	if obj {
		dst = appendTabs(dst, depth)
	}
	return append(dst, end), nil
}

// printMemberKey prints an object member's indented key and the ":\t" after it.
func (f *Flattener) printMemberKey(dst []byte, depth int) ([]byte, error) {
	if f.src[f.pos] != '"' {
		return dst, f.errorf("object key is not a string")
	}
	dst = appendTabs(dst, depth+1)
	mark := len(f.val)
	k, err := f.stringToken(&f.val)
	if err != nil {
		return dst, err
	}
	dst = appendCJSONString(dst, k)
	f.val = f.val[:mark]
	f.skipWS()
	if f.pos >= len(f.src) || f.src[f.pos] != ':' {
		return dst, f.errorf("missing ':' after object key")
	}
	f.pos++
	f.skipWS()
	return append(dst, ':', '\t'), nil
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
