package jsonstream

import "bytes"

// scanKind is the outcome of one splitting step over the buffered bytes.
type scanKind int

const (
	scanMore    scanKind = iota // the buffered bytes end inside the value
	scanDone                    // the value ends at scanner.i
	scanLineEnd                 // line mode: a newline at scanner.i cut the value short
)

// scanner finds where a JSON value ends without validating it: it only tracks
// strings (so brackets inside them are ignored) and bracket depth. Its state
// survives buffer refills, which keeps splitting linear even for records much
// larger than one read.
type scanner struct {
	i     int  // bytes of the value consumed so far
	depth int  // open brackets
	inStr bool // inside a string
	// scalar marks a bare number or literal, which ends at the first delimiter.
	scalar bool
	// lineMode stops the value at a raw newline (JSON Lines); tentative means the
	// newline instead switches line mode off (Auto deciding on its first value).
	lineMode, tentative bool
}

// reset prepares the scanner for a value whose first byte is first.
func (s *scanner) reset(first byte, lineMode, tentative bool) {
	*s = scanner{lineMode: lineMode, tentative: tentative}
	s.scalar = first != '{' && first != '[' && first != '"'
}

// isDelim reports bytes that end a bare scalar.
func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '{', '}', '[', ']', ',', ':', '"':
		return true
	}
	return false
}

// newline handles a raw newline inside a value at index i. It reports whether
// the value is cut there.
func (s *scanner) newline() bool {
	if !s.lineMode {
		return false
	}
	if s.tentative {
		// The first value spans lines, so the input is not line oriented.
		s.lineMode, s.tentative = false, false
		return false
	}
	return true
}

// step advances over v, the buffered bytes of the value (v[0] is its first byte).
func (s *scanner) step(v []byte) scanKind {
	if s.scalar {
		for s.i < len(v) {
			if isDelim(v[s.i]) {
				return scanDone
			}
			s.i++
		}
		return scanMore
	}
	for s.i < len(v) {
		if s.inStr {
			if k, done := s.stepString(v); done {
				return k
			}
			continue
		}
		switch v[s.i] {
		case '"':
			// At depth 0 this is a top-level string value, which stepString ends.
			s.inStr = true
			s.i++
		case '{', '[':
			s.depth++
			s.i++
		case '}', ']':
			s.depth--
			s.i++
			if s.depth <= 0 {
				return scanDone
			}
		case '\n':
			if s.newline() {
				return scanLineEnd
			}
			s.i++
		default:
			s.i++
		}
	}
	return scanMore
}

// stepString moves s.i past the closing quote of the current string if it is
// buffered. It reports done with the kind when the value ended or was cut.
func (s *scanner) stepString(v []byte) (scanKind, bool) {
	for {
		rest := v[s.i:]
		q := bytes.IndexByte(rest, '"')
		if s.lineMode {
			seg := rest
			if q >= 0 {
				seg = rest[:q]
			}
			if nl := bytes.IndexByte(seg, '\n'); nl >= 0 {
				if s.newline() {
					s.i += nl
					return scanLineEnd, true
				}
			}
		}
		if q < 0 {
			s.i = len(v)
			return scanMore, true
		}
		s.i += q
		// A quote preceded by an odd run of backslashes is escaped. The run lies
		// inside this string, whose bytes are all still buffered.
		k := 0
		for j := s.i - 1; j >= 0 && v[j] == '\\'; j-- {
			k++
		}
		s.i++
		if k&1 == 0 {
			s.inStr = false
			if s.depth == 0 {
				return scanDone, true
			}
			return scanMore, false
		}
	}
}

// escaped reports whether the byte after v (all bytes scanned so far) would be
// escaped, i.e. v ends inside a string with an odd run of backslashes.
func escaped(v []byte) bool {
	k := 0
	for j := len(v) - 1; j >= 0 && v[j] == '\\'; j-- {
		k++
	}
	return k&1 == 1
}
