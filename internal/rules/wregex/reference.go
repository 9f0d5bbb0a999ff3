package wregex

// This file is the executable specification of OS_Regex matching: a direct,
// deliberately unoptimised transcription of the algorithm in
// wazuh-engine-semantics.md §1.4, working on the byte-level program produced
// by parseRegex. The fast matchers in vm.go and shapes.go are tested against
// it; it is not used by the exported API.

import "math"

// noPos is the "no position" value of §1.4 (distinct from -1, which is a
// valid return position).
const noPos = math.MinInt

// refAt returns the program byte at p, or 0 (the C terminator) past the end.
func refAt(prog []byte, p int) byte {
	if p < len(prog) {
		return prog[p]
	}
	return 0
}

// refRun runs one alternative over s (already cut at its first NUL). caps is
// nil when captures are not wanted, otherwise it has one slot per marker
// (-1 = unset) and is updated in place. It returns the return position, or
// noPos when the alternative does not match.
func refRun(a *regexAlt, s []byte, caps []int) int {
	P := a.prog
	n := len(s)
	isEnd := func(p int) bool { return p >= len(P) }
	isClass := func(p int) bool { return p < len(P) && P[p] == escByte }
	isMark := func(p int) bool { return p < len(P) && P[p] == markByte }
	isQuant := func(b byte) bool { return b == '+' || b == '*' }
	setCap := func(p, v int) {
		if caps != nil {
			caps[a.markAt[p]] = v
		}
	}

	p, i := 0, 0
	last := 0
	rep := false
	restart := noPos
	var saveP, saveI [4]int
	var saved [4]bool
	push := func(p, i int) {
		for k := 0; k < 4; k++ {
			if !saved[k] {
				saved[k], saveP[k], saveI[k] = true, p, i
				return
			}
		}
	}

	for i < n {
		// Step A: end of pattern, or one group marker.
		if isEnd(p) && !a.end {
			return last
		}
		if isMark(p) {
			setCap(p, i)
			p++
			if isEnd(p) && !a.end {
				return last
			}
		}
		// Step B: class element.
		if isClass(p) {
			c := P[p+1]
			q := refAt(P, p+2)
			if classHas(c, s[i]) {
				if !isQuant(q) {
					p += 2
					if restart == noPos {
						restart = i
					}
					last = i
					i++
					continue
				}
				if q == '*' {
					rep = true
				}
				if rep {
					nx := p + 3
					g := -1
					if isMark(nx) {
						g = nx
						nx++
					}
					if isEnd(nx) {
						if g >= 0 {
							setCap(g, i+1)
						}
						i++
						continue
					}
					if isClass(nx) {
						if classHas(P[nx+1], s[i]) {
							if g >= 0 {
								setCap(g, i)
							}
							push(p, i)
							if isQuant(refAt(P, nx+2)) {
								p = nx
							} else {
								p = nx + 2
							}
						}
					} else if P[nx] == lower(s[i]) {
						rep = false
						if g >= 0 {
							setCap(g, i)
						}
						push(p, i)
						p = nx + 1
					}
					last = i
					i++
					continue
				}
				// First byte of a '+' repeat.
				if isMark(p + 3) {
					if i == n-1 {
						setCap(p+3, i+1)
					} else {
						setCap(p+3, i)
					}
				}
				rep = true
				last = i
				i++
				continue
			}
			// The class rejects s[i].
			switch {
			case (isEnd(p+2) || isEnd(p+3)) && rep && last != noPos:
				last = i
				if !a.end {
					return last
				}
				rep = false
				goto fail
			case q == '+' && rep:
				p += 3
				rep = false
				continue
			case q == '*':
				p += 3
				last = i - 1
				rep = false
				continue
			default:
				rep = false
				goto fail
			}
		}
		// Step C: literal (a second marker compares as '(' here; the end of
		// the program never matches because input bytes are never NUL).
		if !isEnd(p) && P[p] == lower(s[i]) {
			p++
			if restart == noPos {
				restart = i
			}
			last = i
			i++
			continue
		}
	fail:
		if k := highestSave(&saved); k >= 0 {
			saved[k] = false
			p, i = saveP[k], saveI[k]+1
			continue
		}
		if a.begin {
			return noPos
		}
		if restart != noPos {
			i = restart
			restart = noPos
		}
		p = 0
		last = noPos
		i++
	}

	// Input exhausted.
	if caps != nil {
		for isClass(p) && refAt(P, p+2) == '*' {
			p += 3
		}
		if isMark(p) {
			setCap(p, n)
		}
	}
	skipMark := func() {
		if isMark(p) {
			p++
		}
	}
	// T1
	skipMark()
	if isEnd(p) {
		return last
	}
	// T2
	if isClass(p) && rep {
		p += 2
		if isQuant(refAt(P, p)) {
			p++
			skipMark()
			if isEnd(p) {
				return last
			}
			if isClass(p) {
				p += 2
				if refAt(P, p) == '*' {
					p++
					skipMark()
					if isEnd(p) {
						return last
					}
				}
			}
		}
	}
	// T3
	if isClass(p) {
		p += 2
		if refAt(P, p) == '*' {
			p++
			skipMark()
			if isEnd(p) {
				return last
			}
		}
	}
	return noPos
}

func highestSave(saved *[4]bool) int {
	for k := 3; k >= 0; k-- {
		if saved[k] {
			return k
		}
	}
	return -1
}

// refExec runs a whole pattern the way OSRegex_Execute does: alternatives in
// order, the first one that returns a position wins. When withCaps is true
// (and the pattern has groups) it also returns the capture offsets as
// start,end pairs. ok is false when nothing matched or when Wazuh's capture
// extraction would fail (an end before its start).
func refExec(alts []regexAlt, totalMarks int, s []byte, withCaps bool) (last int, spans []int, ok bool) {
	s = cstring(s)
	capMode := withCaps && totalMarks > 0
	for k := range alts {
		a := &alts[k]
		var caps []int
		if capMode {
			caps = make([]int, a.nmark)
			for j := range caps {
				caps[j] = -1
			}
		}
		r := refRun(a, s, caps)
		if r == noPos {
			continue
		}
		if !capMode {
			return r, nil, true
		}
		for j := 0; j+1 < len(caps); j += 2 {
			if caps[j] < 0 || caps[j+1] < 0 {
				break
			}
			if caps[j+1] < caps[j] {
				return 0, nil, false
			}
			spans = append(spans, caps[j], caps[j+1])
		}
		return r, spans, true
	}
	return 0, nil, false
}
