package awsevent

import (
	"math"
	"math/big"
	"strconv"
	"time"
)

// This file is the AWS Config reshaping (AWSConfigBucket.reformat_msg), run
// after the generic steps on msg['aws']['configuration'].

// configRecord converts one configurationItems element into the event.
func (r *ObjectReader) configRecord(rec []byte) (int, error) {
	e := &r.enc
	p := &e.p
	root, err := e.parseOwned(rec)
	if err != nil {
		return 0, err
	}
	if root, err = p.pyDict(root); err != nil {
		return 0, err
	}
	if r.needRecordAccount {
		r.learnAccount(root, "awsAccountId")
	}
	p.setSourceRaw(root, []byte(`"config"`))
	p.removeNone(root)
	aws := p.awsObject(root, r.logInfo)
	p.setMember(aws, "aws_account_id", p.rawNode(r.acctJSON))
	if err := p.reformatBase(aws); err != nil {
		return 0, err
	}
	if err := p.configReshape(aws); err != nil {
		return 0, err
	}
	r.setSingle(aws)
	return 1, nil
}

// configReshape applies the Config-specific changes to configuration.
func (p *parser) configReshape(aws int32) error {
	cfg := p.member(aws, "configuration")
	if cfg < 0 {
		return nil
	}
	switch p.nodes[cfg].kind {
	case kObj:
	case kStr:
		if p.nodes[cfg].end > p.nodes[cfg].off {
			return pyErr(errPyType, "configuration is a string: string indices must be integers")
		}
		return nil
	case kArr:
		// `for key in configuration: configuration[key]` only survives a list of
		// in-range integers, and then changes nothing.
		n := int64(p.nodes[cfg].n)
		for c := p.nodes[cfg].first; c >= 0; c = p.nodes[c].next {
			if !p.validIndex(c, n) {
				return pyErr(errPyType, "configuration is a list that cannot be indexed by its elements")
			}
		}
		return nil
	default:
		return pyErr(errPyType, "'%s' object is not iterable (configuration)", p.typeName(cfg))
	}
	for c := p.nodes[cfg].first; c >= 0; c = p.nodes[c].next {
		if p.nodes[c].kind != kObj {
			continue
		}
		content := p.member(c, "Content")
		if content < 0 {
			continue
		}
		if p.nodes[content].kind != kObj {
			return pyErr(errPyAttr, "'%s' object has no attribute 'keys' (configuration.%s.Content)", p.typeName(content), p.key(&p.nodes[c]))
		}
		keys := p.newContainer(kArr)
		last := int32(-1)
		for k := p.nodes[content].first; k >= 0; k = p.nodes[k].next {
			kn := p.nodes[k]
			s := p.newNode(kStr)
			p.nodes[s].off, p.nodes[s].end = kn.koff, kn.kend
			if kn.flags&fKeyPlain != 0 {
				p.nodes[s].flags |= fPlain
			}
			p.link(keys, &last, s)
		}
		p.takeValue(content, keys)
	}
	if m := p.member(cfg, "securityGroups"); m >= 0 {
		if err := p.groupLists(m, "groupId", "groupName", "groupId"); err != nil {
			return err
		}
	}
	if m := p.member(cfg, "availabilityZones"); m >= 0 {
		if err := p.groupLists(m, "subnetId", "zoneName", "zoneName"); err != nil {
			return err
		}
	}
	if m := p.member(cfg, "state"); m >= 0 && p.nodes[m].kind == kStr {
		p.wrapNamed(m, "name")
	}
	if m := p.member(cfg, "createdTime"); m >= 0 {
		if err := p.createdTime(m); err != nil {
			return err
		}
	}
	if m := p.member(cfg, "iamInstanceProfile"); m >= 0 && p.nodes[m].kind == kStr {
		p.wrapNamed(m, "name")
	}
	return nil
}

// validIndex reports whether node c is an int (or bool) usable as an index of
// a list of n elements.
func (p *parser) validIndex(c int32, n int64) bool {
	nd := p.nodes[c]
	switch {
	case nd.kind == kTrue:
		return n > 1
	case nd.kind == kFalse:
		return n > 0
	case nd.kind == kNum && nd.flags&fFloat == 0:
		i, err := strconv.ParseInt(string(p.src[nd.off:nd.end]), 10, 64)
		return err == nil && i >= -n && i < n
	}
	return false
}

// wrapNamed replaces the value of member m by {name: <old value>} (state,
// iamInstanceProfile).
func (p *parser) wrapNamed(m int32, name string) {
	w := p.newContainer(kObj)
	p.setMember(w, name, p.clone(m))
	p.takeValue(m, w)
}

