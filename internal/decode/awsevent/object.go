package awsevent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/decode/jsonstream"
)

// Log types: the values of the aws-s3 source's log_type, named after the
// module's bucket types (--type) and, for security_hub, its subscriber.
const (
	CloudTrail   = "cloudtrail"
	Config       = "config"
	VPCFlow      = "vpcflow"
	GuardDuty    = "guardduty"
	WAF          = "waf"
	Custom       = "custom"
	ALB          = "alb"
	CLB          = "clb"
	NLB          = "nlb"
	ServerAccess = "server_access"
	SecurityHub  = "security_hub"
)

// LogTypes returns every log type NewObjectReader accepts.
func LogTypes() []string {
	return []string{CloudTrail, Config, VPCFlow, GuardDuty, WAF, Custom, ALB, CLB, NLB, ServerAccess, SecurityHub}
}

// ObjectInfo names the S3 object being read; it fills each event's log_info.
type ObjectInfo struct {
	// Bucket is the bucket name (log_info.s3bucket).
	Bucket string
	// Key is the object key (log_info.log_file).
	Key string
	// AccountAlias is the configured aws_account_alias (empty when unset).
	AccountAlias string
	// AccountID is the aws_account_id of cloudtrail, config and vpcflow events.
	// Empty means: take it from the key (AWSLogs/<account>/<service>/... or a
	// <account>_<service>_... file name), else from the records (CloudTrail's
	// recipientAccountId, Config's awsAccountId, VPC flow logs' account-id), the
	// first one found holding for the rest of the object.
	AccountID string
}

// Options tunes an ObjectReader.
type Options struct {
	// MaxRecordBytes bounds one record (JSON value or text line); larger ones
	// are skipped with a RecordError. 0 means jsonstream.DefaultMaxRecordBytes.
	MaxRecordBytes int
	// SecurityHubFirstFindingOnly sends, like the module, only the first
	// finding of each Security Hub envelope. By default every finding gives an
	// event, each shaped as the module shapes the first.
	SecurityHubFirstFindingOnly bool
	// SkipRecords makes Next pass over records with a lower index without
	// converting them (to resume an object).
	SkipRecords int64
}

// RecordError reports a record that gives no event, or (Fatal) a failure that
// ends the object.
type RecordError struct {
	// Key is the object key.
	Key string
	// Record is the record index.
	Record int64
	// Offset is the byte offset of the record in the decompressed stream.
	Offset int64
	// Line is the record's 1-based line for line-oriented input, else 0.
	Line int64
	// Fatal reports that reading cannot go on: Next returns io.EOF afterwards.
	Fatal bool
	// Err is the cause.
	Err error
}

// Error describes the failure with its place.
func (e *RecordError) Error() string {
	where := fmt.Sprintf("offset %d", e.Offset)
	if e.Line > 0 {
		where = fmt.Sprintf("line %d, offset %d", e.Line, e.Offset)
	}
	return fmt.Sprintf("awsevent: %s: record %d (%s): %v", e.Key, e.Record, where, e.Err)
}

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

// Splitting modes.
const (
	modeDoc    = iota // one {"<key>": [...]} document (cloudtrail, config)
	modeConcat        // concatenated JSON envelopes
	modeJSONL         // one JSON value per line (GuardDuty native)
	modeWAF           // lines of back-to-back JSON objects
	modeCSV           // space-separated lines (VPC, load balancers)
	modeS3            // S3 server access log lines
)

// Ways the current record's events are produced.
const (
	partReady       = iota // r.out holds the single event
	partSingle             // write r.aws
	partSplit              // r.aws with r.partMember set to each of r.parts
	partSecurityHub        // one event per r.parts entry
)

