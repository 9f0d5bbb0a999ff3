package awsevent

// This file writes parsed values back out as Python's json.dumps would after
// the module's generic reshaping. Two contexts exist:
//
//   - dict context: an object reached from the record root through objects
//     only. The module deletes its null members and replaces its one-element
//     array members by their element.
//   - raw context: anything inside an array, or an element that was just
//     unwrapped. The module's recursion never gets there, so it is unchanged.

// emit appends node id; dict selects the dict context for objects.
func (e *Encoder) emit(dst []byte, id int32, dict bool) []byte {
	return e.emitNode(dst, &e.p.nodes[id], dict)
}

func (e *Encoder) emitNode(dst []byte, nd *node, dict bool) []byte {
	switch nd.kind {
	case kArr:
		return e.emitArray(dst, nd)
	case kObj:
		return e.emitObject(dst, nd, dict)
	}
	return e.emitScalar(dst, nd)
}

// emitScalar appends a string, number or literal. Plain strings and integers,
// the bulk of a record, are copied without a call.
func (e *Encoder) emitScalar(dst []byte, nd *node) []byte {
	switch nd.kind {
	case kStr:
		if nd.flags&fPlain != 0 {
			dst = append(dst, '"')
			dst = append(dst, e.p.src[nd.off:nd.end]...)
			return append(dst, '"')
		}
		return appendJSONString(dst, e.p.src[nd.off:nd.end], false)
	case kNum:
		if nd.flags&fFloat == 0 {
			return appendInt(dst, e.p.src[nd.off:nd.end])
		}
		out, err := appendNumber(dst, e.p.src[nd.off:nd.end], true)
		if err != nil && e.err == nil {
			e.err = err
		}
		return out
	case kTrue:
		return append(dst, "true"...)
	case kFalse:
		return append(dst, "false"...)
	case kRaw:
		return append(dst, e.p.src[nd.off:nd.end]...)
	}
	return append(dst, "null"...)
}

func (e *Encoder) emitArray(dst []byte, nd *node) []byte {
	nodes := e.p.nodes
	dst = append(dst, '[')
	for c := nd.first; c >= 0; c = nodes[c].next {
		if c != nd.first {
			dst = append(dst, ',', ' ')
		}
		dst = e.emitNode(dst, &nodes[c], false)
	}
	return append(dst, ']')
}

// emitObject appends an object; in dict context null members are skipped and
// one-element array members replaced by their element.
func (e *Encoder) emitObject(dst []byte, nd *node, dict bool) []byte {
	nodes := e.p.nodes
	dst = append(dst, '{')
	sep := false
	for c := nd.first; c >= 0; c = nodes[c].next {
		m := &nodes[c]
		if dict && m.kind == kNull {
			continue
		}
		if sep {
			dst = append(dst, ',', ' ')
		}
		sep = true
		dst = e.appendKey(dst, m)
		v, vdict := m, false
		if dict {
			if m.kind == kArr && m.n == 1 {
				v = &nodes[m.first]
			} else {
				vdict = m.kind == kObj
			}
		}
		switch v.kind {
		case kArr:
			dst = e.emitArray(dst, v)
		case kObj:
			dst = e.emitObject(dst, v, vdict)
		default:
			dst = e.emitScalar(dst, v)
		}
	}
	return append(dst, '}')
}

// appendKey appends member m's key and the ": " separator.
func (e *Encoder) appendKey(dst []byte, m *node) []byte {
	if m.flags&fKeyPlain != 0 {
		dst = append(dst, '"')
		dst = append(dst, e.p.src[m.koff:m.kend]...)
		return append(dst, '"', ':', ' ')
	}
	dst = appendJSONString(dst, e.p.src[m.koff:m.kend], false)
	return append(dst, ':', ' ')
}

// emitKey appends member c's key and the ": " separator.
func (e *Encoder) emitKey(dst []byte, c int32) []byte {
	return e.appendKey(dst, &e.p.nodes[c])
}

// effective returns the value the module sees for member c of a dict-context
// object, and whether that value is itself in dict context.
func (e *Encoder) effective(c int32) (int32, bool) {
	nd := &e.p.nodes[c]
	switch {
	case nd.kind == kArr && nd.n == 1:
		return nd.first, false
	case nd.kind == kObj:
		return c, true
	}
	return c, false
}

// emitMember appends the value of member c of a dict-context object.
func (e *Encoder) emitMember(dst []byte, c int32) []byte {
	v, dict := e.effective(c)
	return e.emit(dst, v, dict)
}

// emitStrField appends {"string": str(value)} for a value that is not an object.
func (e *Encoder) emitStrField(dst []byte, v int32) []byte {
	dst = append(dst, `{"string": `...)
	nd := &e.p.nodes[v]
	if nd.kind == kStr {
		// json.dumps(str(s)) is json.dumps(s).
		dst = appendJSONString(dst, e.p.src[nd.off:nd.end], nd.flags&fPlain != 0)
	} else {
		e.text = e.appendRepr(e.text[:0], v)
		dst = appendTextBytes(dst, e.text)
	}
	return append(dst, '}')
}
