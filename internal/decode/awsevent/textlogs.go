package awsevent

import (
	"bytes"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file gives the text formats their columns and per-type steps: VPC flow
// logs (and the custom bucket's VPC-style fallback), ALB/CLB/NLB access logs
// (csv.DictReader with delimiter ' ') and S3 server access logs (the module's
// own tokenizer).

// Column names of the fixed formats, as the module names them.
var (
	vpcColumns = []string{"version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport",
		"protocol", "packets", "bytes", "start", "end", "action", "log_status"}
	albColumns = []string{"type", "time", "elb", "client_port", "target_port", "request_processing_time",
		"target_processing_time", "response_processing_time", "elb_status_code", "target_status_code",
		"received_bytes", "sent_bytes", "request", "user_agent", "ssl_cipher", "ssl_protocol",
		"target_group_arn", "trace_id", "domain_name", "chosen_cert_arn", "matched_rule_priority",
		"request_creation_time", "action_executed", "redirect_url", "error_reason", "target_port_list",
		"target_status_code_list", "classification", "classification_reason"}
	clbColumns = []string{"time", "elb", "client_port", "backend_port", "request_processing_time",
		"backend_processing_time", "response_processing_time", "elb_status_code", "backend_status_code",
		"received_bytes", "sent_bytes", "request", "user_agent", "ssl_cipher", "ssl_protocol"}
	nlbColumns = []string{"type", "version", "time", "elb", "listener", "client_port", "destination_port",
		"connection_time", "tls_handshake_time", "received_bytes", "sent_bytes", "incoming_tls_alert",
		"chosen_cert_arn", "chosen_cert_serial", "tls_cipher", "tls_protocol_version", "tls_named_group",
		"domain_name", "alpn_fe_protocol", "alpn_client_preference_list"}
	s3Columns = []string{"bucket_owner", "bucket", "time", "remote_ip", "requester", "request_id", "operation",
		"key", "request_uri", "http_status", "error_code", "bytes_sent", "object_sent", "total_time",
		"turn_around_time", "referer", "user_agent", "version_id", "host_id", "signature_version",
		"cipher_suite", "authentication_type", "host_header", "tls_version"}
)

// setColumns numbers the object's columns.
func (r *ObjectReader) setColumns(names []string) {
	r.cols = r.cols[:0]
	for _, n := range names {
		r.cols = append(r.cols, r.t.key(n, false))
	}
	r.tk = r.t.specialKeys()
}

// vpcFields are field names of AWS's flow log record formats; a header names
// at least one of them.
var vpcFields = map[string]bool{"version": true, "account-id": true, "interface-id": true, "srcaddr": true,
	"dstaddr": true, "srcport": true, "dstport": true, "protocol": true, "packets": true, "bytes": true,
	"start": true, "end": true, "action": true, "log-status": true, "vpc-id": true, "subnet-id": true,
	"instance-id": true, "tcp-flags": true, "type": true, "pkt-srcaddr": true, "pkt-dstaddr": true,
	"region": true, "az-id": true, "flow-direction": true, "traffic-path": true}

// vpcHeader reports whether the first line of a VPC flow log object is its
// header: space-separated lowercase names such as "log-status", one of them
// at least a flow log field. It returns the column names, with "-" turned into
// "_" as the module names the default columns.
func vpcHeader(line []byte) ([]string, bool) {
	known := false
	var names []string
	for _, b := range bytes.Split(line, []byte{' '}) {
		if len(b) == 0 || b[0] < 'a' || b[0] > 'z' {
			return nil, false
		}
		n := make([]byte, len(b))
		for i, c := range b {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
				n[i] = c
			case c == '-':
				n[i] = '_'
			default:
				return nil, false
			}
		}
		names = append(names, string(n))
		known = known || vpcFields[string(b)]
	}
	return names, known
}

