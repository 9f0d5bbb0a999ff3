package awsevent

import "errors"

var errSourceIP = errors.New("sourceIPAddress is not a string (the module's re.match raises TypeError and the module stops)")

// cloudTrail writes the event for the record object root. The module's steps,
// in order: add "source", drop null members recursively through objects, merge
// into the aws block after log_info, set aws_account_id, unwrap one-element
// arrays recursively through objects, add source_ip_address, wrap a non-object
// tags, stringify non-object requestParameters/responseElements/
// additionalEventData, wrap a boolean requestParameters.disableApiTermination.
// Each step that changes a member's value leaves it at its position; a member
// the record lacks is appended.
func (e *Encoder) cloudTrail(dst []byte, root int32, info LogInfo, account string) ([]byte, error) {
	nodes := e.p.nodes
	logInfo, ipVal := int32(-1), int32(-1)
	e.codes = e.codes[:0]
	for c := nodes[root].first; c >= 0; c = nodes[c].next {
		code := specialKey(e.p.key(&nodes[c]))
		e.codes = append(e.codes, code)
		if nodes[c].kind == kNull {
			continue
		}
		switch code {
		case keyLogInfo:
			logInfo = c
		case keySourceIPAddress:
			v, _ := e.effective(c)
			if nodes[v].kind != kStr {
				return dst, errSourceIP
			}
			if looksLikeIPv4(e.p.src[nodes[v].off:nodes[v].end]) {
				ipVal = v
			}
		}
	}

	dst = append(dst, `{"integration": "aws", "aws": {"log_info": `...)
	if logInfo >= 0 {
		dst = e.emitMember(dst, logInfo)
	} else {
		dst = append(dst, `{"aws_account_alias": `...)
		dst = AppendTextString(dst, info.AccountAlias)
		dst = append(dst, `, "log_file": `...)
		dst = AppendTextString(dst, info.LogFile)
		dst = append(dst, `, "s3bucket": `...)
		dst = AppendTextString(dst, info.Bucket)
		dst = append(dst, '}')
	}

	seenSource, seenAccount, seenIP := false, false, false
	for c, i := nodes[root].first, 0; c >= 0; c, i = nodes[c].next, i+1 {
		code := e.codes[i]
		if code == keyLogInfo || (nodes[c].kind == kNull && code != keySource) {
			continue
		}
		dst = append(dst, ',', ' ')
		dst = e.emitKey(dst, c)
		switch code {
		case keySource:
			dst = append(dst, `"cloudtrail"`...)
			seenSource = true
		case keyAccountID:
			dst = AppendTextString(dst, account)
			seenAccount = true
		case keySourceIPCopy:
			seenIP = true
			if ipVal >= 0 {
				dst = e.emit(dst, ipVal, false)
			} else {
				dst = e.emitMember(dst, c)
			}
		case keyTags:
			v, dict := e.effective(c)
			if nodes[v].kind == kObj {
				dst = e.emit(dst, v, dict)
			} else {
				dst = append(dst, `{"value": `...)
				dst = e.emit(dst, v, false)
				dst = append(dst, '}')
			}
		case keyRequestParameters:
			if v, dict := e.effective(c); nodes[v].kind == kObj {
				dst = e.emitRequestParameters(dst, v, dict)
			} else {
				dst = e.emitStrField(dst, v)
			}
		case keyStringified:
			if v, dict := e.effective(c); nodes[v].kind == kObj {
				dst = e.emit(dst, v, dict)
			} else {
				dst = e.emitStrField(dst, v)
			}
		default:
			dst = e.emitMember(dst, c)
		}
	}
	if !seenSource {
		dst = append(dst, `, "source": "cloudtrail"`...)
	}
	if !seenAccount {
		dst = append(dst, `, "aws_account_id": `...)
		dst = AppendTextString(dst, account)
	}
	if ipVal >= 0 && !seenIP {
		dst = append(dst, `, "source_ip_address": `...)
		dst = e.emit(dst, ipVal, false)
	}
	return append(dst, '}', '}'), nil
}

// Top-level keys the module treats specially.
const (
	keyOther uint8 = iota
	keyLogInfo
	keySource
	keyAccountID
	keySourceIPAddress
	keySourceIPCopy
	keyTags
	keyRequestParameters
	keyStringified // responseElements, additionalEventData
)

// specialKey classifies a decoded top-level key.
func specialKey(k []byte) uint8 {
	switch string(k) {
	case "log_info":
		return keyLogInfo
	case "source":
		return keySource
	case "aws_account_id":
		return keyAccountID
	case "sourceIPAddress":
		return keySourceIPAddress
	case "source_ip_address":
		return keySourceIPCopy
	case "tags":
		return keyTags
	case "requestParameters":
		return keyRequestParameters
	case "responseElements", "additionalEventData":
		return keyStringified
	}
	return keyOther
}

// emitRequestParameters writes a requestParameters object, turning a boolean
// disableApiTermination into {"value": <bool>}.
func (e *Encoder) emitRequestParameters(dst []byte, obj int32, dict bool) []byte {
	dst = append(dst, '{')
	sep := false
	for c := e.p.nodes[obj].first; c >= 0; c = e.p.nodes[c].next {
		if dict && e.p.nodes[c].kind == kNull {
			continue
		}
		if sep {
			dst = append(dst, ',', ' ')
		}
		sep = true
		dst = e.emitKey(dst, c)
		v, vdict := c, false
		if dict {
			v, vdict = e.effective(c)
		}
		if k := e.p.nodes[v].kind; (k == kTrue || k == kFalse) && string(e.p.key(&e.p.nodes[c])) == "disableApiTermination" {
			dst = append(dst, `{"value": `...)
			dst = e.emit(dst, v, false)
			dst = append(dst, '}')
			continue
		}
		dst = e.emit(dst, v, vdict)
	}
	return append(dst, '}')
}

// AccountFromKey returns the AWS account id of a CloudTrail object key: the
// twelve digits that start a file name <account>_CloudTrail_<region>_..., or
// else the <account> folder of an AWSLogs/.../<account>/CloudTrail/ prefix.
// It returns "" when the key has neither.
func AccountFromKey(key string) string { return accountFromKey(key, "CloudTrail") }

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// RecipientAccountID returns the top-level "recipientAccountId" string of a
// CloudTrail record, or "" when it is absent, not a string, or the record is
// not a JSON object. It is the account to use when the object key has none.
func RecipientAccountID(record []byte) string {
	e := encoders.Get().(*Encoder)
	defer func() {
		e.p.src = nil
		encoders.Put(e)
	}()
	e.p.reset(record)
	root, err := e.p.parse()
	if err != nil || e.p.nodes[root].kind != kObj {
		return ""
	}
	acct := ""
	for c := e.p.nodes[root].first; c >= 0; c = e.p.nodes[c].next {
		nd := &e.p.nodes[c]
		if string(e.p.key(nd)) == "recipientAccountId" {
			acct = ""
			if nd.kind == kStr {
				acct = string(appendDecoded(nil, e.p.src[nd.off:nd.end]))
			}
		}
	}
	return acct
}
