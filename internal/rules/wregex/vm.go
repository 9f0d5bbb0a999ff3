package wregex

// The general OS_Regex matcher. It runs the same state machine as
// reference.go, but over pre-decoded elements (class tables, quantifier and
// the §1.4 "tail" condition resolved at compile time), with a literal
// prefilter and a fast skip to the next position where an attempt can start.
// Any behavioural difference from refRun is a bug; FuzzCompileRegex and
// TestDifferential compare the two.

const (
	ekEnd uint8 = iota
	ekLit
	ekClass
	ekMark
)

type vmElem struct {
	kind  uint8
	quant uint8 // 0, '+' or '*' (classes only)
	lit   byte  // literal byte; '(' for markers, which compare as '(' in step C
	tail  bool  // class followed by nothing or by exactly one more program byte
	mark  int   // marker number (markers only)
	set   byteSet
}

type vmAlt struct {
	elems []vmElem // always ends with an ekEnd element
	begin bool
	end   bool
	// lead is the index of the first non-marker element when an attempt can
	// only start at a byte that element accepts (literal, or class with no
	// quantifier or '+'); -1 otherwise.
	lead int
	// leadRun is the run of literals starting at lead when it has two or
	// more bytes: an attempt that does not match all of them fails without
	// side effects, so the scan can jump to the run's next occurrence.
	leadRun foldSearcher
	need    foldSearcher // literal that every match must contain (may be empty)
}

func newVMAlt(a *regexAlt) vmAlt {
	P := a.prog
	var v vmAlt
	v.begin, v.end = a.begin, a.end
	for p := 0; p < len(P); {
		switch P[p] {
		case escByte:
			e := vmElem{kind: ekClass, set: classSets[P[p+1]]}
			next := p + 2
			if q := refAt(P, next); q == '+' || q == '*' {
				e.quant = q
				next++
			}
			e.tail = p+2 >= len(P) || p+3 >= len(P)
			v.elems = append(v.elems, e)
			p = next
		case markByte:
			v.elems = append(v.elems, vmElem{kind: ekMark, lit: markByte, mark: a.markAt[p]})
			p++
		default:
			v.elems = append(v.elems, vmElem{kind: ekLit, lit: P[p]})
			p++
		}
	}
	v.elems = append(v.elems, vmElem{kind: ekEnd})

	v.lead = -1
	if !v.begin {
		l := 0
		if v.elems[0].kind == ekMark {
			l = 1
		}
		if e := v.elems[l]; e.kind == ekLit || (e.kind == ekClass && e.quant != '*') {
			v.lead = l
		}
		var run []byte
		for k := l; v.lead >= 0 && v.elems[k].kind == ekLit; k++ {
			run = append(run, v.elems[k].lit)
		}
		if len(run) >= 2 {
			v.leadRun = newFoldSearcher(run)
		}
	}
	need := requiredLiteral(v.elems)
	if string(need) == string(v.leadRun.needle) {
		need = nil // the lead-run skip already looks for it
	}
	v.need = newFoldSearcher(need)
	return v
}

// requiredLiteral returns the longest run of adjacent literal elements that
// any successful match must have consumed. Literals are only ever passed by
// consuming an equal input byte, and the elements of a run are consumed at
// consecutive input positions. The one exception is a final literal that
// directly follows an unquantified class: the class's "tail" rule can return
// before that literal is compared, so it is left out.
func requiredLiteral(el []vmElem) []byte {
	stop := len(el) - 1 // index of ekEnd
	if stop >= 2 && el[stop-1].kind == ekLit && el[stop-2].kind == ekClass && el[stop-2].quant == 0 {
		stop--
	}
	var best []byte
	for i := 0; i < stop; {
		if el[i].kind != ekLit {
			i++
			continue
		}
		j := i
		var run []byte
		for j < stop && el[j].kind == ekLit {
			run = append(run, el[j].lit)
			j++
		}
		if len(run) > len(best) {
			best = run
		}
		i = j
	}
	if len(best) < 2 {
		return nil
	}
	return best
}

// skipTo returns the first index >= i where an attempt can get past the
// lead element (or its literal run), or len(s).
func (v *vmAlt) skipTo(s []byte, i int, bf *byteFinder) int {
	if len(v.leadRun.needle) > 0 {
		if k := v.leadRun.index(s[i:]); k >= 0 {
			return i + k
		}
		return len(s)
	}
	e := &v.elems[v.lead]
	if e.kind == ekLit {
		return bf.next(s, i)
	}
	for i < len(s) && !e.set.has(s[i]) {
		i++
	}
	return i
}

