package wregex

import "fmt"

// Match is a compiled OS_Match pattern (Wazuh's default for <match> and most
// static-field rule elements). It is safe for concurrent use.
type Match struct {
	src    string
	negate bool
	always bool // an alternative matches every input
	alts   []matchAlt
}

const (
	maSub    uint8 = iota // text
	maPrefix              // ^text
	maSuffix              // text$
	maExact               // ^text$
)

type matchAlt struct {
	kind uint8
	lit  foldSearcher // lower-case text without the anchors
}

// CompileMatch compiles an OS_Match pattern: an optional leading "!" negating
// the whole result, then alternatives split at every "|", each a
// case-insensitive substring, "^prefix", "suffix$" or "^exact$" test; an empty
// alternative matches everything. There are no escapes. The only error is a
// pattern longer than MaxPatternLen bytes. A NUL byte ends the pattern.
func CompileMatch(pattern string) (*Match, error) {
	pat := cstringS(pattern)
	if len(pat) > MaxPatternLen {
		return nil, fmt.Errorf("compile match %s: %w", shortQuote(pattern), &CompileError{"osmatch", CodeTooLong, MaxPatternLen,
			fmt.Sprintf("pattern is %d bytes, longer than %d", len(pat), MaxPatternLen)})
	}
	m := &Match{src: pattern}
	if len(pat) > 0 && pat[0] == '!' {
		m.negate = true
		pat = pat[1:]
	}
	low := make([]byte, len(pat))
	for i := 0; i < len(pat); i++ {
		low[i] = lower(pat[i])
	}
	start := 0
	for i := 0; i <= len(low); i++ {
		if i < len(low) && low[i] != '|' {
			continue
		}
		a := low[start:i]
		start = i + 1
		var alt matchAlt
		switch {
		// "^" alone is a prefix test with empty text (always true), so
		// exact needs at least "^" plus "$".
		case len(a) >= 2 && a[0] == '^' && a[len(a)-1] == '$':
			alt = matchAlt{kind: maExact, lit: newFoldSearcher(a[1 : len(a)-1])}
		case len(a) == 0:
			m.always = true
			continue
		case a[len(a)-1] == '$':
			alt = matchAlt{kind: maSuffix, lit: newFoldSearcher(a[:len(a)-1])}
		case a[0] == '^':
			alt = matchAlt{kind: maPrefix, lit: newFoldSearcher(a[1:])}
		default:
			alt = matchAlt{kind: maSub, lit: newFoldSearcher(a)}
		}
		if alt.kind != maExact && len(alt.lit.needle) == 0 {
			m.always = true // "^" or "$" alone
			continue
		}
		m.alts = append(m.alts, alt)
	}
	return m, nil
}

// String returns the source pattern.
func (m *Match) String() string { return m.src }

// Match reports whether the pattern matches s. Input ends at its first NUL
// byte, as Wazuh measures it with strlen.
func (m *Match) Match(s []byte) bool {
	return m.match(cut(s)) != m.negate
}

// MatchString is Match for a string; it does not copy s.
func (m *Match) MatchString(s string) bool {
	return m.Match(stringBytes(s))
}

func (m *Match) match(s []byte) bool {
	if m.always {
		return true
	}
	for k := range m.alts {
		a := &m.alts[k]
		lit := a.lit.needle
		switch a.kind {
		case maSub:
			if a.lit.index(s) >= 0 {
				return true
			}
		case maPrefix:
			if len(s) >= len(lit) && equalLower(s[:len(lit)], lit) {
				return true
			}
		case maSuffix:
			if len(s) >= len(lit) && equalLower(s[len(s)-len(lit):], lit) {
				return true
			}
		case maExact:
			if equalLower(s, lit) {
				return true
			}
		}
	}
	return false
}

// WordMatch implements OS_WordMatch, the helper Wazuh uses to decide whether
// a rule's if_group names one of a parent's groups: "|"-separated
// alternatives, each a case-insensitive substring test, or a prefix test when
// it starts with "^" ("$" is an ordinary byte). An empty pattern matches
// nothing. The C helper has two quirks that are reproduced here: an empty
// final alternative ("a|") matches everything, and an empty alternative that
// is not the last ("a||b|c", "|b|c") looks for "|" followed by the next
// alternative's text, which only succeeds when yet another "|" follows that
// alternative in the pattern.
func WordMatch(pattern, s string) bool {
	pat := cstringS(pattern)
	str := stringBytes(cstringS(s))
	if pat == "" {
		return false
	}
	for {
		bar := -1
		for i := 0; i < len(pat); i++ {
			if pat[i] == '|' {
				bar = i
				break
			}
		}
		if bar < 0 {
			return wordAlt(pat, "", str)
		}
		if wordAlt(pat[:bar], pat[bar+1:], str) {
			return true
		}
		pat = pat[bar+1:]
		if pat == "" {
			return true // empty last alternative
		}
	}
}

// wordAlt tests one alternative; rest is the pattern text after the "|" that
// ended it ("" for the last alternative).
func wordAlt(alt, rest string, s []byte) bool {
	switch {
	case alt == "" && rest == "":
		return true
	case alt == "":
		// The C scan compares the "|" itself and then the following text up
		// to the next "|"; without a further "|" it can never succeed.
		next := -1
		for i := 0; i < len(rest); i++ {
			if rest[i] == '|' {
				next = i
				break
			}
		}
		if next < 0 {
			return false
		}
		alt = "|" + rest[:next]
	case alt[0] == '^':
		p := alt[1:]
		return len(s) >= len(p) && equalFoldString(s[:len(p)], p)
	}
	if len(s) == 0 {
		return false
	}
	for i := 0; i+len(alt) <= len(s); i++ {
		if equalFoldString(s[i:i+len(alt)], alt) {
			return true
		}
	}
	return false
}

func equalFoldString(a []byte, b string) bool {
	for i := 0; i < len(b); i++ {
		if lowerTab[a[i]] != lowerTab[b[i]] {
			return false
		}
	}
	return true
}
