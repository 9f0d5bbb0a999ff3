package awsevent

import (
	"bytes"
	"math"
	"strconv"
)

// This file is the fast path: it converts a typical record in one pass,
// writing the event while it validates the input, without building the tree.
// It gives up (ok == false) on anything unusual — duplicate or escaped keys, a
// log_info or source_ip_address member, arrays where the module reshapes by
// type, any invalid input — and the caller then runs the tree path, which
// handles every case and reports errors. Both paths must agree byte for byte;
// FuzzAppendCloudTrail checks that.

// span is a key's raw content in the record.
type span struct{ off, end int }

// streamer holds the fast path's scratch state.
type streamer struct {
	src  []byte
	keys []span // keys of the objects being written, for duplicate checks
}

func (s *streamer) ws(i int) int {
	for i < len(s.src) && isSpace(s.src[i]) {
		i++
	}
	return i
}

// key scans the member key at src[i], checks it against the keys already seen
// in the current object (from index base of s.keys, filtered by *seen), and
// returns the key and the index of the member's value.
func (s *streamer) key(i, base int, seen *uint64) (k span, plain bool, next int, ok bool) {
	if i >= len(s.src) || s.src[i] != '"' {
		return k, false, i, false
	}
	// Keys are short: a byte loop beats the word-at-a-time string scan.
	end := i + 1
	for end < len(s.src) && plainByte(s.src[end]) {
		end++
	}
	plain = true
	if end < len(s.src) && s.src[end] == '"' {
		end++
	} else {
		var err error
		if end, plain, err = scanString(s.src, i); err != nil {
			return k, false, i, false
		}
	}
	k = span{i + 1, end - 1}
	raw := s.src[k.off:k.end]
	if !plain && hasBackslash(raw) {
		return k, false, i, false // escaped keys need decoding to compare
	}
	bit := uint64(1) << (keyHash(raw) >> 58)
	if *seen&bit != 0 {
		for _, o := range s.keys[base:] {
			if bytes.Equal(s.src[o.off:o.end], raw) {
				return k, false, i, false // duplicate key
			}
		}
	}
	*seen |= bit
	s.keys = append(s.keys, k)
	j := s.ws(end)
	if j >= len(s.src) || s.src[j] != ':' {
		return k, false, j, false
	}
	return k, plain, s.ws(j + 1), true
}

// appendRawKey writes a key (without backslashes) and ": ".
func (s *streamer) appendRawKey(dst []byte, k span, plain bool) []byte {
	dst = appendJSONString(dst, s.src[k.off:k.end], plain)
	return append(dst, ':', ' ')
}

// value writes the value at src[i]; dict selects the dict context for objects.
func (s *streamer) value(dst []byte, i int, dict bool, depth int) ([]byte, int, bool) {
	if i >= len(s.src) {
		return dst, i, false
	}
	switch s.src[i] {
	case '{':
		return s.object(dst, i, dict, depth+1)
	case '[':
		dst, i, _, ok := s.array(dst, i, depth+1)
		return dst, i, ok
	}
	return s.scalar(dst, i)
}

// scalar writes the string, number or literal at src[i].
func (s *streamer) scalar(dst []byte, i int) ([]byte, int, bool) {
	switch c := s.src[i]; {
	case c == '"':
		end, plain, err := scanString(s.src, i)
		if err != nil {
			return dst, i, false
		}
		return appendJSONString(dst, s.src[i+1:end-1], plain), end, true
	case c == '-' || isDigit(c):
		end, float, err := scanNumber(s.src, i)
		if err != nil {
			return dst, i, false
		}
		if !float {
			return appendInt(dst, s.src[i:end]), end, true
		}
		out, err := appendNumber(dst, s.src[i:end], true)
		return out, end, err == nil
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(s.src[i:], []byte(lit)) {
			return append(dst, lit...), i + len(lit), true
		}
	}
	return dst, i, false
}