// run executes the alternative over s (cut at NUL). caps is nil when
// captures are not wanted, else it has one slot per marker, all -1.
func (v *vmAlt) run(s []byte, caps []int) int {
	if len(v.need.needle) > 0 && v.need.index(s) < 0 {
		return noPos
	}
	el := v.elems
	n := len(s)
	p, i, last := 0, 0, 0
	rep := false
	restart := noPos
	var saveP, saveI [4]int
	nsaved := 0

	var bf byteFinder
	if v.lead >= 0 {
		if e := &el[v.lead]; e.kind == ekLit {
			bf = newByteFinder(e.lit)
		}
		// An attempt whose lead element rejects the byte fails straight
		// away: no save points, no restart position, so the next attempt
		// starts one byte later with "last" unset. The only other effect,
		// a leading marker's start, is rewritten when the attempt that
		// gets further passes the marker again (or at end of input), so
		// jumping to the next byte the lead accepts changes nothing.
		if j := v.skipTo(s, 0, &bf); j > 0 {
			i, last = j, noPos
		}
	}

	for i < n {
		e := &el[p]
		if e.kind == ekEnd {
			if !v.end {
				return last
			}
		} else if e.kind == ekMark {
			if caps != nil {
				caps[e.mark] = i
			}
			p++
			e = &el[p]
			if e.kind == ekEnd && !v.end {
				return last
			}
		}
		c := s[i]
		switch e.kind {
		case ekClass:
			if e.set.has(c) {
				if e.quant == 0 {
					p++
					if restart == noPos {
						restart = i
					}
					last = i
					i++
					continue
				}
				if e.quant == '*' {
					rep = true
				}
				if rep {
					nx, g := p+1, -1
					if el[nx].kind == ekMark {
						g = nx
						nx++
					}
					ne := &el[nx]
					switch ne.kind {
					case ekEnd:
						// Nothing to hand over to: the repeat stays
						// put and only the group end moves. Every
						// further byte the class accepts takes this
						// same branch, so take them all at once.
						j := i + 1
						for j < n && e.set.has(s[j]) {
							j++
						}
						if g >= 0 && caps != nil {
							caps[el[g].mark] = j
						}
						i = j
						continue
					case ekClass:
						if ne.set.has(c) {
							if g >= 0 && caps != nil {
								caps[el[g].mark] = i
							}
							if nsaved < 4 {
								saveP[nsaved], saveI[nsaved] = p, i
								nsaved++
							}
							if ne.quant != 0 {
								p = nx
							} else {
								p = nx + 1
							}
						}
					default: // literal, or a second marker acting as '('
						if ne.lit == lowerTab[c] {
							rep = false
							if g >= 0 && caps != nil {
								caps[el[g].mark] = i
							}
							if nsaved < 4 {
								saveP[nsaved], saveI[nsaved] = p, i
								nsaved++
							}
							p = nx + 1
						}
					}
					last = i
					i++
					continue
				}
				// First byte of a '+' repeat.
				if caps != nil && el[p+1].kind == ekMark {
					if i == n-1 {
						caps[el[p+1].mark] = i + 1
					} else {
						caps[el[p+1].mark] = i
					}
				}
				rep = true
				last = i
				i++
				continue
			}
			if e.tail && rep && last != noPos {
				last = i
				if !v.end {
					return last
				}
				rep = false
				break
			}
			if e.quant == '+' && rep {
				p++
				rep = false
				continue
			}
			if e.quant == '*' {
				p++
				last = i - 1
				rep = false
				continue
			}
			rep = false
		case ekLit, ekMark:
			if e.lit == lowerTab[c] {
				p++
				if restart == noPos {
					restart = i
				}
				last = i
				i++
				continue
			}
		}
		// Failure.
		if nsaved > 0 {
			nsaved--
			p, i = saveP[nsaved], saveI[nsaved]+1
			continue
		}
		if v.begin {
			return noPos
		}
		if restart != noPos {
			i = restart
			restart = noPos
		}
		p = 0
		last = noPos
		i++
		if v.lead >= 0 && !rep && i < n {
			i = v.skipTo(s, i, &bf)
		}
	}
	return v.finish(p, rep, last, n, caps)
}

// finish applies the end-of-input success tests (§1.4 T1-T3). Byte-level
// cursor moves are expressed on elements; atQuant marks the one position a
// byte cursor can reach that is not an element start (the '+' of a class).
func (v *vmAlt) finish(p int, rep bool, last, n int, caps []int) int {
	el := v.elems
	if caps != nil {
		for el[p].kind == ekClass && el[p].quant == '*' {
			p++
		}
		if el[p].kind == ekMark {
			caps[el[p].mark] = n
		}
	}
	skipMark := func(p int) int {
		if el[p].kind == ekMark {
			return p + 1
		}
		return p
	}
	p = skipMark(p)
	if el[p].kind == ekEnd {
		return last
	}
	atQuant := false
	if el[p].kind == ekClass && rep {
		if el[p].quant == 0 {
			p++
		} else {
			p = skipMark(p + 1)
			if el[p].kind == ekEnd {
				return last
			}
			if el[p].kind == ekClass {
				switch el[p].quant {
				case '*':
					p = skipMark(p + 1)
					if el[p].kind == ekEnd {
						return last
					}
				case '+':
					atQuant = true
				default:
					p++
				}
			}
		}
	}
	if !atQuant && el[p].kind == ekClass && el[p].quant == '*' {
		p = skipMark(p + 1)
		if el[p].kind == ekEnd {
			return last
		}
	}
	return noPos
}
