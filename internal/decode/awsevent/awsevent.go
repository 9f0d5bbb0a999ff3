// Package awsevent builds, byte for byte, the event text that Wazuh's AWS
// module (aws-s3 wodle) sends to analysisd for one log record, so that Wazuh
// rules see exactly what they would see on a Wazuh manager.
//
// The module loads each record with Python's json, reshapes it and serialises
// it with json.dumps. This package reproduces those steps without
// encoding/json or maps: typical records are converted in one pass that writes
// the event while validating the input (fast.go); records with anything
// unusual (duplicate keys, members the module moves, invalid input) go through
// a compact slice-based parse tree that implements every rule (parse.go,
// cloudtrail.go). Both paths are fuzzed against each other.
//
// ObjectReader reads a whole S3 object of any bucket type the module knows
// (CloudTrail, Config, VPC flow logs, GuardDuty, WAF, custom Firehose buckets,
// ALB/CLB/NLB and S3 server access logs) and of its Security Hub subscriber,
// streaming, and yields the events the module would send for it. Each JSON
// record goes through the same parse tree, reshaped step by step as the
// module's bucket class does it (tree.go, bucket.go and one file per type);
// text formats are split with reproductions of Python's csv module and of the
// module's own tokenizer (csv.go, text.go, textlogs.go, elb.go).
//
// Where the module gives up on a whole object (a record it cannot reshape, a
// line it cannot parse), ObjectReader refuses only that record and goes on.
// Departures from the module, on purpose:
//
//   - the first line of a VPC flow log object (vpcflow, and custom objects
//     read as flow logs) is, when it is a header, the list of columns: custom
//     formats get their own field names and the header is never an event;
//   - blanks between JSON values are accepted (the module's raw_decode refuses
//     them), and blank lines of GuardDuty exports are skipped;
//   - a GuardDuty object whose key ends in ".jsonl" is read as a native export
//     too (the module: only ".jsonl.gz"), so local uncompressed copies work;
//   - every finding of a Security Hub envelope gives an event
//     (Options.SecurityHubFirstFindingOnly keeps only the first, as the module);
//   - a float too large for a double is refused instead of sent as Infinity.
package awsevent

import (
	"errors"
	"fmt"
	"sync"
)

// LogInfo is the "log_info" block the module puts in front of every record.
type LogInfo struct {
	// AccountAlias is the configured aws_account_alias ("" when unset).
	AccountAlias string
	// LogFile is the S3 key of the object the record came from.
	LogFile string
	// Bucket is the S3 bucket name.
	Bucket string
}

// Encoder converts records; it keeps parse and output scratch space between
// calls, so converting a record does not allocate once it is warmed up. An
// Encoder is not safe for concurrent use; the zero value is ready to use.
type Encoder struct {
	s     streamer
	p     parser
	text  []byte  // Python str() rendering
	codes []uint8 // specialKey of each top-level member
	err   error   // first error met while emitting
	work  []byte  // owned copy of the record being reshaped (parseOwned)
	tmp   []byte  // decoded-string scratch

	// Cached renderings of the last LogInfo and account id.
	hdr, acctJSON []byte
	hdrInfo       LogInfo
	acct          string
}

var encoders = sync.Pool{New: func() any { return new(Encoder) }}

// AppendCloudTrail appends to dst the event Wazuh's aws-s3 module sends for one
// CloudTrail record, using an Encoder from an internal pool. See
// Encoder.AppendCloudTrail.
func AppendCloudTrail(dst []byte, record []byte, info LogInfo, accountID string) ([]byte, error) {
	e := encoders.Get().(*Encoder)
	dst, err := e.AppendCloudTrail(dst, record, info, accountID)
	encoders.Put(e)
	return dst, err
}

// AppendCloudTrail appends to dst the event the module sends for one CloudTrail
// record:
//
//	{"integration": "aws", "aws": {"log_info": {...}, <reshaped record>,
//	"source": "cloudtrail", "aws_account_id": "<acct>"[, "source_ip_address": ...]}}
//
// accountID is the account of the S3 prefix the object was listed under. On
// error dst is returned unchanged; errors mean the module would have failed on
// the record (or, for an overflowing float, would have sent invalid JSON).
func (e *Encoder) AppendCloudTrail(dst []byte, record []byte, info LogInfo, accountID string) ([]byte, error) {
	n := len(dst)
	if out, ok := e.fastCloudTrail(dst, record, info, accountID); ok {
		e.s.src = nil
		return out, nil
	}
	e.s.src = nil
	return e.treeCloudTrail(dst[:n], record, info, accountID)
}

// treeCloudTrail is the general path: parse the record into a tree (applying
// Python's duplicate-key rule), then write the reshaped event.
func (e *Encoder) treeCloudTrail(dst []byte, record []byte, info LogInfo, accountID string) ([]byte, error) {
	e.p.reset(record)
	defer func() { e.p.src = nil }()
	root, err := e.p.parse()
	if err != nil {
		return dst, fmt.Errorf("awsevent: parse cloudtrail record: %w", err)
	}
	if e.p.nodes[root].kind != kObj {
		return dst, errors.New("awsevent: cloudtrail record is not a JSON object")
	}
	e.err = nil
	out, err := e.cloudTrail(dst, root, info, accountID)
	if err == nil {
		err = e.err
	}
	if err != nil {
		return dst, fmt.Errorf("awsevent: convert cloudtrail record: %w", err)
	}
	return out, nil
}
