package wregex

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"unsafe"
)

// Regex is a compiled OS_Regex pattern, compiled the way analysisd compiles
// rule and decoder patterns (case-insensitive). It is safe for concurrent use.
type Regex struct {
	src        string
	alts       []regexAlt // parsed program, kept for the reference matcher
	matchers   []regexMatcher
	totalMarks int // number of ")" in the whole pattern
	maxMarks   int // most markers in any one alternative
}

// CompileRegex compiles an OS_Regex pattern. Errors are *CompileError values
// wrapped with the pattern; the codes mirror Wazuh's (6 invalid escape,
// 7 bad group, 3 too long). A NUL byte ends the pattern, as in C.
func CompileRegex(pattern string) (*Regex, error) {
	alts, total, err := parseRegex(pattern)
	if err != nil {
		return nil, fmt.Errorf("compile regex %s: %w", shortQuote(pattern), err)
	}
	r := &Regex{src: pattern, alts: alts, totalMarks: total}
	r.matchers = make([]regexMatcher, len(alts))
	for i := range alts {
		r.matchers[i] = newRegexMatcher(&alts[i])
		r.maxMarks = max(r.maxMarks, alts[i].nmark)
	}
	return r, nil
}

// String returns the source pattern.
func (r *Regex) String() string { return r.src }

// NumCaptures returns the largest number of capture groups any alternative
// of the pattern can return.
func (r *Regex) NumCaptures() int {
	if r.totalMarks == 0 {
		return 0
	}
	return r.maxMarks / 2
}

// Match reports whether the pattern matches s, as OSRegex_Execute does for a
// pattern compiled without OS_RETURN_SUBSTRING (rule <regex> and <field>,
// decoder <prematch>). Input ends at its first NUL byte.
func (r *Regex) Match(s []byte) bool {
	_, ok := r.Exec(s)
	return ok
}

// MatchString is Match for a string; it does not copy s.
func (r *Regex) MatchString(s string) bool {
	_, ok := r.Exec(stringBytes(s))
	return ok
}

// Exec runs the pattern without capture bookkeeping and returns the return
// position of §1.4 ("last": the index of the last byte the match consumed by
// a literal, a single class or a hand-over, or the first byte of a trailing
// repeat; it can be -1). Callers that need "the rest of the string", such as
// a decoder's after_prematch offset, use s[last+1:].
func (r *Regex) Exec(s []byte) (last int, ok bool) {
	return r.exec(cut(s), false)
}

// MatchLower is Match for input the caller has already folded with
// ToLowerASCII. Every OS_Regex class contains either both cases of a letter
// or neither, and literals compare folded input, so the answer is the same
// as Match on the original text; the gain is that literal searches become
// exact. A caller testing many patterns against one log line folds it once.
func (r *Regex) MatchLower(lowered []byte) bool {
	_, ok := r.exec(cut(lowered), true)
	return ok
}

func (r *Regex) exec(s []byte, lowered bool) (int, bool) {
	for k := range r.matchers {
		if pos := r.matchers[k].run(s, nil, lowered); pos != noPos {
			return pos, true
		}
	}
	return 0, false
}

// Captures runs the pattern as compiled with OS_RETURN_SUBSTRING (decoder
// <regex>) and appends the captured substrings to dst[:0]. The substrings
// alias s. last is the return position (see Exec). When the pattern has no
// group at all Wazuh does not track groups, and Captures behaves like Exec.
//
// Capture mode can change the result, not only add captures: with groups
// present the end-of-input test first skips "\X*" elements (§1.4), so a few
// patterns match here but not in Match. ok is also false when Wazuh's
// substring extraction would fail (a group ending before it starts, which
// makes the C allocation fail or crash).
func (r *Regex) Captures(s []byte, dst [][]byte) (caps [][]byte, last int, ok bool) {
	caps = dst[:0]
	if r.totalMarks == 0 {
		last, ok = r.Exec(s)
		return caps, last, ok
	}
	s = cut(s)
	var stack [32]int
	var slots []int
	if r.maxMarks <= len(stack) {
		slots = stack[:r.maxMarks]
	} else {
		slots = make([]int, r.maxMarks)
	}
	for k := range r.matchers {
		m := &r.matchers[k]
		cs := slots[:m.nmark]
		for j := range cs {
			cs[j] = -1
		}
		pos := m.run(s, cs, false)
		if pos == noPos {
			continue
		}
		for j := 0; j+1 < len(cs); j += 2 {
			a, b := cs[j], cs[j+1]
			if a < 0 || b < 0 {
				break
			}
			if b < a {
				return caps[:0], 0, false
			}
			caps = append(caps, s[a:b])
		}
		return caps, pos, true
	}
	return caps, 0, false
}

// ToLowerASCII appends s with A-Z folded to a-z to dst[:0] and returns it,
// for use with the MatchLower methods.
func ToLowerASCII(dst, s []byte) []byte {
	dst = slices.Grow(dst[:0], len(s))[:len(s)]
	i := 0
	// Eight bytes at a time: flag the bytes in 'A'..'Z' (computed on the
	// low seven bits so additions cannot carry across bytes, then bytes
	// >= 0x80 are excluded) and set their 0x20 bit.
	const ones = 0x0101010101010101
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		h := x & (0x7F * ones)
		geA := h + (0x80-'A')*ones
		gtZ := h + (0x80-'Z'-1)*ones
		m := geA &^ gtZ &^ x & (0x80 * ones)
		binary.LittleEndian.PutUint64(dst[i:], x|m>>2)
	}
	for ; i < len(s); i++ {
		dst[i] = lowerTab[s[i]]
	}
	return dst
}

// cut ends the input at its first NUL byte, like a C string.
func cut(s []byte) []byte {
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// stringBytes views s as a byte slice without copying. The matchers only
// read their input, so the shared memory is never written.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
