package awsevent

import (
	"bytes"
	"unicode/utf8"
)

// elbKeys are the keys of the load balancers' ip:port splits.
type elbKeys struct {
	clientPort, targetPort, targetPortList, clientIP, targetIP, targetIPList, destPort, destIP int32
}

func (r *ObjectReader) setELBKeys() {
	t := &r.t
	r.ek = elbKeys{
		clientPort: t.key("client_port", false), targetPort: t.key("target_port", false),
		targetPortList: t.key("target_port_list", false), clientIP: t.key("client_ip", false),
		targetIP: t.key("target_ip", false), targetIPList: t.key("target_ip_list", false),
		destPort: t.key("destination_port", false), destIP: t.key("destination_ip", false),
	}
}

// elbRecord builds the dict of a load balancer access log line.
func (r *ObjectReader) elbRecord() error {
	t := &r.t
	r.csvColumns()
	t.set(r.tk.source, vConst, r.srcConst[0], r.srcConst[1])
	switch r.typ {
	case ALB:
		k := &r.ek
		for _, f := range [3][2]int32{{k.clientPort, k.clientIP}, {k.targetPort, k.targetIP}, {k.targetPortList, k.targetIPList}} {
			if err := r.albSplit(f[0], f[1]); err != nil {
				return err
			}
		}
	case NLB:
		if err := r.nlbSplit(); err != nil {
			return err
		}
	}
	t.removeNone()
	t.reformat(&r.tk)
	return nil
}

// albSplit turns "ip:port ip:port" into the ports (in place) and the
// addresses (under ipKey). A part without ':' leaves both untouched.
func (r *ObjectReader) albSplit(portKey, ipKey int32) error {
	t := &r.t
	e := t.get(portKey)
	if e.kind == vNone {
		return pyErr(errPyAttr, "'NoneType' object has no attribute 'split' (%s)", t.keys[portKey].name)
	}
	v := t.str(e)
	ports, ips := r.scratch[:0], r.scratch2[:0]
	r.items = pyFields(v, r.items[:0])
	for _, item := range r.items {
		part := v[item.off:item.end]
		c := bytes.IndexByte(part, ':')
		if c < 0 {
			return nil // IndexError, logged by the module
		}
		second := part[c+1:]
		if d := bytes.IndexByte(second, ':'); d >= 0 {
			second = second[:d]
		}
		if len(ips) > 0 {
			ips, ports = append(ips, ' '), append(ports, ' ')
		}
		ips, ports = append(ips, part[:c]...), append(ports, second...)
	}
	r.scratch, r.scratch2 = ports, ips
	a, b := t.addText(pyTrim(ports))
	t.set(portKey, vStr, a, b)
	a, b = t.addText(pyTrim(ips))
	t.set(ipKey, vStr, a, b)
	return nil
}

// nlbSplit splits client_port and destination_port "ip:port" values; when one
// is not exactly two parts, client_ip and destination_ip take the current
// port values.
func (r *ObjectReader) nlbSplit() error {
	t := &r.t
	k := &r.ek
	split := func(portKey, ipKey int32) (bool, error) {
		e := t.get(portKey)
		if e.kind == vNone {
			return false, pyErr(errPyAttr, "'NoneType' object has no attribute 'split' (%s)", t.keys[portKey].name)
		}
		v := t.str(e)
		c := bytes.IndexByte(v, ':')
		if c < 0 || bytes.IndexByte(v[c+1:], ':') >= 0 {
			return false, nil // ValueError
		}
		a, b := e.a, e.b
		t.set(ipKey, vStr, a, a+int32(c))
		t.set(portKey, vStr, a+int32(c)+1, b)
		return true, nil
	}
	ok, err := split(k.clientPort, k.clientIP)
	if err == nil && ok {
		ok, err = split(k.destPort, k.destIP)
	}
	if err != nil || ok {
		return err
	}
	cp, dp := t.get(k.clientPort), t.get(k.destPort)
	t.set(k.clientIP, cp.kind, cp.a, cp.b)
	t.set(k.destIP, dp.kind, dp.a, dp.b)
	return nil
}

