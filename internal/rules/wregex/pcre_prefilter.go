package wregex

import (
	"regexp/syntax"
	"strings"
)

// A literal prefilter for PCRE patterns: a small set of strings such that
// every match contains at least one of them. RE2 cannot skip ahead for
// case-insensitive alternations such as (?i)(DeleteTrail|StopLogging), and
// scanning a 1.5 KB line costs tens of microseconds; a failed
// case-insensitive substring search costs well under one.

const maxPrefilterStrings = 16

type literalSet struct {
	alts []foldSearcher
}

// anyIn reports whether s contains one of the strings, ignoring ASCII case
// (a superset of what the pattern needs, so a miss proves no match).
func (l *literalSet) anyIn(s []byte) bool {
	for k := range l.alts {
		if l.alts[k].index(s) >= 0 {
			return true
		}
	}
	return false
}

// newPrefilter derives a prefilter from a rewritten (mapped-alphabet)
// pattern, or returns nil when none is worth having.
func newPrefilter(mapped string) *literalSet {
	var set []string
	if re, err := syntax.Parse(mapped, syntax.Perl); err == nil {
		set, _ = required(re)
	} else {
		set = lookaheadRequired(mapped)
		if re, err := syntax.Parse(stripLookarounds(mapped), syntax.Perl); err == nil {
			if alt, ok := required(re); ok && quality(alt) > quality(set) {
				set = alt
			}
		}
	}
	if quality(set) < 3 {
		return nil
	}
	l := &literalSet{}
	for _, s := range set {
		low := []byte(s)
		for i := range low {
			low[i] = lower(low[i])
		}
		l.alts = append(l.alts, newFoldSearcher(low))
	}
	return l
}

// quality is the length of the shortest string in the set.
func quality(set []string) int {
	q := -1
	for _, s := range set {
		if q < 0 || len(s) < q {
			q = len(s)
		}
	}
	return q
}

// literalBytes converts literal runes back to the subject bytes they stand
// for in the mapped alphabet.
func literalBytes(runes []rune) (string, bool) {
	b := make([]byte, 0, len(runes))
	for _, r := range runes {
		switch {
		case r < 0x80:
			b = append(b, byte(r))
		case r >= highBase+0x80 && r <= highBase+0xFF:
			b = append(b, byte(r-highBase))
		default:
			return "", false
		}
	}
	return string(b), len(b) > 0
}

// required returns strings one of which every match of re must contain.
func required(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		s, ok := literalBytes(re.Rune)
		return []string{s}, ok
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			set, ok := required(sub)
			if !ok || len(all)+len(set) > maxPrefilterStrings {
				return nil, false
			}
			all = append(all, set...)
		}
		return all, true
	case syntax.OpConcat:
		var best []string
		consider := func(set []string) {
			if len(set) > 0 && (best == nil || quality(set) > quality(best)) {
				best = set
			}
		}
		run := ""
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				if s, ok := literalBytes(sub.Rune); ok {
					run += s
					continue
				}
			}
			if run != "" {
				consider([]string{run})
				run = ""
			}
			if set, ok := required(sub); ok {
				consider(set)
			}
		}
		if run != "" {
			consider([]string{run})
		}
		return best, best != nil
	}
	return nil, false
}

// lookaheadRequired finds required strings for patterns RE2 cannot parse that
// open with look-aheads, the usual way of asking for several things in any
// order: (?is)^(?=.*A)(?=.*B)... Each look-ahead's body must match somewhere in
// the subject, so strings required by any one body are required by the whole
// pattern. Only bodies RE2 can parse are used, each on its own: joining a body
// with what follows it would not be sound, since a look-ahead consumes nothing.
func lookaheadRequired(mapped string) []string {
	rest, flags := mapped, ""
	if strings.HasPrefix(rest, "(?") && !strings.HasPrefix(rest, "(?=") && !strings.HasPrefix(rest, "(?!") {
		end := strings.IndexByte(rest, ')')
		if end < 0 || strings.ContainsAny(rest[2:end], ":=!<>") {
			return nil
		}
		flags, rest = rest[:end+1], rest[end+1:]
	}
	if topLevelBar(rest) {
		return nil // the look-aheads bind only the first alternative
	}
	rest = strings.TrimPrefix(rest, "^")
	var best []string
	for strings.HasPrefix(rest, "(?=") {
		end := groupEnd(rest)
		if end < 0 {
			break
		}
		if re, err := syntax.Parse(flags+rest[3:end], syntax.Perl); err == nil {
			if set, ok := required(re); ok && quality(set) > quality(best) {
				best = set
			}
		}
		rest = rest[end+1:]
	}
	return best
}

// scanGroups calls visit for every byte of s outside escapes and character
// classes (where parentheses and bars are literal), with the group depth
// before the byte, until visit returns false.
func scanGroups(s string, visit func(i int, depth int) bool) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
			continue
		case '[':
			// A "]" right after "[" or "[^" is a literal member.
			j := i + 1
			if j < len(s) && s[j] == '^' {
				j++
			}
			if j < len(s) && s[j] == ']' {
				j++
			}
			for j < len(s) && s[j] != ']' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			i = j
			continue
		}
		if !visit(i, depth) {
			return
		}
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		}
	}
}

// groupEnd returns the index of the ")" closing the group that opens s, or -1.
func groupEnd(s string) int {
	end := -1
	scanGroups(s, func(i, depth int) bool {
		if s[i] == ')' && depth == 1 {
			end = i
			return false
		}
		return true
	})
	return end
}

// topLevelBar reports whether s is an alternation at its outermost level.
func topLevelBar(s string) bool {
	bar := false
	scanGroups(s, func(i, depth int) bool {
		bar = s[i] == '|' && depth == 0
		return !bar
	})
	return bar
}

// stripLookarounds removes every look-ahead and look-behind group. They only
// assert, so the pattern without them matches whatever the pattern matched (and
// more): strings it requires are required by the original too.
func stripLookarounds(s string) string {
	var b strings.Builder
	from, skip := 0, 0
	scanGroups(s, func(i, _ int) bool {
		if i < skip || s[i] != '(' {
			return true
		}
		rest := s[i:]
		for _, op := range []string{"(?=", "(?!", "(?<=", "(?<!"} {
			if strings.HasPrefix(rest, op) {
				end := groupEnd(rest)
				if end < 0 {
					return false
				}
				b.WriteString(s[from:i])
				from, skip = i+end+1, i+end+1
				break
			}
		}
		return true
	})
	b.WriteString(s[from:])
	return b.String()
}