// csvColumns loads the csv fields into the dict as DictReader does: missing
// columns are None, surplus fields a list under the None key.
func (r *ObjectReader) csvColumns() {
	t := &r.t
	t.reset(r.csv.buf)
	f := r.csv.fields
	for i, k := range r.cols {
		if i < len(f) {
			t.set(k, vStr, int32(f[i].off), int32(f[i].end))
		} else {
			t.set(k, vNone, 0, 0)
		}
	}
	if len(f) > len(r.cols) {
		a := len(t.lists)
		t.lists = append(t.lists, f[len(r.cols):]...)
		t.set(r.tk.none, vList, int32(a), int32(len(t.lists)))
	}
}

// vpcRecord builds the dict of a VPC flow log line (vpcflow, or the custom
// bucket's fallback, which converts no times and has no account).
func (r *ObjectReader) vpcRecord() error {
	t := &r.t
	r.csvColumns()
	if r.typ == VPCFlow {
		for _, k := range [2]int32{r.startKey, r.endKey} {
			e := t.get(k)
			if e == nil {
				continue
			}
			if e.kind == vNone {
				return pyErr(errPyType, "int() argument must be a string, not 'NoneType' (%s)", t.keys[k].name)
			}
			v := t.str(e)
			if string(v) == "start" || string(v) == "end" {
				continue
			}
			sec, ok := pyInt(v)
			if !ok {
				return pyErr(errPyValue, "invalid literal for int() with base 10: %q (%s)", v, t.keys[k].name)
			}
			var tmp [32]byte
			iso, ok := appendUTCISO(tmp[:0], sec)
			if !ok {
				return pyErr(errPyValue, "year is out of range (%s %d)", t.keys[k].name, sec)
			}
			a, b := t.addText(iso)
			t.set(k, vStr, a, b)
		}
	}
	t.set(r.tk.source, vConst, r.srcConst[0], r.srcConst[1])
	t.removeNone()
	if r.typ == VPCFlow {
		if r.needRecordAccount && r.acct == "" {
			if e := t.get(r.t.key("account_id", false)); e != nil && isAccount(string(t.str(e))) {
				r.setAccount(string(t.str(e)))
			}
		}
		a, b := t.constant(r.acctJSON)
		t.set(r.tk.account, vConst, a, b)
	}
	t.reformat(&r.tk)
	return nil
}

// pyInt parses s as Python's int(s) does for ASCII digits: surrounding
// whitespace, a sign, single underscores between digits.
func pyInt(s []byte) (int64, bool) {
	s = pyTrim(s)
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || s[0] == '_' || s[len(s)-1] == '_' {
		return 0, false
	}
	var v int64
	for i, c := range s {
		if c == '_' {
			if s[i-1] == '_' {
				return 0, false
			}
			continue
		}
		if !isDigit(c) || v > (1<<62)/10 {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// pyIsSpace is Python's str.isspace for one code point.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

// pyTrim is Python's str.strip().
func pyTrim(s []byte) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if !pyIsSpace(r) {
			break
		}
		s = s[n:]
	}
	for len(s) > 0 {
		r, n := utf8.DecodeLastRune(s)
		if !pyIsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

// appendUTCISO writes datetime.utcfromtimestamp(sec).strftime(
// '%Y-%m-%dT%H:%M:%SZ'); ok is false outside years 1-9999.
func appendUTCISO(dst []byte, sec int64) ([]byte, bool) {
	if sec < -62135596800 || sec > 253402300799 {
		return dst, false
	}
	t := time.Unix(sec, 0).UTC()
	dst = strconv.AppendInt(dst, int64(t.Year()), 10) // glibc does not pad years below 1000
	two := func(v int) { dst = append(dst, byte('0'+v/10), byte('0'+v%10)) }
	dst = append(dst, '-')
	two(int(t.Month()))
	dst = append(dst, '-')
	two(t.Day())
	dst = append(dst, 'T')
	two(t.Hour())
	dst = append(dst, ':')
	two(t.Minute())
	dst = append(dst, ':')
	two(t.Second())
	return append(dst, 'Z'), true
}
