package awsevent

import (
	"math"
	"strconv"
)

// This file covers the module's AWSCustomBucket JSON path: Firehose objects of
// concatenated EventBridge envelopes, of which the module keeps `detail` with
// `source` = the envelope's source without "aws." (custom buckets, and
// GuardDuty objects that are not native .jsonl.gz exports), and the custom
// reshaping (Macie summaries, GuardDuty's additionalInfo.unusual).

// macieFields are the summary members the module flattens for Macie.
var macieFields = [...]string{"Bucket", "DLP risk", "IP", "Location", "Object", "Owner", "Themes", "Timestamps", "recipientAccountId"}

// envelopeRecord converts one envelope. It returns the number of events (0 when
// the module drops an envelope without detail).
func (r *ObjectReader) envelopeRecord(rec []byte) (int, error) {
	e := &r.enc
	p := &e.p
	root, err := e.parseOwned(rec)
	if err != nil {
		return 0, err
	}
	in, err := p.pyIn(root, "detail")
	if err != nil || !in {
		return 0, err
	}
	d, err := p.pyGet(root, "detail")
	if err != nil {
		return 0, err
	}
	sm, err := p.pyGet(root, "source")
	if err != nil {
		return 0, err
	}
	if p.nodes[sm].kind != kStr {
		return 0, pyErr(errPyAttr, "'%s' object has no attribute 'replace' (envelope source)", p.typeName(sm))
	}
	r.text = stripAWS(r.text[:0], p.str(sm, &e.tmp))
	obj, err := p.pyDict(d)
	if err != nil {
		return 0, err
	}
	p.setMember(obj, "source", p.textNode(r.text))
	p.removeNone(obj)
	aws := p.awsObject(obj, r.logInfo)
	if r.typ == GuardDuty {
		return r.guardDutyReformat(aws, string(r.text) == "guardduty")
	}
	if err := p.reformatBase(aws); err != nil {
		return 0, err
	}
	if err := p.customReformat(aws, string(r.text) == "macie"); err != nil {
		return 0, err
	}
	r.setSingle(aws)
	return 1, nil
}

// stripAWS appends s with every "aws." removed (Python's s.replace('aws.', ”)).
func stripAWS(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		if i+4 <= len(s) && string(s[i:i+4]) == "aws." {
			i += 4
			continue
		}
		dst = append(dst, s[i])
		i++
	}
	return dst
}

// customReformat is the part of AWSCustomBucket.reformat_msg that follows the
// generic steps.
func (p *parser) customReformat(aws int32, macie bool) error {
	if macie {
		p.removeMember(aws, "trigger")
	}
	if s := p.member(aws, "service"); s >= 0 {
		in, err := p.pyIn(s, "additionalInfo")
		if err != nil || !in {
			return err
		}
		ai, err := p.pyGet(s, "additionalInfo")
		if err != nil {
			return err
		}
		if in, err = p.pyIn(ai, "unusual"); err != nil {
			return err
		}
		if in {
			u, err := p.pyGet(ai, "unusual")
			if err != nil {
				return err
			}
			if p.nodes[u].kind != kObj {
				p.wrapValue(u)
			}
		}
	}
	if macie {
		return p.macieSummary(aws)
	}
	return nil
}

// macieSummary flattens the Macie summary members into lists of dotted paths.
func (p *parser) macieSummary(aws int32) error {
	sm := p.member(aws, "summary")
	if sm < 0 {
		return nil // KeyError, caught by the module
	}
	for _, f := range macieFields {
		v, err := p.pyGet(sm, f)
		if err != nil {
			if p.nodes[sm].kind == kObj {
				continue // KeyError
			}
			return err
		}
		if p.nodes[v].kind == kObj {
			if err := p.replacePaths(v, 1); err != nil {
				return err
			}
		}
	}
	ev := p.member(sm, "Events")
	if ev < 0 {
		return nil
	}
	if err := p.iterableDict(ev); err != nil {
		return err
	}
	for name := p.nodes[ev].first; name >= 0; name = p.nodes[name].next {
		if err := p.iterableDict(name); err != nil {
			return err
		}
		for f := p.nodes[name].first; f >= 0; f = p.nodes[f].next {
			discard := 1
			if string(p.key(&p.nodes[f])) == "count" {
				discard = 0
			}
			if err := p.replacePaths(f, discard); err != nil {
				return err
			}
		}
	}
	return nil
}

