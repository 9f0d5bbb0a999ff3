package awsevent

// This file is AWSGuardDutyBucket: native exports (.jsonl.gz, one finding per
// line, source = service.serviceName) and its reformat_msg, which sends one
// event per port probe detail when a finding has several, without any of the
// generic reshaping.

// guardDutyLine converts one line of a native export.
func (r *ObjectReader) guardDutyLine(line []byte) (int, error) {
	e := &r.enc
	p := &e.p
	root, err := e.parseOwned(line)
	if err != nil {
		return 0, err
	}
	if p.nodes[root].kind != kObj {
		return 0, pyErr(errPyValue, "finding is a %s, not an object", p.typeName(root))
	}
	svc, err := p.pyGet(root, "service")
	if err != nil {
		return 0, err
	}
	sn, err := p.pyGet(svc, "serviceName")
	if err != nil {
		return 0, err
	}
	src := p.setMember(root, "source", p.clone(sn))
	p.removeNone(root)
	if p.nodes[sn].kind == kObj {
		// source and service.serviceName are one dict in Python: take its
		// cleaned members again.
		p.takeValue(src, sn)
	}
	aws := p.awsObject(root, r.logInfo)
	var isGD bool
	if m := p.member(aws, "source"); m < 0 {
		return 0, pyErr(errPyKey, "'source' (service.serviceName is null)")
	} else {
		isGD = p.strIs(m, "guardduty")
	}
	return r.guardDutyReformat(aws, isGD)
}

// guardDutyReformat is AWSGuardDutyBucket.reformat_msg.
func (r *ObjectReader) guardDutyReformat(aws int32, isGD bool) (int, error) {
	p := &r.enc.p
	if isGD {
		ppd, err := p.portProbeDetails(aws)
		if err != nil {
			return 0, err
		}
		if ppd >= 0 {
			n, err := p.pyLen(ppd)
			if err != nil {
				return 0, err
			}
			if n > 1 {
				if r.parts, err = p.pyIter(r.parts[:0], ppd); err != nil {
					return 0, err
				}
				r.aws, r.partMember, r.pmode = aws, ppd, partSplit
				return len(r.parts), nil
			}
		}
	}
	if err := p.reformatBase(aws); err != nil {
		return 0, err
	}
	r.setSingle(aws)
	return 1, nil
}

// portProbeDetails walks service.action.portProbeAction.portProbeDetails with
// Python's `in` and indexing, returning the member or -1 when a step is absent.
func (p *parser) portProbeDetails(aws int32) (int32, error) {
	v := p.member(aws, "service")
	if v < 0 {
		return -1, nil
	}
	for _, k := range [...]string{"action", "portProbeAction", "portProbeDetails"} {
		in, err := p.pyIn(v, k)
		if err != nil || !in {
			return -1, err
		}
		if v, err = p.pyGet(v, k); err != nil {
			return -1, err
		}
	}
	return v, nil
}
