package wregex

import "bytes"

// lowerTab is lower() as a table; the hot comparison loops use it to avoid
// branches.
var lowerTab = func() (t [256]byte) {
	for i := range t {
		t[i] = lower(byte(i))
	}
	return t
}()

func upper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - ('a' - 'A')
	}
	return b
}

// equalLower reports whether lower(a) equals needle, which is already
// lower-case and has the same length as a.
func equalLower(a, needle []byte) bool {
	if len(a) != len(needle) {
		return false
	}
	for i, c := range needle {
		if lowerTab[a[i]] != c {
			return false
		}
	}
	return true
}

// byteRank estimates how common a byte is in log text (higher = more common).
// It only steers which needle byte a searcher looks for first, so a rough
// ordering is enough. Letters are ranked by their lower-case form because a
// case-insensitive search has to find both cases.
var byteRank = func() (t [256]uint8) {
	const common = `zjqxkv=}{bwyf_g/9876p54h3mu.dcl-r2ns1i0o,a:t"e `
	for i, c := range []byte(common) {
		t[c] = uint8(i + 1)
	}
	for c := 'a'; c <= 'z'; c++ {
		if t[c] == 0 {
			t[c] = 1
		}
		t[c-'a'+'A'] = t[c]
	}
	return t
}()

// foldSearcher finds a lower-case needle in a haystack ignoring ASCII case,
// without allocating. It looks for the needle's rarest byte first.
type foldSearcher struct {
	needle  []byte // lower-case
	letters bool   // needle contains a-z; otherwise bytes.Index is exact
	anchor  int    // offset of the rare byte in needle
	lo, up  byte   // the two spellings of needle[anchor]
}

func newFoldSearcher(needle []byte) foldSearcher {
	f := foldSearcher{needle: needle}
	best := -1
	for i, c := range needle {
		if c >= 'a' && c <= 'z' {
			f.letters = true
		}
		// Prefer bytes that need one IndexByte over letters that need two.
		score := int(byteRank[c]) * 2
		if c >= 'a' && c <= 'z' {
			score++
		}
		if best < 0 || score < best {
			best = score
			f.anchor = i
		}
	}
	if len(needle) > 0 {
		f.lo = needle[f.anchor]
		f.up = upper(f.lo)
	}
	return f
}

// index returns the offset of the first case-insensitive occurrence of the
// needle in h, or -1.
func (f *foldSearcher) index(h []byte) int {
	m := len(f.needle)
	if m == 0 {
		return 0
	}
	if m > len(h) {
		return -1
	}
	if !f.letters {
		return bytes.Index(h, f.needle)
	}
	k := f.anchor
	limit := len(h) - m // last possible start
	nextLo, nextUp := -2, -2
	if f.lo == f.up {
		nextUp = -1
	}
	for pos := 0; pos <= limit; {
		from, to := pos+k, limit+k+1
		if nextLo != -1 && nextLo < from {
			nextLo = indexFrom(h, f.lo, from, to)
		}
		if nextUp != -1 && nextUp < from {
			nextUp = indexFrom(h, f.up, from, to)
		}
		c := nextLo
		if c < 0 || (nextUp >= 0 && nextUp < c) {
			c = nextUp
		}
		if c < 0 {
			return -1
		}
		start := c - k
		if equalLower(h[start:start+m], f.needle) {
			return start
		}
		pos = start + 1
	}
	return -1
}

func indexFrom(h []byte, b byte, from, to int) int {
	if j := bytes.IndexByte(h[from:to], b); j >= 0 {
		return from + j
	}
	return -1
}

// byteFinder repeatedly finds the next byte equal to lo or up (the two
// spellings of one letter, or the same byte twice) at or after a growing
// offset. It remembers the next known position of each spelling so a long
// run of calls stays linear in the haystack length.
type byteFinder struct {
	lo, up         byte
	nextLo, nextUp int // -2 unknown, -1 none left, else absolute index
}

// newByteFinder finds b in either case.
func newByteFinder(b byte) byteFinder {
	f := byteFinder{lo: b, up: upper(b), nextLo: -2, nextUp: -2}
	if f.up == f.lo {
		f.nextUp = -1
	}
	return f
}

// next returns the first index >= from holding lo or up, or len(h).
func (f *byteFinder) next(h []byte, from int) int {
	if f.nextLo != -1 && f.nextLo < from {
		f.nextLo = indexFrom(h, f.lo, from, len(h))
	}
	if f.nextUp != -1 && f.nextUp < from {
		f.nextUp = indexFrom(h, f.up, from, len(h))
	}
	c := f.nextLo
	if c < 0 || (f.nextUp >= 0 && f.nextUp < c) {
		c = f.nextUp
	}
	if c < 0 {
		return len(h)
	}
	return c
}
