package wregex

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sync"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
)

// PCRE is a pattern compiled the way Wazuh compiles type="pcre2" expressions:
// pcre2_compile with no options (case-sensitive unless the pattern says
// (?i), no UTF, no multiline), matched unanchored from offset 0 with the
// leftmost match winning. It is safe for concurrent use. A leading (*UTF)
// verb switches to UTF-8 mode as in PCRE2: subjects that are not valid UTF-8
// never match, and "." and classes work on code points.
//
// Engine choice: the pattern is first rewritten into an equivalent one over
// a byte-per-rune alphabet (see pcre_rewrite.go). If Go's regexp (RE2) accepts
// the result it runs the pattern; RE2 finds the same leftmost match and
// submatches a backtracking engine would for the syntax it supports.
// Anything RE2 rejects (look-around, back references, atomic groups,
// possessive quantifiers, \Z, \G, repeat counts above 1000; (?#...) is
// removed beforehand) runs on regexp2, a backtracking engine, and so do
// patterns with a group inside a loop that can match empty, where RE2's
// submatch values differ from PCRE's. One RE2 gap is covered per subject:
// PCRE's "$" also matches before a final newline, so when the pattern has a
// "$" and the subject ends with "\n" the regexp2 copy of the pattern is used
// instead.
type PCRE struct {
	src     string
	mapped  string          // the rewritten pattern
	utf     bool            // (*UTF): subjects are UTF-8, offsets need no mapping
	pre     *literalSet     // strings one of which every match contains, or nil
	std     *regexp.Regexp  // nil when RE2 cannot run the pattern
	bt      *regexp2.Regexp // backtracking engine (see type comment)
	ngroups int
	runes   sync.Pool // *[]rune scratch for regexp2
	bytes   sync.Pool // *[]byte scratch for non-ASCII subjects on RE2
}

// CompilePCRE compiles a PCRE2 pattern. A compile error is reported for
// invalid PCRE2 syntax and for the few valid constructs neither engine can
// run (for example recursion, \K, callouts, (*VERB)s). A NUL byte ends the
// pattern, as Wazuh passes it as a C string.
func CompilePCRE(pattern string) (*PCRE, error) {
	pat := cstringS(pattern)
	rw, err := rewritePCRE(pat)
	if err != nil {
		return nil, fmt.Errorf("compile pcre2 %s: %w", shortQuote(pattern), err)
	}
	mapped, dollar := rw.pattern, rw.dollar
	p := &PCRE{src: pattern, mapped: mapped, utf: rw.utf}
	if !p.utf {
		// In UTF mode case folding is Unicode-wide, beyond what the ASCII
		// prefilter search understands.
		p.pre = newPrefilter(mapped)
	}
	if re, err := regexp.Compile(mapped); err == nil && !emptyLoopCaptures(mapped) {
		p.std = re
		p.ngroups = re.NumSubexp()
		if dollar {
			// Without a backtracking copy, subjects ending in "\n" fall
			// back to RE2's "$" (end of text only).
			p.bt, _ = regexp2.Compile(mapped, regexp2.OptionMaintainCaptureOrder())
		}
		return p, nil
	}
	bt, err := regexp2.Compile(mapped, regexp2.OptionMaintainCaptureOrder())
	if err != nil {
		return nil, fmt.Errorf("compile pcre2 %s: %w", shortQuote(pattern),
			&CompileError{"pcre2", CodePCRESyntax, -1, "invalid or unsupported pattern: " + err.Error()})
	}
	p.bt = bt
	p.ngroups = len(bt.GetGroupNumbers()) - 1
	return p, nil
}

// emptyLoopCaptures reports whether a capture group sits inside a repetition
// whose body can match the empty string, such as (a|)* or (a*)+. There RE2
// and backtracking engines disagree on the group's final value (PCRE keeps
// the empty last iteration, RE2 the last non-empty one), so such patterns go
// to regexp2.
func emptyLoopCaptures(pattern string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return true
	}
	var walk func(re *syntax.Regexp, inLoop bool) bool
	walk = func(re *syntax.Regexp, inLoop bool) bool {
		if re.Op == syntax.OpCapture && inLoop {
			return true
		}
		switch re.Op {
		case syntax.OpStar, syntax.OpPlus:
			inLoop = inLoop || nullable(re.Sub[0])
		case syntax.OpRepeat:
			if re.Max == -1 || re.Max > 1 {
				inLoop = inLoop || nullable(re.Sub[0])
			}
		}
		for _, sub := range re.Sub {
			if walk(sub, inLoop) {
				return true
			}
		}
		return false
	}
	return walk(re, false)
}

// nullable reports whether re can match the empty string.
func nullable(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpStar, syntax.OpQuest, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	case syntax.OpRepeat:
		return re.Min == 0 || nullable(re.Sub[0])
	case syntax.OpCapture, syntax.OpPlus:
		return nullable(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !nullable(sub) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if nullable(sub) {
				return true
			}
		}
		return false
	}
	return false
}

// String returns the source pattern.
func (p *PCRE) String() string { return p.src }

// NumCaptures returns the number of capture groups in the pattern.
func (p *PCRE) NumCaptures() int { return p.ngroups }

func (p *PCRE) useBacktracker(s []byte) bool {
	return p.std == nil || (p.bt != nil && len(s) > 0 && s[len(s)-1] == '\n')
}