// groupLists reshapes securityGroups / availabilityZones: a string becomes
// {strKey: [s]}, a list of objects {a: [..], b: [..]} (empty lists left out),
// an object {k: [v], ...}; other types are left alone.
func (p *parser) groupLists(m int32, a, b, strKey string) error {
	switch p.nodes[m].kind {
	case kStr:
		w := p.newContainer(kObj)
		v := p.setMember(w, strKey, p.clone(m))
		p.wrapList(v)
		p.takeValue(m, w)
	case kArr:
		w := p.newContainer(kObj)
		for _, k := range [2]string{a, b} {
			l := p.newContainer(kArr)
			last := int32(-1)
			for el := p.nodes[m].first; el >= 0; el = p.nodes[el].next {
				in, err := p.pyIn(el, k)
				if err != nil {
					return err
				}
				if !in {
					continue
				}
				v, err := p.pyGet(el, k)
				if err != nil {
					return err
				}
				p.link(l, &last, p.clone(v))
			}
			if p.nodes[l].n > 0 {
				p.setMember(w, k, l)
			}
		}
		p.takeValue(m, w)
	case kObj:
		for c := p.nodes[m].first; c >= 0; c = p.nodes[c].next {
			p.wrapList(c)
		}
	}
	return nil
}

// createdTime does float(x) for numbers and converts a
// "%Y-%m-%dT%H:%M:%S.%fZ" string with time.mktime, as on a manager whose
// local time is UTC; anything else is left alone.
func (p *parser) createdTime(m int32) error {
	nd := p.nodes[m]
	var f float64
	switch nd.kind {
	case kTrue:
		f = 1
	case kFalse:
		f = 0
	case kNum:
		lit := string(p.src[nd.off:nd.end])
		if nd.flags&fFloat != 0 {
			return nil // already a float: written as its repr
		}
		var ok bool
		if f, ok = intToFloat(lit); !ok {
			return pyErr(errPyValue, "OverflowError: int too large to convert to float (configuration.createdTime)")
		}
	case kStr:
		var tmp []byte
		sec, ok := parseConfigTime(p.str(m, &tmp))
		if !ok {
			return nil
		}
		f = float64(sec)
	default:
		return nil
	}
	var buf [32]byte
	lit := AppendFloatRepr(buf[:0], f)
	off, end := p.syn(lit)
	v := p.newNode(kNum)
	p.nodes[v].off, p.nodes[v].end = off, end
	p.nodes[v].flags |= fFloat
	p.takeValue(m, v)
	return nil
}

// intToFloat converts an integer literal the way Python's float(int) does
// (correctly rounded); ok is false when it overflows.
func intToFloat(lit string) (float64, bool) {
	if f, err := strconv.ParseFloat(lit, 64); err == nil {
		return f, true
	}
	// Out of float64 range: Python raises OverflowError. ParseFloat rounds
	// correctly, so only the range matters.
	var b big.Float
	if _, ok := b.SetString(lit); !ok {
		return 0, false
	}
	f, _ := b.Float64()
	return f, !math.IsInf(f, 0)
}

// parseConfigTime parses s with Python's strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
// (literals case-insensitive, one- or two-digit month, day, hour, minute and
// second, " 1".." 9" as a day, 1-6 fraction digits) and returns the epoch
// seconds of that time read as UTC.
func parseConfigTime(s []byte) (int64, bool) {
	i := 0
	// field takes up to max digits and checks that lit follows; v is their value.
	field := func(max int, lit byte) (v, n int, ok bool) {
		j := i
		for j < len(s) && j-i < max && isDigit(s[j]) {
			v = v*10 + int(s[j]-'0')
			j++
		}
		n = j - i
		if n == 0 || j >= len(s) || (s[j] != lit && (lit < 'A' || s[j]|0x20 != lit|0x20)) {
			return 0, 0, false
		}
		i = j + 1
		return v, n, true
	}
	year, n, ok := field(4, '-')
	if !ok || n != 4 {
		return 0, false
	}
	month, _, ok := field(2, '-')
	if !ok || month < 1 || month > 12 {
		return 0, false
	}
	maxDay := 2
	if i < len(s) && s[i] == ' ' {
		i++ // %d also matches a space and one digit
		maxDay = 1
	}
	day, _, ok := field(maxDay, 'T')
	if !ok || day < 1 || day > 31 {
		return 0, false
	}
	hour, _, ok := field(2, ':')
	if !ok || hour > 23 {
		return 0, false
	}
	minute, _, ok := field(2, ':')
	if !ok || minute > 59 {
		return 0, false
	}
	second, _, ok := field(2, '.')
	if !ok || second > 61 {
		return 0, false
	}
	if _, _, ok = field(6, 'Z'); !ok || i != len(s) {
		return 0, false
	}
	// datetime() refuses what the regular expression let through.
	if year < 1 || second > 59 || day > daysIn(year, month) {
		return 0, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC).Unix(), true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
