package event

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// NullMode says what the flattener does with JSON null values (Wazuh's
// json_null_field decoder option).
type NullMode uint8

// Null handling modes.
const (
	// NullAsString stores the text "null" (Wazuh's default).
	NullAsString NullMode = iota
	// NullDiscard drops null-valued fields.
	NullDiscard
)

// ArrayMode says how arrays become field text (Wazuh's json_array_structure option).
type ArrayMode uint8

// Array handling modes.
const (
	// ArrayAsJSON stores cJSON's formatted print of the array (Wazuh's default).
	ArrayAsJSON ArrayMode = iota
	// ArrayAsCSV joins scalar elements with commas.
	ArrayAsCSV
)

// FlattenOptions are the per-decoder options of the JSON flattener.
type FlattenOptions struct {
	Nulls  NullMode
	Arrays ArrayMode
	// Prefix, when set, is put in front of every key (Prefix + "." + key), and no
	// key counts as top-level. It is a skywatch extension (decoder json_prefix).
	Prefix string
}

// FieldWriter receives flattened fields in document order. key and val are only
// valid during the call; hash is KeyHash(key). topLevel is true for members of the
// outermost object, the only ones Wazuh maps to its static fields.
type FieldWriter interface {
	WriteField(key, val []byte, hash uint64, topLevel bool)
}

// maxNesting mirrors cJSON's nesting limit: deeper documents fail to parse.
const maxNesting = 1000

// maxCSV is the size at which a CSV array rendering is dropped, as in Wazuh.
const maxCSV = 65536

// maxNumberText is the length at which Wazuh truncates a %f-printed number.
const maxNumberText = 63

// ErrSyntax reports JSON that Wazuh's parser would refuse.
var ErrSyntax = errors.New("invalid JSON")

// SyntaxError locates a JSON syntax error.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

// Unwrap lets errors.Is(err, ErrSyntax) succeed.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Flattener turns a JSON document into Wazuh's dotted string fields. It keeps scratch
// buffers between calls, so reuse one per goroutine; it is not safe for concurrent use.
type Flattener struct {
	src   []byte
	pos   int
	key   []byte
	val   []byte
	arr   []byte
	opt   FlattenOptions
	w     FieldWriter
	depth int
}

// Flatten writes the fields of the JSON object js to w, validating the document as
// it goes, in one pass. Wazuh's decoder yields no fields at all for a document that
// does not parse, so when Flatten returns an error the caller must discard the
// fields already written. A document whose top-level value is not an object yields
// no fields and no error. Like cJSON, Flatten ignores anything after the value.
func (f *Flattener) Flatten(js []byte, opt FlattenOptions, w FieldWriter) error {
	f.src, f.pos, f.opt, f.w, f.depth = js, 0, opt, w, 0
	defer func() { f.src, f.w = nil, nil }()
	f.skipWS()
	if f.pos >= len(f.src) {
		return f.eof()
	}
	if f.src[f.pos] != '{' {
		return nil
	}
	f.key = f.key[:0]
	if opt.Prefix != "" {
		h := uint64(hashSeed)
		for i := 0; i < len(opt.Prefix); i++ {
			h = hashByte(h, opt.Prefix[i])
		}
		f.key = append(f.key, opt.Prefix...)
		return f.object(len(f.key), false, h)
	}
	return f.object(0, true, hashSeed)
}

func (f *Flattener) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: f.pos, Msg: fmt.Sprintf(format, args...)}
}

// skipWS skips what cJSON treats as whitespace: every byte up to and including space.
func (f *Flattener) skipWS() {
	for f.pos < len(f.src) && f.src[f.pos] <= ' ' {
		f.pos++
	}
}