// ObjectReader yields the events of one S3 object, wrapped as the module
// wraps them, streaming: memory is bounded by the largest record. It is not
// safe for concurrent use.
type ObjectReader struct {
	typ  string
	info ObjectInfo
	opt  Options
	mode int
	enc  Encoder
	out  []byte

	logInfo, shLogInfo []byte
	acct               string
	acctJSON           []byte
	needRecordAccount  bool

	js   *jsonstream.Reader
	lr   *lineReader
	csv  csvReader
	done bool

	next       int64 // index of the next record
	cur        int64 // index of the current record
	curOff     int64
	curLine    int64
	pmode      int
	part, cnt  int
	aws        int32
	partMember int32
	parts      []int32
	iter       []int32
	hdrIndex   map[string]int32 // WAF header names, for records with many
	hdrIndexed bool

	shType   int32
	shFields []int32

	wafLine    []byte // rest of the current WAF line
	wafLineNo  int64
	wafLineOff int64
	started    bool // the first line of a text object was looked at
	t          textRec
	tk         textKeys
	ek         elbKeys
	cols       []int32
	srcConst   [2]int32
	startKey   int32
	endKey     int32
	text       []byte
	scratch    []byte
	scratch2   []byte
	items      []span
	customTSV  bool
}

// NewObjectReader returns a reader of the events in r, the decompressed
// content of the object info names, read as log type logType.
func NewObjectReader(logType string, r io.Reader, info ObjectInfo, opt Options) (*ObjectReader, error) {
	max := opt.MaxRecordBytes
	if max <= 0 {
		max = jsonstream.DefaultMaxRecordBytes
	}
	o := &ObjectReader{typ: logType, info: info, opt: opt, startKey: -1, endKey: -1}
	o.t.keys = make([]textKey, 0, 64)
	o.t.keyJSON = make([]byte, 0, 1024)
	o.logInfo = appendLogInfo(nil, info.AccountAlias, info.Key, info.Bucket, true)
	o.shLogInfo = appendLogInfo(nil, "", info.Key, info.Bucket, false)
	jsOpt := jsonstream.Options{MaxRecordBytes: max}
	switch logType {
	case CloudTrail, Config:
		o.mode, jsOpt.Format = modeDoc, jsonstream.RecordsArray
		jsOpt.ArrayKeys = []string{"Records"}
		if logType == Config {
			jsOpt.ArrayKeys = []string{"configurationItems"}
		}
	case SecurityHub:
		o.mode, jsOpt.Format = modeConcat, jsonstream.Concatenated
	case Custom, GuardDuty:
		if logType == GuardDuty && (strings.HasSuffix(info.Key, ".jsonl.gz") || strings.HasSuffix(info.Key, ".jsonl")) {
			o.mode = modeJSONL
			break
		}
		// The module reads JSON envelopes when the object starts with '{',
		// else VPC flow log lines.
		br := bufio.NewReaderSize(r, 64<<10)
		if b, err := br.Peek(1); err == nil && b[0] == '{' {
			o.mode, jsOpt.Format = modeConcat, jsonstream.Concatenated
		} else {
			o.mode, o.customTSV = modeCSV, true
		}
		r = br
	case VPCFlow, ALB, CLB, NLB:
		o.mode = modeCSV
	case WAF:
		o.mode = modeWAF
	case ServerAccess:
		o.mode = modeS3
	default:
		return nil, fmt.Errorf("awsevent: %s: unknown log type %q (want one of %s)", info.Key, logType, strings.Join(LogTypes(), ", "))
	}
	if o.mode == modeDoc || o.mode == modeConcat {
		o.js = jsonstream.NewReader(r, jsOpt)
		o.js.SetValidate(false)
	} else {
		o.lr = newLineReader(r, max)
		o.csv.lr = o.lr
	}
	o.initAccount()
	if o.mode == modeCSV || o.mode == modeS3 {
		o.initText()
	}
	return o, nil
}

// initAccount settles the account of cloudtrail, config and vpcflow events.
func (o *ObjectReader) initAccount() {
	var svc string
	switch o.typ {
	case CloudTrail:
		svc = "CloudTrail"
	case Config:
		svc = "Config"
	case VPCFlow:
		svc = "vpcflowlogs"
	default:
		return
	}
	acct := o.info.AccountID
	if acct == "" {
		acct = accountFromKey(o.info.Key, svc)
	}
	o.needRecordAccount = acct == ""
	o.setAccount(acct)
}

