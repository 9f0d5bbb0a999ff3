package wregex

// Specialised matchers for the alternative shapes that dominate real rule
// sets. Each one computes exactly what refRun would (match result and return
// position); the derivations below follow the §1.4 state machine by hand and
// are checked by TestDifferential and FuzzCompileRegex.

const (
	altVM    uint8 = iota // anything else: the general element machine
	altLit                // only literal bytes, optionally anchored
	altClass              // a single \X+ or \X*, optionally anchored
)

type regexMatcher struct {
	kind  uint8
	full  bool // altClass: the class accepts every byte (\.)
	begin bool
	end   bool
	nmark int
	lit   foldSearcher // altLit: the lower-case literal
	set   byteSet      // altClass
	quant byte         // altClass: '+' or '*'
	vm    vmAlt        // altVM
}

func newRegexMatcher(a *regexAlt) regexMatcher {
	m := regexMatcher{begin: a.begin, end: a.end, nmark: a.nmark}
	P := a.prog
	switch {
	case a.nmark == 0 && !containsByte(P, escByte):
		m.kind = altLit
		m.lit = newFoldSearcher(P)
	case len(P) == 3 && P[0] == escByte && (P[2] == '+' || P[2] == '*'):
		m.kind = altClass
		m.set = classSets[P[1]]
		m.full = m.set == byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
		m.quant = P[2]
	default:
		m.kind = altVM
		m.vm = newVMAlt(a)
	}
	return m
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// run returns the §1.4 return position or noPos. caps is as for vmAlt.run;
// the specialised shapes have no groups, so they never touch it.
func (m *regexMatcher) run(s []byte, caps []int) int {
	switch m.kind {
	case altLit:
		return m.runLit(s)
	case altClass:
		return m.runClass(s)
	}
	return m.vm.run(s, caps)
}

// runLit: a pure literal is a plain leftmost case-insensitive search (a
// failed attempt restarts one byte after where it began), and the return
// position is the last byte of the occurrence. With $ the attempt that
// reaches the end of the pattern must also have consumed the whole input.
func (m *regexMatcher) runLit(s []byte) int {
	lit := m.lit.needle
	L, n := len(lit), len(s)
	switch {
	case m.begin && m.end:
		if L == 0 {
			return zeroIf(n == 0)
		}
		if n == L && equalLower(s, lit) {
			return n - 1
		}
	case m.begin:
		if L == 0 {
			return 0
		}
		if n >= L && equalLower(s[:L], lit) {
			return L - 1
		}
	case m.end:
		if L == 0 {
			return zeroIf(n == 0)
		}
		if n >= L && equalLower(s[n-L:], lit) {
			return n - 1
		}
	default:
		if L == 0 {
			return 0
		}
		if k := m.lit.index(s); k >= 0 {
			return k + L - 1
		}
	}
	return noPos
}

func zeroIf(ok bool) int {
	if ok {
		return 0
	}
	return noPos
}

// runClass handles "\X+" and "\X*" with any anchors:
//
//	\X+    first member k; the repeat runs to the first non-member j and
//	       returns j there (tail rule), or returns k if it reaches the end.
//	\X*    empty input: 0; s[0] not a member: the '*' is skipped with
//	       position -1; else like \X+ from 0.
//	^\X+   as \X+ but the first member must be s[0].
//	^\X*   identical to \X* (it never fails at position 0).
//	\X+$   a non-member fails the attempt, so only a run reaching the end
//	       counts; it returns that final run's first index.
//	\X*$   a restarted run never sets the position, so only input made
//	       entirely of members (or empty input) matches, returning 0.
//	^\X+$  non-empty input made entirely of members, returning 0.
//	^\X*$  input made entirely of members (possibly empty), returning 0.
func (m *regexMatcher) runClass(s []byte) int {
	set := &m.set
	n := len(s)
	plus := m.quant == '+'
	if m.full {
		// No byte is rejected: every case below reduces to this.
		return zeroIf(n > 0 || !plus)
	}
	if m.end {
		if !plus || m.begin {
			for _, c := range s {
				if !set.has(c) {
					return noPos
				}
			}
			if plus && n == 0 {
				return noPos
			}
			return 0
		}
		// \X+$
		if n == 0 || !set.has(s[n-1]) {
			return noPos
		}
		k := n - 1
		for k > 0 && set.has(s[k-1]) {
			k--
		}
		return k
	}
	k := 0
	if plus {
		if m.begin {
			if n == 0 || !set.has(s[0]) {
				return noPos
			}
		} else {
			for k < n && !set.has(s[k]) {
				k++
			}
			if k == n {
				return noPos
			}
		}
	} else {
		if n == 0 {
			return 0
		}
		if !set.has(s[0]) {
			return -1
		}
	}
	for j := k + 1; j < n; j++ {
		if !set.has(s[j]) {
			return j
		}
	}
	if plus {
		return k
	}
	return 0
}
