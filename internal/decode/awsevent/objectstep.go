package awsevent

import (
	"errors"
	"fmt"
	"io"
	"path"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/decode/jsonstream"
)

// step reads the next record, converts it and returns how many events it
// gives (0: none, e.g. a blank line or an envelope without detail).
func (o *ObjectReader) step() (int, error) {
	switch o.mode {
	case modeDoc, modeConcat:
		return o.stepJSON()
	case modeWAF:
		return o.stepWAF()
	}
	line, off, term, err := o.lr.next()
	if errors.Is(err, io.EOF) {
		return 0, io.EOF
	}
	o.cur, o.curOff = o.lr.line-1, off
	o.curLine = o.cur + 1
	o.next = o.lr.line
	if err != nil {
		if errors.Is(err, errLineTooLong) {
			return 0, err
		}
		return 0, fatalError{err}
	}
	switch o.mode {
	case modeJSONL:
		if isBlank(line) || o.skip() {
			return 0, nil
		}
		return o.guardDutyLine(line)
	case modeS3:
		if !utf8.Valid(line) {
			return 0, fmt.Errorf("%w: line is not valid UTF-8", errPyValue)
		}
		if o.skip() {
			return 0, nil
		}
		if err := o.s3Record(line, term); err != nil {
			return 0, err
		}
		return o.textEvent(), nil
	}
	vpc := o.typ == VPCFlow || o.customTSV
	if !o.started {
		o.started = true
		if names, ok := vpcHeader(line); vpc && ok {
			o.setColumns(names)
			o.startKey, o.endKey = o.columnKey("start"), o.columnKey("end")
			return 0, nil
		}
		if o.customTSV && len(line) > 0 {
			// The module read the object's first character to look for '{'
			// and does not put it back.
			_, n := utf8.DecodeRune(line)
			line = line[n:]
		}
	}
	err = o.csv.record(line, term)
	o.next = o.lr.line
	if err != nil {
		return 0, err
	}
	if len(o.csv.fields) == 0 {
		return 0, nil // blank line: DictReader skips it
	}
	learn := o.needRecordAccount && o.acct == ""
	if o.skip() && !learn {
		return 0, nil
	}
	if vpc {
		err = o.vpcRecord()
	} else {
		err = o.elbRecord()
	}
	if err != nil || o.skip() {
		return 0, err
	}
	return o.textEvent(), nil
}

// skip reports whether the current record is below Options.SkipRecords.
func (o *ObjectReader) skip() bool { return o.cur < o.opt.SkipRecords }

// textEvent writes the current text record's event.
func (o *ObjectReader) textEvent() int {
	o.out = o.t.appendEvent(o.out[:0], o.logInfo, &o.tk)
	o.csv.buf = o.t.buf[:0]
	o.pmode = partReady
	return 1
}

// columnKey returns the key of column name, or -1 when the object has none.
func (o *ObjectReader) columnKey(name string) int32 {
	for _, k := range o.cols {
		if o.t.keys[k].name == name {
			return k
		}
	}
	return -1
}

// isBlank reports a line of JSON whitespace only.
func isBlank(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// stepJSON handles the JSON document and envelope formats.
func (o *ObjectReader) stepJSON() (int, error) {
	rec, off, err := o.js.Next()
	if errors.Is(err, io.EOF) {
		return 0, io.EOF
	}
	o.cur, o.curOff, o.curLine = o.next, off, 0
	o.next++
	if err != nil {
		var jre *jsonstream.RecordError
		if errors.As(err, &jre) {
			o.curLine = int64(jre.Line)
		}
		return 0, err
	}
	learn := o.needRecordAccount && o.acct == ""
	if o.skip() && !learn {
		return 0, nil
	}
	var n int
	switch o.typ {
	case CloudTrail:
		if learn {
			if a := RecipientAccountID(rec); a != "" {
				o.setAccount(a)
			}
		}
		if o.skip() {
			return 0, nil
		}
		if rec, err = o.cloudTrailObject(rec); err != nil {
			return 0, err
		}
		o.out, err = o.enc.AppendCloudTrail(o.out[:0], rec,
			LogInfo{AccountAlias: o.info.AccountAlias, LogFile: o.info.Key, Bucket: o.info.Bucket}, o.acct)
		o.pmode, n = partReady, 1
	case Config:
		n, err = o.configRecord(rec)
	case SecurityHub:
		n, err = o.securityHubRecord(rec)
	default:
		n, err = o.envelopeRecord(rec)
	}
	if err != nil || o.skip() {
		return 0, err
	}
	return n, nil
}

// stepWAF reads the next JSON object of a WAF object's lines.
func (o *ObjectReader) stepWAF() (int, error) {
	for len(o.wafLine) == 0 {
		line, off, _, err := o.lr.next()
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		if err != nil {
			o.cur, o.curOff, o.curLine = o.next, off, o.lr.line
			o.next++
			if errors.Is(err, errLineTooLong) {
				return 0, err
			}
			return 0, fatalError{err}
		}
		o.wafLine, o.wafLineOff, o.wafLineNo = pyTrimRight(line), off, o.lr.line
	}
	o.cur, o.curOff, o.curLine = o.next, o.wafLineOff, o.wafLineNo
	o.next++
	n, events, err := o.wafValue(o.wafLine)
	if n < 0 {
		o.wafLine = nil // the module drops the rest of the line
		return 0, err
	}
	o.wafLine = o.wafLine[n:]
	o.wafLineOff += int64(n)
	if err != nil || o.skip() {
		return 0, err
	}
	return events, nil
}

// pyTrimRight is Python's str.rstrip().
func pyTrimRight(s []byte) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRune(s)
		if !pyIsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

// accountFromKey returns the account of an object key of service svc: the
// twelve digits that start a file name <account>_<svc>_..., or else the
// <account> folder of an .../<account>/<svc>/ prefix; "" when there is none.
func accountFromKey(key, svc string) string {
	base := path.Base(key)
	if m := "_" + svc + "_"; len(base) > 12+len(m) && isAccount(base[:12]) && base[12:12+len(m)] == m {
		return base[:12]
	}
	folder := "/" + svc + "/"
	for i := 12; i+len(folder) <= len(key); i++ {
		if key[i:i+len(folder)] != folder {
			continue
		}
		if acct := key[i-12 : i]; isAccount(acct) && (i == 12 || key[i-13] == '/') {
			return acct
		}
	}
	return ""
}

// cloudTrailObject returns a CloudTrail record that is not a JSON object as
// the object Python's dict(record) makes of it (an empty list or string, a
// list of pairs), written as JSON; other records are returned as they are.
func (o *ObjectReader) cloudTrailObject(rec []byte) ([]byte, error) {
	i := 0
	for i < len(rec) && isSpace(rec[i]) {
		i++
	}
	if i == len(rec) || rec[i] == '{' {
		return rec, nil
	}
	e := &o.enc
	root, err := e.parseOwned(rec)
	if err != nil {
		return rec, nil // the conversion reports it
	}
	obj, err := e.p.pyDict(root)
	if err != nil {
		return nil, err
	}
	o.scratch = e.emitNode(o.scratch[:0], &e.p.nodes[obj], false)
	return o.scratch, nil
}