// pyFields splits s like Python's str.split() (runs of whitespace).
func pyFields(s []byte, dst []span) []span {
	start := -1
	for i := 0; i < len(s); {
		var space bool
		n := 1
		if c := s[i]; c < utf8.RuneSelf {
			space = c == ' ' || c >= '\t' && c <= '\r' || c >= 0x1c && c <= 0x1f
		} else {
			var r rune
			r, n = utf8.DecodeRune(s[i:])
			space = pyIsSpace(r)
		}
		if space {
			if start >= 0 {
				dst = append(dst, span{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
		i += n
	}
	if start >= 0 {
		dst = append(dst, span{start, len(s)})
	}
	return dst
}

// s3Tokens splits a server access log line with the module's tokenizer: the
// line (with its "\n") is cut at every single space; a token opening with "["
// or a quote is joined with the following ones up to one that closes it
// ("]" or '"', also for a single quote), and the delimiters are then dropped;
// a token that both opens and closes with a quote loses them. An empty token
// ends the line. Values are appended to buf.
func s3Tokens(line []byte, term bool, buf []byte, vals []span) ([]byte, []span, bool) {
	i := 0
	// next returns the next token; nl reports the line's "\n" at its end.
	next := func() (tok []byte, nl, ok bool) {
		if i > len(line) {
			return nil, false, false
		}
		if j := bytes.IndexByte(line[i:], ' '); j >= 0 {
			tok, i = line[i:i+j], i+j+1
			return tok, false, true
		}
		tok, i = line[i:], len(line)+1
		return tok, term, true
	}
	add := func(tok []byte, nl bool) {
		buf = append(buf, tok...)
		if nl {
			buf = append(buf, '\n')
		}
	}
	ends := func(tok []byte, nl bool) (first, last byte) {
		if nl {
			last = '\n'
		} else {
			last = tok[len(tok)-1]
		}
		if len(tok) > 0 {
			first = tok[0]
		} else {
			first = '\n'
		}
		return first, last
	}
	for tok, nl, ok := next(); ok && (len(tok) > 0 || nl); tok, nl, ok = next() {
		start := len(buf)
		add(tok, nl)
		first, last := ends(tok, nl)
		switch {
		case first == '[' && last != ']', first == '"' && last != '"', first == '\'' && last != '\'':
			delim := byte('"')
			if first == '[' {
				delim = ']'
			}
			for nx, nnl, ok := next(); ok && (len(nx) > 0 || nnl); nx, nnl, ok = next() {
				buf = append(buf, ' ')
				add(nx, nnl)
				if _, l := ends(nx, nnl); l == delim {
					start++
					buf = buf[:len(buf)-1]
					break
				}
			}
		case first == '"' || first == '\'':
			if len(buf)-start < 2 {
				buf = buf[:start]
			} else {
				start++
				buf = buf[:len(buf)-1]
			}
		}
		vals = append(vals, span{start, len(buf)})
	}
	if len(vals) == 0 {
		return buf, vals, false
	}
	// value_list[-1].replace("\n", "")
	lastv := &vals[len(vals)-1]
	out := lastv.off
	for j := lastv.off; j < lastv.end; j++ {
		if buf[j] != '\n' {
			buf[out] = buf[j]
			out++
		}
	}
	lastv.end = out
	buf = buf[:out]
	return buf, vals, true
}

// s3Record builds the dict of a server access log line: the first 24 values.
func (r *ObjectReader) s3Record(line []byte, term bool) error {
	t := &r.t
	buf, vals, ok := s3Tokens(line, term, r.csv.buf[:0], r.items[:0])
	r.csv.buf, r.items = buf, vals
	if !ok {
		return pyErr(errPyIndex, "list index out of range (line starts with a space)")
	}
	t.reset(buf)
	for i, v := range vals {
		if i == len(r.cols) {
			break
		}
		t.set(r.cols[i], vStr, int32(v.off), int32(v.end))
	}
	t.set(r.tk.source, vConst, r.srcConst[0], r.srcConst[1])
	t.reformat(&r.tk)
	return nil
}