// skipValue validates one value and moves past it.
func (f *Flattener) skipValue() error {
	f.skipWS()
	if f.pos >= len(f.src) {
		return f.errorf("unexpected end of input")
	}
	switch c := f.src[f.pos]; {
	case c == '{':
		return f.skipContainer('}')
	case c == '[':
		return f.skipContainer(']')
	case c == '"':
		_, err := f.scanString()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		_, n := parseNumber(f.src[f.pos:])
		if n == 0 {
			return f.errorf("bad number")
		}
		f.pos += n
		return nil
	default:
		for _, lit := range [...]string{"null", "false", "true"} {
			if hasPrefix(f.src[f.pos:], lit) {
				f.pos += len(lit)
				return nil
			}
		}
		return f.errorf("unexpected character %q", c)
	}
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

func (f *Flattener) skipContainer(end byte) error {
	f.depth++
	if f.depth > maxNesting {
		return f.errorf("nesting deeper than %d", maxNesting)
	}
	f.pos++
	f.skipWS()
	if f.pos < len(f.src) && f.src[f.pos] == end {
		f.pos++
		f.depth--
		return nil
	}
	for {
		if end == '}' {
			f.skipWS()
			if f.pos >= len(f.src) || f.src[f.pos] != '"' {
				return f.errorf("object key is not a string")
			}
			if _, err := f.scanString(); err != nil {
				return err
			}
			f.skipWS()
			if f.pos >= len(f.src) || f.src[f.pos] != ':' {
				return f.errorf("missing ':' after object key")
			}
			f.pos++
		}
		if err := f.skipValue(); err != nil {
			return err
		}
		f.skipWS()
		if f.pos >= len(f.src) {
			return f.errorf("unexpected end of input")
		}
		switch f.src[f.pos] {
		case ',':
			f.pos++
		case end:
			f.pos++
			f.depth--
			return nil
		default:
			return f.errorf("expected ',' or %q", end)
		}
	}
}

// scanString moves past a string starting at '"' and reports whether it holds escapes.
// It checks escapes the way cJSON decodes them.
func (f *Flattener) scanString() (escaped bool, err error) {
	start := f.pos
	i := f.pos + 1
	for i < len(f.src) {
		switch f.src[i] {
		case '"':
			f.pos = i + 1
			return escaped, nil
		case '\\':
			escaped = true
			if i+1 >= len(f.src) {
				f.pos = start
				return false, f.errorf("unterminated string")
			}
			switch f.src[i+1] {
			case 'b', 'f', 'n', 'r', 't', '"', '\\', '/':
				i += 2
			case 'u':
				n, ok := checkUnicodeEscape(f.src[i:])
				if !ok {
					f.pos = i
					return false, f.errorf("bad \\u escape")
				}
				i += n
			default:
				f.pos = i
				return false, f.errorf("bad escape \\%c", f.src[i+1])
			}
		default:
			i++
		}
	}
	f.pos = start
	return false, f.errorf("unterminated string")
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// checkUnicodeEscape validates a \uXXXX escape (with its low surrogate when needed)
// at the start of b and returns its length.
func checkUnicodeEscape(b []byte) (int, bool) {
	r, ok := hex4(b[2:])
	if !ok {
		return 0, false
	}
	if r >= 0xDC00 && r <= 0xDFFF {
		return 0, false
	}
	if r >= 0xD800 && r <= 0xDBFF {
		if len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
			return 0, false
		}
		lo, ok := hex4(b[8:])
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return 0, false
		}
		return 12, true
	}
	return 6, true
}

// appendString decodes the string starting at f.pos (already validated) onto dst.
func (f *Flattener) appendString(dst []byte) []byte {
	i := f.pos + 1
	for {
		c := f.src[i]
		if c == '"' {
			f.pos = i + 1
			return dst
		}
		if c != '\\' {
			j := i + 1
			for j < len(f.src) && f.src[j] != '"' && f.src[j] != '\\' {
				j++
			}
			dst = append(dst, f.src[i:j]...)
			i = j
			continue
		}
		switch e := f.src[i+1]; e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(f.src[i+2:])
			if r >= 0xD800 && r <= 0xDBFF {
				lo, _ := hex4(f.src[i+8:])
				r = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default:
			dst = append(dst, e)
		}
		i += 2
	}
}

// parseNumber parses the number at the start of b as cJSON does (a strtod over the
// bytes cJSON collects) and returns its value and length; length 0 means no number.
func parseNumber(b []byte) (float64, int) {
	i := 0
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		i++
	}
	digits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
		digits++
	}
	if i < len(b) && b[i] == '.' {
		j := i + 1
		frac := 0
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
			frac++
		}
		if digits > 0 || frac > 0 {
			i = j
			digits += frac
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		j := i + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		for k < len(b) && b[k] >= '0' && b[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	v, err := strconv.ParseFloat(string(b[:i]), 64)
	if err != nil {
		// Out-of-range values saturate to ±Inf or 0 like strtod; ParseFloat
		// already returns them with the error.
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange {
			return 0, 0
		}
	}
	return v, i
}

// appendNumberText appends Wazuh's field text for a number: %d when it is an integer
// within int32, otherwise C's %f cut at 63 characters.
func appendNumberText(dst []byte, v float64) []byte {
	if v >= math.MinInt32 && v <= math.MaxInt32 && v == math.Trunc(v) {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	start := len(dst)
	switch {
	case math.IsInf(v, 1):
		dst = append(dst, "inf"...)
	case math.IsInf(v, -1):
		dst = append(dst, "-inf"...)
	case math.IsNaN(v):
		dst = append(dst, "nan"...)
	default:
		dst = strconv.AppendFloat(dst, v, 'f', 6, 64)
	}
	if len(dst)-start > maxNumberText {
		dst = dst[:start+maxNumberText]
	}
	return dst
}

var (
	litNull  = []byte("null")
	litTrue  = []byte("true")
	litFalse = []byte("false")
)
