package wregex

import "regexp/syntax"

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
	re, err := syntax.Parse(mapped, syntax.Perl)
	if err != nil {
		return nil
	}
	set, ok := required(re)
	if !ok || quality(set) < 3 {
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
