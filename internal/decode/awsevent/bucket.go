package awsevent

// This file holds the steps every bucket class of the module applies to a
// JSON record (AWSBucket.get_alert_msg and AWSBucket.reformat_msg), on the
// mutable tree of tree.go.

// appendLogInfo renders the module's log_info block. Bucket types carry the
// account alias; the subscribers (Security Hub) do not.
func appendLogInfo(dst []byte, alias, key, bucket string, withAlias bool) []byte {
	dst = append(dst, '{')
	if withAlias {
		dst = append(dst, `"aws_account_alias": `...)
		dst = AppendTextString(dst, alias)
		dst = append(dst, ", "...)
	}
	dst = append(dst, `"log_file": `...)
	dst = AppendTextString(dst, key)
	dst = append(dst, `, "s3bucket": `...)
	dst = AppendTextString(dst, bucket)
	return append(dst, '}')
}

// setSource does record['source'] = <JSON text js>.
func (p *parser) setSourceRaw(rec int32, js []byte) {
	p.setMember(rec, "source", p.rawNode(js))
}

// awsObject builds msg['aws'] = {'log_info': <template>} updated with record
// rec: the record's own log_info (if any) replaces the template in first
// place, every other member follows in record order. rec's members move to
// the new object.
func (p *parser) awsObject(rec int32, logInfo []byte) int32 {
	aws := p.newContainer(kObj)
	li := int32(-1)
	prev := int32(-1)
	for c := p.nodes[rec].first; c >= 0; c = p.nodes[c].next {
		if string(p.key(&p.nodes[c])) == "log_info" {
			p.unlink(rec, prev, c)
			li = c
			break
		}
		prev = c
	}
	if li < 0 {
		li = p.rawNode(logInfo)
		p.setKeyLit(li, "log_info")
	}
	p.nodes[li].next = p.nodes[rec].first
	p.nodes[aws].first = li
	p.nodes[aws].n = p.nodes[rec].n + 1
	p.nodes[rec].first, p.nodes[rec].n = -1, 0
	return aws
}

// reformatBase is AWSBucket.reformat_msg: unwrap one-element lists, copy an
// IPv4-looking sourceIPAddress to source_ip_address, wrap a non-object tags.
func (p *parser) reformatBase(aws int32) error {
	p.unwrap(aws)
	if m := p.member(aws, "sourceIPAddress"); m >= 0 {
		if p.nodes[m].kind != kStr {
			return pyErr(errPyType, "sourceIPAddress is a %s, re.match needs a string", p.typeName(m))
		}
		nd := p.nodes[m]
		if looksLikeIPv4(p.src[nd.off:nd.end]) {
			p.setMember(aws, "source_ip_address", p.clone(m))
		}
	}
	if m := p.member(aws, "tags"); m >= 0 && p.nodes[m].kind != kObj {
		p.wrapValue(m)
	}
	return nil
}

// wrapValue replaces the value of member m by {"value": <old value>}.
func (p *parser) wrapValue(m int32) {
	w := p.newContainer(kObj)
	p.setMember(w, "value", p.clone(m))
	p.takeValue(m, w)
}

// wrapList replaces the value of member m by [<old value>].
func (p *parser) wrapList(m int32) {
	l := p.newContainer(kArr)
	p.appendChild(l, p.clone(m))
	p.takeValue(m, l)
}

// appendMessage writes {"integration": "aws", "aws": <aws>}.
func (e *Encoder) appendMessage(dst []byte, aws int32) ([]byte, error) {
	e.err = nil
	dst = append(dst, `{"integration": "aws", "aws": `...)
	dst = e.emitNode(dst, &e.p.nodes[aws], false)
	dst = append(dst, '}')
	return dst, e.err
}

// pyDict evaluates Python's dict(v) for a value that is not an object: an
// empty str or list gives {}; a list of pairs (two-element lists, strings of
// two characters, objects of two members) gives their keys and values. Only
// string keys are supported.
func (p *parser) pyDict(v int32) (int32, error) {
	nd := p.nodes[v]
	switch nd.kind {
	case kObj:
		return p.clone(v), nil
	case kStr:
		if nd.end == nd.off {
			return p.newContainer(kObj), nil
		}
		return -1, pyErr(errPyValue, "dictionary update sequence element #0 has length 1; 2 is required")
	case kArr:
	default:
		return -1, pyErr(errPyType, "'%s' object is not iterable", p.typeName(v))
	}
	obj := p.newContainer(kObj)
	i := 0
	for el := nd.first; el >= 0; el, i = p.nodes[el].next, i+1 {
		var pair []int32
		switch p.nodes[el].kind {
		case kArr, kObj, kStr:
			pair, _ = p.pyIter(nil, el)
		default:
			return -1, pyErr(errPyType, "cannot convert dictionary update sequence element #%d to a sequence", i)
		}
		if len(pair) != 2 {
			return -1, pyErr(errPyValue, "dictionary update sequence element #%d has length %d; 2 is required", i, len(pair))
		}
		k, val := p.nodes[pair[0]], pair[1]
		if k.kind != kStr {
			return -1, pyErr(errPyType, "dictionary key of type '%s' is not supported", p.typeName(pair[0]))
		}
		var tmp []byte
		if m := p.memberBytes(obj, p.str(pair[0], &tmp)); m >= 0 {
			p.takeValue(m, val)
			continue
		}
		c := p.clone(val)
		p.setKey(c, int(k.off), int(k.end), k.flags&fPlain != 0)
		p.appendChild(obj, c)
	}
	return obj, nil
}