// iterableDict accepts what `for k in v: v[k]` survives without a TypeError:
// a dict, or an empty list or string (nothing to iterate).
func (p *parser) iterableDict(v int32) error {
	nd := p.nodes[v]
	if nd.kind == kObj || (nd.kind == kArr && nd.n == 0) || (nd.kind == kStr && nd.end == nd.off) {
		return nil
	}
	return pyErr(errPyType, "cannot iterate and index a %s (Macie summary Events)", p.typeName(v))
}

// replacePaths replaces the value of member m by
// list_paths_from_dict(value, discard_levels=discard).
func (p *parser) replacePaths(m int32, discard int) error {
	var w pathWalk
	w.p, w.discard = p, discard
	w.list = p.newContainer(kArr)
	w.last = -1
	if err := w.walk(m); err != nil {
		return err
	}
	p.takeValue(m, w.list)
	return nil
}

// pathWalk runs list_paths_from_dict: every leaf gives the dotted path of keys
// leading to it plus the leaf (its str(), or a list's elements), less the
// last `discard` parts (all of them when discard is 0, as path[:-0] is empty).
type pathWalk struct {
	p          *parser
	discard    int
	buf        []byte // path parts, back to back
	ends       []int  // end of each part in buf
	nonStr     []bool // part is not a str (join raises TypeError)
	list, last int32  // result list and its last element
	tmp        []byte // decode scratch
}

func (w *pathWalk) push(b []byte, str bool) {
	w.buf = append(w.buf, b...)
	w.ends = append(w.ends, len(w.buf))
	w.nonStr = append(w.nonStr, !str)
}

func (w *pathWalk) pop(n int) {
	w.ends, w.nonStr = w.ends[:len(w.ends)-n], w.nonStr[:len(w.nonStr)-n]
	w.buf = w.buf[:0]
	if len(w.ends) > 0 {
		w.buf = w.buf[:w.ends[len(w.ends)-1]]
	}
}

func (w *pathWalk) walk(v int32) error {
	p := w.p
	nd := p.nodes[v]
	if nd.kind == kObj {
		for c := nd.first; c >= 0; c = p.nodes[c].next {
			w.push(p.key(&p.nodes[c]), true)
			if err := w.walk(c); err != nil {
				return err
			}
			w.pop(1)
		}
		return nil
	}
	added := 0
	if nd.kind == kArr {
		for c := nd.first; c >= 0; c = p.nodes[c].next {
			if p.nodes[c].kind == kStr {
				w.push(p.str(c, &w.tmp), true)
			} else {
				w.push(nil, false)
			}
			added++
		}
	} else {
		w.tmp = p.appendStr(w.tmp[:0], v)
		w.push(w.tmp, true)
		added = 1
	}
	keep := 0
	if w.discard > 0 {
		keep = max(len(w.ends)-w.discard, 0)
	}
	start := 0
	w.tmp = w.tmp[:0]
	for i := 0; i < keep; i++ {
		if w.nonStr[i] {
			return pyErr(errPyType, "sequence item %d: expected str instance (Macie summary path)", i)
		}
		if i > 0 {
			w.tmp = append(w.tmp, '.')
		}
		w.tmp = append(w.tmp, w.buf[start:w.ends[i]]...)
		start = w.ends[i]
	}
	p.link(w.list, &w.last, p.textNode(w.tmp))
	w.pop(added)
	return nil
}

// appendStr appends Python's str() of a scalar node as WTF-8 text.
func (p *parser) appendStr(dst []byte, v int32) []byte {
	nd := p.nodes[v]
	switch nd.kind {
	case kStr:
		return appendDecoded(dst, p.src[nd.off:nd.end])
	case kTrue:
		return append(dst, "True"...)
	case kFalse:
		return append(dst, "False"...)
	case kNull:
		return append(dst, "None"...)
	case kNum:
		lit := p.src[nd.off:nd.end]
		if nd.flags&fFloat == 0 {
			return appendInt(dst, lit)
		}
		f, _ := strconv.ParseFloat(string(lit), 64)
		switch {
		case math.IsInf(f, 1):
			return append(dst, "inf"...)
		case math.IsInf(f, -1):
			return append(dst, "-inf"...)
		}
		return AppendFloatRepr(dst, f)
	}
	return dst
}
