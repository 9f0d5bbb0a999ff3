package awsevent

// This file is AWSWAFBucket: each line holds one or more JSON objects written
// back to back (Python's raw_decode: no blank between them, none in front);
// every object gets source "waf" and its httpRequest.headers list becomes an
// object that keeps only the standard header names.

// wafHeaders is the module's list of header names kept (compared lowercased).
var wafHeaders = func() map[string]bool {
	m := map[string]bool{}
	for _, h := range [...]string{"a-im", "accept", "accept-charset", "accept-encoding", "accept-language",
		"access-control-request-method", "access-control-request-headers", "authorization",
		"cache-control", "connection", "content-encoding", "content-length", "content-type",
		"cookie", "date", "expect", "forwarded", "from", "host", "http2-settings", "if-match",
		"if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "max-forwards",
		"origin", "pragma", "prefer", "proxy-authorization", "range", "referer", "te", "trailer",
		"transfer-encoding", "user-agent", "upgrade", "via", "warning", "x-requested-with",
		"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"} {
		m[h] = true
	}
	return m
}()

// standardHeader reports whether Python's name.lower() is in the module's
// list. Only ASCII letters and KELVIN SIGN (lowercased to "k") can lower to
// ASCII; anything else cannot match.
func standardHeader(name []byte, scratch *[]byte) bool {
	buf := (*scratch)[:0]
	defer func() { *scratch = buf }()
	for i := 0; i < len(name); {
		c := name[i]
		if c < 0x80 {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
			i++
			continue
		}
		r, n := decodeWTF8(name, i)
		if r != 0x212A {
			return false
		}
		buf = append(buf, 'k')
		i = n
	}
	return wafHeaders[string(buf)]
}

// wafValue parses the JSON value at the start of data (no leading blank, as
// raw_decode) and converts it. It returns the length of the value; n < 0 when
// no value could be read (the module drops the rest of the line).
func (r *ObjectReader) wafValue(data []byte) (length, events int, err error) {
	e := &r.enc
	p := &e.p
	p.reset(data)
	root, end, err := p.value(0, 0)
	if err != nil {
		p.src = nil
		return -1, 0, err
	}
	p.src = nil
	p.src = e.own(data[:end])
	if p.nodes[root].kind != kObj {
		return end, 0, pyErr(errPyType, "'%s' object does not support item assignment (WAF record)", p.typeName(root))
	}
	p.setSourceRaw(root, []byte(`"waf"`))
	if err := r.wafHeaders(root); err != nil {
		return end, 0, err
	}
	p.removeNone(root)
	aws := p.awsObject(root, r.logInfo)
	if err := p.reformatBase(aws); err != nil {
		return end, 0, err
	}
	if err := p.customReformat(aws, false); err != nil {
		return end, 0, err
	}
	r.setSingle(aws)
	return end, 1, nil
}

// wafHeaders rebuilds httpRequest.headers. A KeyError or TypeError leaves the
// record as it was (the module logs it and, with skip_on_error, still sends
// the event); a header name that is not a string stops the module.
func (r *ObjectReader) wafHeaders(root int32) error {
	p := &r.enc.p
	hr, err := p.pyGet(root, "httpRequest")
	if err != nil {
		return nil
	}
	hs, err := p.pyGet(hr, "headers")
	if err != nil {
		return nil
	}
	if r.iter, err = p.pyIter(r.iter[:0], hs); err != nil {
		return nil
	}
	h := p.newContainer(kObj)
	last := int32(-1)
	r.hdrIndexed = false
	for _, el := range r.iter {
		nm, err := p.pyGet(el, "name")
		if err != nil {
			return nil
		}
		if p.nodes[nm].kind != kStr {
			return pyErr(errPyAttr, "'%s' object has no attribute 'lower' (WAF header name)", p.typeName(nm))
		}
		name := p.str(nm, &r.enc.tmp)
		if !standardHeader(name, &r.text) {
			continue
		}
		v, err := p.pyGet(el, "value")
		if err != nil {
			return nil
		}
		if m := r.header(h, name); m >= 0 {
			p.takeValue(m, v)
			continue
		}
		c := p.clone(v)
		nd := p.nodes[nm]
		p.setKey(c, int(nd.off), int(nd.end), nd.flags&fPlain != 0)
		p.link(h, &last, c)
		if r.hdrIndexed {
			r.hdrIndex[string(p.key(&p.nodes[c]))] = c
		}
	}
	p.takeValue(hs, h)
	return nil
}

// header finds the member of the headers object h named name. Past 32
// members an index keeps crafted records with many header names linear.
func (r *ObjectReader) header(h int32, name []byte) int32 {
	p := &r.enc.p
	if p.nodes[h].n < 32 {
		return p.memberBytes(h, name)
	}
	if !r.hdrIndexed {
		if r.hdrIndex == nil {
			r.hdrIndex = make(map[string]int32)
		}
		clear(r.hdrIndex)
		r.hdrIndexed = true
		for c := p.nodes[h].first; c >= 0; c = p.nodes[c].next {
			r.hdrIndex[string(p.key(&p.nodes[c]))] = c
		}
	}
	if m, ok := r.hdrIndex[string(name)]; ok {
		return m
	}
	return -1
}
