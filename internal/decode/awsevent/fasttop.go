package awsevent

import "bytes"

// fastCloudTrail is the one-pass version of cloudTrail for typical records. It
// returns ok == false, with dst unchanged in content up to its original
// length, when the record needs the tree path.
func (e *Encoder) fastCloudTrail(dst, record []byte, info LogInfo, account string) ([]byte, bool) {
	s := &e.s
	s.src, s.keys = record, s.keys[:0]
	i := s.ws(0)
	if i >= len(record) || record[i] != '{' {
		return dst, false
	}
	dst = append(dst, e.header(info)...)

	var seen uint64
	seenSource, seenAccount := false, false
	ip := span{-1, -1}
	i = s.ws(i + 1)
	if i < len(record) && record[i] == '}' {
		i++
	} else {
		for {
			k, plain, j, ok := s.key(i, 0, &seen)
			if !ok || j >= len(record) {
				return dst, false
			}
			code := specialKey(record[k.off:k.end])
			if record[j] == 'n' {
				// A null member is dropped, except "source", which the module
				// overwrote before dropping nulls.
				if !bytes.HasPrefix(record[j:], []byte("null")) {
					return dst, false
				}
				if code == keySource {
					dst = append(dst, `, "source": "cloudtrail"`...)
					seenSource = true
				}
				i = j + 4
			} else {
				dst = append(dst, ',', ' ')
				dst = s.appendRawKey(dst, k, plain)
				if dst, i, ok = e.fastMember(dst, j, code, account); !ok {
					return dst, false
				}
				switch code {
				case keySource:
					seenSource = true
				case keyAccountID:
					seenAccount = true
				case keySourceIPAddress:
					if looksLikeIPv4(record[j+1 : i-1]) {
						ip = span{j, i}
					}
				}
			}
			if i = s.ws(i); i >= len(record) {
				return dst, false
			}
			if record[i] == '}' {
				i++
				break
			}
			if record[i] != ',' {
				return dst, false
			}
			i = s.ws(i + 1)
		}
	}
	if s.ws(i) != len(record) {
		return dst, false
	}
	if !seenSource {
		dst = append(dst, `, "source": "cloudtrail"`...)
	}
	if !seenAccount {
		dst = append(dst, `, "aws_account_id": `...)
		dst = append(dst, e.accountJSON(account)...)
	}
	if ip.off >= 0 {
		dst = append(dst, `, "source_ip_address": `...)
		dst, _, _ = s.scalar(dst, ip.off)
	}
	return append(dst, '}', '}'), true
}

// fastMember writes the non-null value at src[i] of a top-level member whose
// key has the given specialKey code.
func (e *Encoder) fastMember(dst []byte, i int, code uint8, account string) ([]byte, int, bool) {
	s := &e.s
	c := s.src[i]
	switch code {
	case keyLogInfo, keySourceIPCopy:
		// Rare members that move or change other members: tree path.
		return dst, i, false
	case keySource, keyAccountID:
		// The value is replaced, but it must still be valid JSON.
		var ok bool
		if e.text, i, ok = s.value(e.text[:0], i, true, 1); !ok {
			return dst, i, false
		}
		if code == keySource {
			return append(dst, `"cloudtrail"`...), i, true
		}
		return append(dst, e.accountJSON(account)...), i, true
	case keySourceIPAddress:
		if c != '"' {
			return dst, i, false // the tree path reports the module's failure
		}
		return s.scalar(dst, i)
	case keyTags:
		switch c {
		case '{':
			return s.object(dst, i, true, 2)
		case '[':
			return dst, i, false
		}
		dst = append(dst, `{"value": `...)
		dst, i, ok := s.scalar(dst, i)
		return append(dst, '}'), i, ok
	case keyRequestParameters, keyStringified:
		switch c {
		case '{':
			if code == keyRequestParameters {
				return e.fastRequestParameters(dst, i)
			}
			return s.object(dst, i, true, 2)
		case '[':
			return dst, i, false
		}
		return s.appendScalarStr(dst, i)
	}
	return s.member(dst, i, true, 1)
}

// fastRequestParameters writes a requestParameters object (dict context),
// wrapping a boolean disableApiTermination as {"value": <bool>}.
func (e *Encoder) fastRequestParameters(dst []byte, i int) ([]byte, int, bool) {
	s := &e.s
	dst = append(dst, '{')
	i = s.ws(i + 1)
	if i < len(s.src) && s.src[i] == '}' {
		return append(dst, '}'), i + 1, true
	}
	base, seen, first := len(s.keys), uint64(0), true
	for {
		k, plain, j, ok := s.key(i, base, &seen)
		if !ok || j >= len(s.src) {
			return dst, j, false
		}
		if s.src[j] == 'n' {
			if !bytes.HasPrefix(s.src[j:], []byte("null")) {
				return dst, j, false
			}
			i = j + 4
		} else {
			if !first {
				dst = append(dst, ',', ' ')
			}
			first = false
			dst = s.appendRawKey(dst, k, plain)
			if string(s.src[k.off:k.end]) == "disableApiTermination" && (s.src[j] == 't' || s.src[j] == 'f' || s.src[j] == '[') {
				if s.src[j] == '[' {
					return dst, j, false // [bool] would be unwrapped, then wrapped
				}
				dst = append(dst, `{"value": `...)
				if dst, i, ok = s.scalar(dst, j); !ok {
					return dst, i, false
				}
				dst = append(dst, '}')
			} else if dst, i, ok = s.member(dst, j, true, 2); !ok {
				return dst, i, false
			}
		}
		if i = s.ws(i); i >= len(s.src) {
			return dst, i, false
		}
		switch s.src[i] {
		case ',':
			i = s.ws(i + 1)
		case '}':
			s.keys = s.keys[:base]
			return append(dst, '}'), i + 1, true
		default:
			return dst, i, false
		}
	}
}

// header returns the event text up to and including the log_info block. The
// rendering is cached: consecutive records of one object share their LogInfo.
func (e *Encoder) header(info LogInfo) []byte {
	if e.hdr == nil || info != e.hdrInfo {
		h := append(e.hdr[:0], `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": `...)
		h = AppendTextString(h, info.AccountAlias)
		h = append(h, `, "log_file": `...)
		h = AppendTextString(h, info.LogFile)
		h = append(h, `, "s3bucket": `...)
		h = AppendTextString(h, info.Bucket)
		e.hdr, e.hdrInfo = append(h, '}'), info
	}
	return e.hdr
}

// accountJSON returns the account id as a JSON string, cached like header.
func (e *Encoder) accountJSON(account string) []byte {
	if e.acctJSON == nil || account != e.acct {
		e.acctJSON, e.acct = AppendTextString(e.acctJSON[:0], account), account
	}
	return e.acctJSON
}