// Match reports whether the pattern matches anywhere in s. The subject ends
// at its first NUL byte. Match does not allocate for ASCII subjects on the
// RE2 path. A regexp2 match error (backtracking limit) counts as no match,
// as a PCRE2 match-limit error does in Wazuh.
func (p *PCRE) Match(s []byte) bool {
	s = cut(s)
	if p.utf && !utf8.Valid(s) {
		return false // pcre2_match reports a UTF-8 error
	}
	if p.pre != nil && !p.pre.anyIn(s) {
		return false
	}
	if !p.useBacktracker(s) {
		if p.utf || isASCII(s) {
			return p.std.Match(s)
		}
		bp := p.getBytes()
		*bp = mapBytes((*bp)[:0], s)
		ok := p.std.Match(*bp)
		p.bytes.Put(bp)
		return ok
	}
	rp := p.getRunes()
	*rp = p.toRunes((*rp)[:0], s)
	ok, err := p.bt.MatchRunes(*rp)
	p.runes.Put(rp)
	return ok && err == nil
}

// MatchString is Match for a string; it does not copy s.
func (p *PCRE) MatchString(s string) bool { return p.Match(stringBytes(s)) }

// Captures runs the pattern and returns the capture groups the way Wazuh
// reads them from pcre2_match: groups 1 to the highest group that took part
// in the match, unset ones in between as empty slices (trailing unset groups
// are not returned). The slices alias s. last is the index of the last
// matched byte (match end - 1; -1 for an empty match at offset 0).
func (p *PCRE) Captures(s []byte, dst [][]byte) (caps [][]byte, last int, ok bool) {
	caps = dst[:0]
	s = cut(s)
	if (p.utf && !utf8.Valid(s)) || (p.pre != nil && !p.pre.anyIn(s)) {
		return caps, 0, false
	}
	var stack [2 * 17]int
	var loc []int
	if 2*(p.ngroups+1) <= len(stack) {
		loc = stack[:2*(p.ngroups+1)]
	} else {
		loc = make([]int, 2*(p.ngroups+1))
	}
	var found bool
	if p.useBacktracker(s) {
		found = p.findBacktrack(s, loc)
	} else {
		found = p.findRE2(s, loc)
	}
	if !found {
		return caps, 0, false
	}
	rc := 0
	for g := 1; g <= p.ngroups; g++ {
		if loc[2*g] >= 0 {
			rc = g
		}
	}
	for g := 1; g <= rc; g++ {
		if loc[2*g] < 0 {
			caps = append(caps, s[:0])
			continue
		}
		caps = append(caps, s[loc[2*g]:loc[2*g+1]])
	}
	return caps, loc[1] - 1, true
}

// findRE2 fills loc with the submatch offsets found by the RE2 engine and
// reports whether there was a match.
func (p *PCRE) findRE2(s []byte, loc []int) bool {
	if p.utf || isASCII(s) {
		m := p.std.FindSubmatchIndex(s)
		if m == nil {
			return false
		}
		copy(loc, m)
		return true
	}
	bp := p.getBytes()
	*bp = mapBytes((*bp)[:0], s)
	m := p.std.FindSubmatchIndex(*bp)
	p.bytes.Put(bp)
	if m == nil {
		return false
	}
	for k, off := range m {
		loc[k] = unmapOffset(s, off)
	}
	return true
}

// findBacktrack fills loc using regexp2. Its offsets are rune indexes: byte
// indexes in the mapped alphabet, converted back in UTF mode.
func (p *PCRE) findBacktrack(s []byte, loc []int) bool {
	rp := p.getRunes()
	*rp = p.toRunes((*rp)[:0], s)
	found := false
	err := p.bt.FindRunesMatches(*rp, 0, func(v regexp2.MatchView) bool {
		found = true
		for g := 0; g <= p.ngroups; g++ {
			idx, n, ok := v.GroupRange(g)
			if !ok {
				loc[2*g], loc[2*g+1] = -1, -1
				continue
			}
			loc[2*g], loc[2*g+1] = idx, idx+n
		}
		return false
	})
	p.runes.Put(rp)
	if found && p.utf {
		for k, r := range loc {
			loc[k] = runeToByteOffset(s, r)
		}
	}
	return found && err == nil
}

func (p *PCRE) toRunes(dst []rune, s []byte) []rune {
	if !p.utf {
		return mapRunes(dst, s)
	}
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		dst = append(dst, r)
		s = s[n:]
	}
	return dst
}

// runeToByteOffset converts a rune index into s (valid UTF-8) to a byte
// offset; -1 stays -1.
func runeToByteOffset(s []byte, r int) int {
	if r < 0 {
		return r
	}
	off := 0
	for ; r > 0 && off < len(s); r-- {
		_, n := utf8.DecodeRune(s[off:])
		off += n
	}
	return off
}

func (p *PCRE) getRunes() *[]rune {
	if v, ok := p.runes.Get().(*[]rune); ok {
		return v
	}
	return new([]rune)
}

func (p *PCRE) getBytes() *[]byte {
	if v, ok := p.bytes.Get().(*[]byte); ok {
		return v
	}
	return new([]byte)
}

// isASCII reports whether s has no byte >= 0x80, eight bytes at a time.
func isASCII(s []byte) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64(s[i:])&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func mapBytes(dst, s []byte) []byte {
	for _, b := range s {
		if b < utf8.RuneSelf {
			dst = append(dst, b)
		} else {
			dst = utf8.AppendRune(dst, mapRune(b))
		}
	}
	return dst
}

func mapRunes(dst []rune, s []byte) []rune {
	for _, b := range s {
		dst = append(dst, mapRune(b))
	}
	return dst
}

// unmapOffset converts an offset into mapBytes(s) back to an offset into s;
// -1 stays -1.
func unmapOffset(s []byte, off int) int {
	if off < 0 {
		return off
	}
	m := 0
	for i, b := range s {
		if m >= off {
			return i
		}
		if b < utf8.RuneSelf {
			m++
		} else {
			m += utf8.RuneLen(mapRune(b))
		}
	}
	return len(s)
}
