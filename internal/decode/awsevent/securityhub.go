package awsevent

// This file is the security_hub subscriber (AWSSecurityHubSubscriberBucket):
// each EventBridge envelope becomes {"source": "securityhub", "detail_type":
// <detail-type>, "finding": <finding>, <action and insight fields>}, with null
// members removed and no other reshaping, after a log_info block without the
// account alias.

// securityHubFields are the detail members copied, in the module's order.
var securityHubFields = [...]string{"findings", "actionName", "actionDescription", "insightName", "insightArn", "resultType", "insightResults"}

// securityHubRecord reads one envelope and returns how many events it gives:
// one per finding (only the first with Options.SecurityHubFirstFindingOnly,
// as the module does), or one when the detail has no findings.
func (r *ObjectReader) securityHubRecord(rec []byte) (int, error) {
	e := &r.enc
	p := &e.p
	root, err := e.parseOwned(rec)
	if err != nil {
		return 0, err
	}
	d, err := p.pyGet(root, "detail")
	if err != nil {
		return 0, err
	}
	dt, err := p.pyGet(root, "detail-type")
	if err != nil {
		return 0, err
	}
	r.shType, r.shFields, r.parts = dt, r.shFields[:0], r.parts[:0]
	findings := false
	for _, k := range securityHubFields {
		in, err := p.pyIn(d, k)
		if err != nil {
			return 0, err
		}
		if !in {
			continue
		}
		v, err := p.pyGet(d, k)
		if err != nil {
			return 0, err
		}
		if k != "findings" {
			r.shFields = append(r.shFields, v)
			continue
		}
		findings = true
		if r.parts, err = p.findingList(r.parts, v, r.opt.SecurityHubFirstFindingOnly); err != nil {
			return 0, err
		}
	}
	r.pmode = partSecurityHub
	if !findings {
		r.parts = append(r.parts, -1)
	}
	return len(r.parts), nil
}

// findingList appends the findings to send: the module takes findings[0].
func (p *parser) findingList(dst []int32, v int32, firstOnly bool) ([]int32, error) {
	nd := p.nodes[v]
	switch nd.kind {
	case kArr:
		if nd.n == 0 {
			return dst, pyErr(errPyIndex, "list index out of range (detail.findings is empty)")
		}
		for c := nd.first; c >= 0; c = p.nodes[c].next {
			dst = append(dst, c)
			if firstOnly {
				break
			}
		}
		return dst, nil
	case kStr:
		if nd.end == nd.off {
			return dst, pyErr(errPyIndex, "string index out of range (detail.findings)")
		}
		chars, err := p.pyIter(nil, v)
		return append(dst, chars[0]), err
	case kObj:
		return dst, pyErr(errPyKey, "0 (detail.findings is an object)")
	}
	return dst, pyErr(errPyType, "'%s' object is not subscriptable (detail.findings)", p.typeName(v))
}

// securityHubEvent builds the event for finding f (-1: none) of the current
// envelope.
func (r *ObjectReader) securityHubEvent(f int32) int32 {
	p := &r.enc.p
	aws := p.newContainer(kObj)
	last := int32(-1)
	add := func(k string, v int32) {
		p.setKeyLit(v, k)
		p.link(aws, &last, v)
	}
	add("log_info", p.rawNode(r.shLogInfo))
	add("source", p.rawNode([]byte(`"securityhub"`)))
	add("detail_type", p.clone(r.shType))
	if f >= 0 {
		add("finding", p.clone(f))
	}
	for _, v := range r.shFields {
		c := p.clone(v)
		p.nodes[c].koff, p.nodes[c].kend = p.nodes[v].koff, p.nodes[v].kend
		p.nodes[c].ckoff, p.nodes[c].ckend = p.nodes[v].ckoff, p.nodes[v].ckend
		p.nodes[c].flags |= p.nodes[v].flags & (fKeyPlain | fKeyArena)
		p.link(aws, &last, c)
	}
	p.removeNone(aws)
	return aws
}