func (o *ObjectReader) setAccount(acct string) {
	o.acct = acct
	o.acctJSON = AppendTextString(o.acctJSON[:0], acct)
}

// learnAccount takes the account from member field of a record when the
// object has none yet.
func (o *ObjectReader) learnAccount(root int32, field string) {
	if o.acct != "" {
		return
	}
	p := &o.enc.p
	if m := p.member(root, field); m >= 0 && p.nodes[m].kind == kStr {
		o.setAccount(string(p.str(m, &o.enc.tmp)))
	}
}

// initText prepares the columns of the text formats.
func (o *ObjectReader) initText() {
	src := "vpc"
	switch o.typ {
	case ALB, CLB, NLB:
		src = o.typ
	case ServerAccess:
		src = "s3_server_access"
	}
	a, b := o.t.constant(AppendTextString(nil, src))
	o.srcConst = [2]int32{a, b}
	switch o.typ {
	case ALB:
		o.setColumns(albColumns)
	case CLB:
		o.setColumns(clbColumns)
	case NLB:
		o.setColumns(nlbColumns)
	case ServerAccess:
		o.setColumns(s3Columns)
	default:
		o.setColumns(vpcColumns)
		o.startKey, o.endKey = o.columnKey("start"), o.columnKey("end")
	}
	o.setELBKeys()
}

// setSingle makes aws the only event of the current record.
func (o *ObjectReader) setSingle(aws int32) { o.aws, o.pmode = aws, partSingle }

// Records returns the index of the next record: after io.EOF, how many record
// indexes the object used.
func (o *ObjectReader) Records() int64 { return o.next }

// Part reports, for the event Next returned last, its position among the
// events of its record and how many that record gives (several for a GuardDuty
// finding with several port probes, or a Security Hub envelope with several
// findings).
func (o *ObjectReader) Part() (index, count int) { return o.part, o.cnt }

// Next returns the next event (valid until the next call) and the index of
// the record it came from. Indexes follow the object: array elements or JSON
// values in order, or line numbers (from 0) for line formats, so they are the
// same on every read. It returns io.EOF at the end; a record that gives no
// event returns a *RecordError, and reading goes on after it unless Fatal.
func (o *ObjectReader) Next() ([]byte, int64, error) {
	for {
		if o.part+1 < o.cnt {
			o.part++
			return o.emitPart()
		}
		if o.done {
			return nil, o.next, io.EOF
		}
		o.cnt, o.part = 0, 0
		n, err := o.step()
		if err != nil {
			if errors.Is(err, io.EOF) {
				o.done = true
				return nil, o.next, io.EOF
			}
			re := &RecordError{Key: o.info.Key, Record: o.cur, Offset: o.curOff, Line: o.curLine, Err: err}
			var jre *jsonstream.RecordError
			if errors.As(err, &jre) {
				re.Fatal, re.Err = jre.Fatal, jre.Err
			}
			var fe fatalError
			if errors.As(err, &fe) {
				re.Fatal, re.Err = true, fe.err
			}
			if re.Fatal {
				o.done = true
			}
			return nil, o.cur, re
		}
		if n == 0 {
			continue
		}
		o.cnt = n
		return o.emitPart()
	}
}

// fatalError marks an error that ends the object.
type fatalError struct{ err error }

func (f fatalError) Error() string { return f.err.Error() }

// emitPart writes event o.part of the current record.
func (o *ObjectReader) emitPart() ([]byte, int64, error) {
	e := &o.enc
	var err error
	switch o.pmode {
	case partReady:
		return o.out, o.cur, nil
	case partSingle:
		o.out, err = e.appendMessage(o.out[:0], o.aws)
	case partSplit:
		e.p.takeValue(o.partMember, o.parts[o.part])
		o.out, err = e.appendMessage(o.out[:0], o.aws)
	case partSecurityHub:
		o.out, err = e.appendMessage(o.out[:0], o.securityHubEvent(o.parts[o.part]))
	}
	if err != nil {
		return nil, o.cur, &RecordError{Key: o.info.Key, Record: o.cur, Offset: o.curOff, Line: o.curLine, Err: err}
	}
	return o.out, o.cur, nil
}
