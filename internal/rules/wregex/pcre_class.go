package wregex

import "strings"

// class parses a PCRE2 bracket expression starting at i, computes the set
// of bytes it stands for and emits that set over the mapped alphabet. It
// returns the number of pattern bytes used.
func (w *pcreRewriter) class(i int) (int, error) {
	if w.utf {
		return w.utfClass(i)
	}
	s := w.src
	j := i + 1
	neg := false
	if j < len(s) && s[j] == '^' {
		neg = true
		j++
	}
	var set byteSet
	first := true
	verbatim := false // the class uses \p{...}; copy it unchanged
	for {
		if j >= len(s) {
			return 0, w.errorf(i, "missing terminating ] for character class")
		}
		c := s[j]
		if c == ']' && !first {
			j++
			break
		}
		first = false
		if c == '[' && j+1 < len(s) && (s[j+1] == ':' || s[j+1] == '.' || s[j+1] == '=') {
			if end := strings.Index(s[j+2:], string(s[j+1])+"]"); end >= 0 {
				if s[j+1] != ':' {
					return 0, w.errorf(j, "POSIX collating elements are not supported")
				}
				name := s[j+2 : j+2+end]
				pneg := strings.HasPrefix(name, "^")
				ps, ok := posixSet(strings.TrimPrefix(name, "^"))
				if !ok {
					return 0, w.errorf(j, "unknown POSIX class name %q", name)
				}
				if pneg {
					ps = complement(ps)
				}
				set = union(set, ps)
				j += 2 + end + 2
				continue
			}
		}
		if strings.HasPrefix(s[j:], `\Q`) {
			end := strings.Index(s[j+2:], `\E`)
			stop, next := len(s), len(s)
			if end >= 0 {
				stop, next = j+2+end, j+2+end+2
			}
			for k := j + 2; k < stop; k++ {
				set.add(s[k])
			}
			j = next
			continue
		}
		if strings.HasPrefix(s[j:], `\E`) {
			j += 2
			continue
		}
		a, err := w.classAtom(j)
		if err != nil {
			return 0, err
		}
		j += a.n
		if a.verbatim {
			verbatim = true
			continue
		}
		rangeFollows := j+1 < len(s) && s[j] == '-' && s[j+1] != ']'
		if a.isSet {
			if rangeFollows {
				return 0, w.errorf(j, "invalid range in character class")
			}
			set = union(set, a.set)
			continue
		}
		if !rangeFollows {
			set.add(byte(a.val))
			continue
		}
		b, err := w.classAtom(j + 1)
		if err != nil {
			return 0, err
		}
		if b.isSet || b.verbatim {
			return 0, w.errorf(j, "invalid range in character class")
		}
		if b.val < a.val {
			return 0, w.errorf(j, "range out of order in character class")
		}
		for v := a.val; v <= b.val; v++ {
			set.add(byte(v))
		}
		j += 1 + b.n
	}
	if verbatim {
		for _, c := range []byte(s[i:j]) {
			w.out.WriteRune(mapRune(c))
		}
		return j - i, nil
	}
	w.writeSet(set, neg)
	return j - i, nil
}

// utfClass copies a bracket expression in UTF mode, where classes are sets of
// code points that a byte set cannot hold. Only the escapes whose meaning
// differs in Go are rewritten (\s gains VT); the rest is copied.
func (w *pcreRewriter) utfClass(i int) (int, error) {
	s := w.src
	var b strings.Builder
	b.WriteByte('[')
	j := i + 1
	if j < len(s) && s[j] == '^' {
		b.WriteByte('^')
		j++
	}
	if j < len(s) && s[j] == ']' {
		b.WriteString(`\]`)
		j++
	}
	for ; j < len(s) && s[j] != ']'; j++ {
		if s[j] != '\\' || j+1 >= len(s) {
			b.WriteByte(s[j])
			continue
		}
		j++
		if s[j] == 's' {
			b.WriteString(`\t\n\x0B\f\r\x20`)
		} else {
			b.WriteByte('\\')
			b.WriteByte(s[j])
		}
	}
	if j >= len(s) {
		return 0, w.errorf(i, "missing terminating ] for character class")
	}
	b.WriteByte(']')
	w.out.WriteString(b.String())
	return j + 1 - i, nil
}

type classAtom struct {
	val      int     // single byte value
	isSet    bool    // a class escape such as \d
	set      byteSet // its bytes
	verbatim bool    // \p or \P: cannot be expressed as a byte set
	n        int     // pattern bytes used
}

func (w *pcreRewriter) classAtom(j int) (classAtom, error) {
	s := w.src
	if s[j] != '\\' {
		return classAtom{val: int(s[j]), n: 1}, nil
	}
	if j+1 >= len(s) {
		return classAtom{}, w.errorf(j, `\ at end of pattern`)
	}
	d := s[j+1]
	switch d {
	case 'd', 'w', 's', 'h', 'v':
		return classAtom{isSet: true, set: escapeSet(d), n: 2}, nil
	case 'D', 'W', 'S', 'H', 'V':
		return classAtom{isSet: true, set: complement(escapeSet(d)), n: 2}, nil
	case 'p', 'P':
		n := 3
		if j+2 < len(s) && s[j+2] == '{' {
			if k := strings.IndexByte(s[j:], '}'); k > 0 {
				n = k + 1
			}
		}
		return classAtom{verbatim: true, n: min(n, len(s)-j)}, nil
	case 'N', 'R', 'X', 'B':
		return classAtom{}, w.errorf(j, "escape sequence %q is invalid in a character class", s[j:j+2])
	}
	if isAlnum(d) {
		v, n, err := w.charEscape(j, true)
		if err != nil {
			return classAtom{}, err
		}
		return classAtom{val: v, n: n}, nil
	}
	return classAtom{val: int(d), n: 2}, nil
}

func union(a, b byteSet) byteSet {
	for k := range a {
		a[k] |= b[k]
	}
	return a
}

// posixSet returns the bytes of a POSIX class name in the C locale.
func posixSet(name string) (byteSet, bool) {
	var set byteSet
	in := func(test func(c byte) bool) {
		for v := 0; v < 128; v++ {
			if test(byte(v)) {
				set.add(byte(v))
			}
		}
	}
	isLower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	isGraph := func(c byte) bool { return c > 0x20 && c < 0x7F }
	switch name {
	case "alnum":
		in(isAlnum)
	case "alpha":
		in(func(c byte) bool { return isLower(c) || isUpper(c) })
	case "ascii":
		in(func(byte) bool { return true })
	case "blank":
		in(func(c byte) bool { return c == ' ' || c == '\t' })
	case "cntrl":
		in(func(c byte) bool { return c < 0x20 || c == 0x7F })
	case "digit":
		in(isDigit)
	case "graph":
		in(isGraph)
	case "lower":
		in(isLower)
	case "print":
		in(func(c byte) bool { return c >= 0x20 && c < 0x7F })
	case "punct":
		in(func(c byte) bool { return isGraph(c) && !isAlnum(c) })
	case "space":
		in(func(c byte) bool { return strings.IndexByte(pcreSpace, c) >= 0 })
	case "upper":
		in(isUpper)
	case "word":
		in(func(c byte) bool { return isAlnum(c) || c == '_' })
	case "xdigit":
		in(isHex)
	default:
		return set, false
	}
	return set, true
}