// array writes the array at src[i] in raw context and returns its length.
func (s *streamer) array(dst []byte, i, depth int) ([]byte, int, int, bool) {
	if depth > maxDepth {
		return dst, i, 0, false
	}
	dst = append(dst, '[')
	i = s.ws(i + 1)
	if i < len(s.src) && s.src[i] == ']' {
		return append(dst, ']'), i + 1, 0, true
	}
	n := 0
	for {
		if n > 0 {
			dst = append(dst, ',', ' ')
		}
		var ok bool
		if dst, i, ok = s.value(dst, i, false, depth); !ok {
			return dst, i, 0, false
		}
		n++
		if i = s.ws(i); i >= len(s.src) {
			return dst, i, 0, false
		}
		switch s.src[i] {
		case ',':
			i = s.ws(i + 1)
		case ']':
			return append(dst, ']'), i + 1, n, true
		default:
			return dst, i, 0, false
		}
	}
}

// object writes the object at src[i]. In dict context null members are
// skipped and one-element array members are replaced by their element.
func (s *streamer) object(dst []byte, i int, dict bool, depth int) ([]byte, int, bool) {
	if depth > maxDepth {
		return dst, i, false
	}
	dst = append(dst, '{')
	i = s.ws(i + 1)
	if i < len(s.src) && s.src[i] == '}' {
		return append(dst, '}'), i + 1, true
	}
	base, seen, first := len(s.keys), uint64(0), true
	for {
		k, plain, j, ok := s.key(i, base, &seen)
		if !ok {
			return dst, j, false
		}
		if dict && j < len(s.src) && s.src[j] == 'n' {
			if !bytes.HasPrefix(s.src[j:], []byte("null")) {
				return dst, j, false
			}
			i = j + 4
		} else {
			if !first {
				dst = append(dst, ',', ' ')
			}
			first = false
			dst = s.appendRawKey(dst, k, plain)
			if dst, i, ok = s.member(dst, j, dict, depth); !ok {
				return dst, i, false
			}
		}
		if i = s.ws(i); i >= len(s.src) {
			return dst, i, false
		}
		switch s.src[i] {
		case ',':
			i = s.ws(i + 1)
		case '}':
			s.keys = s.keys[:base]
			return append(dst, '}'), i + 1, true
		default:
			return dst, i, false
		}
	}
}

// member writes a member value; in dict context a one-element array is
// written as its element (in raw context).
func (s *streamer) member(dst []byte, i int, dict bool, depth int) ([]byte, int, bool) {
	if !dict || i >= len(s.src) || s.src[i] != '[' {
		return s.value(dst, i, dict, depth)
	}
	start := len(dst)
	dst, i, n, ok := s.array(dst, i, depth+1)
	if ok && n == 1 {
		// Drop the brackets around the single element's text.
		copy(dst[start:], dst[start+1:len(dst)-1])
		dst = dst[:len(dst)-2]
	}
	return dst, i, ok
}

// appendScalarStr writes {"string": str(v)} for the scalar at src[i], the
// module's treatment of a non-object requestParameters, responseElements or
// additionalEventData.
func (s *streamer) appendScalarStr(dst []byte, i int) ([]byte, int, bool) {
	dst = append(dst, `{"string": `...)
	switch c := s.src[i]; {
	case c == '"':
		var ok bool
		if dst, i, ok = s.scalar(dst, i); !ok {
			return dst, i, false
		}
	case c == '-' || isDigit(c):
		end, float, err := scanNumber(s.src, i)
		if err != nil {
			return dst, i, false
		}
		dst = append(dst, '"')
		if !float {
			dst = appendInt(dst, s.src[i:end])
		} else {
			f, _ := strconv.ParseFloat(string(s.src[i:end]), 64)
			switch {
			case math.IsInf(f, 1):
				dst = append(dst, "inf"...)
			case math.IsInf(f, -1):
				dst = append(dst, "-inf"...)
			default:
				dst = AppendFloatRepr(dst, f)
			}
		}
		dst, i = append(dst, '"'), end
	case bytes.HasPrefix(s.src[i:], []byte("true")):
		dst, i = append(dst, `"True"`...), i+4
	case bytes.HasPrefix(s.src[i:], []byte("false")):
		dst, i = append(dst, `"False"`...), i+5
	default:
		return dst, i, false
	}
	return append(dst, '}'), i, true
}
