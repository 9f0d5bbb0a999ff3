package wregex

import (
	"bytes"
	"fmt"
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
	return r.exec(cut(s))
}

func (r *Regex) exec(s []byte) (int, bool) {
	for k := range r.matchers {
		if pos := r.matchers[k].run(s, nil); pos != noPos {
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
		pos := m.run(s, cs)
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
