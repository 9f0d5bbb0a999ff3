// Package jsonstream splits a byte stream into JSON records without holding the
// stream in memory: CloudTrail-style documents ({"Records":[...]}), JSON Lines
// and concatenated JSON values. Memory use is bounded by the largest record.
package jsonstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Format selects how the stream is split into records.
type Format int

const (
	// Auto inspects the start of the stream: a document whose first key is one of
	// Options.ArrayKeys holding an array is read as RecordsArray, anything else as
	// a sequence of values (Lines when the first value sits on one line).
	Auto Format = iota
	// RecordsArray reads one JSON object and returns the elements of the arrays
	// stored under Options.ArrayKeys; other keys are checked and skipped.
	RecordsArray
	// Lines reads JSON Lines: values separated by newlines, each on one line.
	Lines
	// Concatenated reads JSON values back to back, optionally separated by
	// whitespace; values may span lines.
	Concatenated
)

// String names the format.
func (f Format) String() string {
	switch f {
	case Auto:
		return "auto"
	case RecordsArray:
		return "records-array"
	case Lines:
		return "lines"
	case Concatenated:
		return "concatenated"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// DefaultMaxRecordBytes is the record size limit used when Options.MaxRecordBytes is 0.
const DefaultMaxRecordBytes = 256 << 20

// Options configures a Reader. The zero value reads Auto format with the default keys.
type Options struct {
	// Format selects the splitting mode.
	Format Format
	// ArrayKeys names the top-level keys whose arrays hold the records, for
	// example "configurationItems" for AWS Config. Empty means "Records" and "records".
	ArrayKeys []string
	// MaxRecordBytes bounds one record; longer records are skipped with
	// ErrTooLarge. 0 means DefaultMaxRecordBytes.
	MaxRecordBytes int
}

const (
	initialBuffer = 64 << 10
	minRead       = 4 << 10
)

// reader states.
const (
	stStart   = iota // nothing read yet
	stSeq            // sequence of values (Lines/Concatenated)
	stObjOpen        // after the document's '{'
	stObjKey         // after ',' between document members
	stObjNext        // after a document member's value
	stArrOpen        // after a records array's '['
	stArrElem        // an array element must start here
	stArrNext        // after an array element
	stDocEnd         // after the document's closing '}'
	stDone           // io.EOF from now on
)

// Reader splits a stream into JSON records. It is not safe for concurrent use.
type Reader struct {
	src  io.Reader
	keys [][]byte
	max  int
	fmt  Format

	buf      []byte
	pos, end int   // unconsumed bytes are buf[pos:end]
	base     int64 // stream offset of buf[0]
	line     int   // 1-based line of buf[pos]
	eof      bool  // src is exhausted
	rerr     error // read error other than io.EOF

	state    int
	lineMode bool // sequence mode resynchronises on line boundaries
	first    bool // sequence mode has not split its first value yet

	sc  scanner
	val validator
	// noValidate skips the syntax check of records whose consumer parses them
	// anyway; splitting still follows the JSON structure.
	noValidate bool
}

// NewReader returns a Reader over r. Wrap compressed input (gzip, zip member)
// before passing it in.
func NewReader(r io.Reader, opt Options) *Reader {
	max := opt.MaxRecordBytes
	if max <= 0 {
		max = DefaultMaxRecordBytes
	}
	keys := opt.ArrayKeys
	if len(keys) == 0 {
		keys = []string{"Records", "records"}
	}
	rd := &Reader{src: r, max: max, fmt: opt.Format, line: 1}
	for _, k := range keys {
		rd.keys = append(rd.keys, []byte(k))
	}
	size := initialBuffer
	if max+minRead < size {
		size = max + minRead
	}
	rd.buf = make([]byte, size)
	return rd
}

// Next returns the next record's bytes, valid until the next call, and the
// record's byte offset in the stream. It returns io.EOF at the end. A record
// that cannot be returned yields a *RecordError; unless its Fatal flag is set,
// the reader has resynchronised and later records are still delivered.
func (r *Reader) Next() ([]byte, int64, error) {
	for {
		var err error
		switch r.state {
		case stStart:
			err = r.start()
		case stSeq:
			return r.nextSeq()
		case stObjOpen, stObjKey:
			err = r.member()
		case stArrOpen, stArrNext:
			err = r.arrayPunct()
		case stArrElem:
			return r.arrayElem()
		case stObjNext:
			err = r.expectPunct(',', stObjKey, '}', stDocEnd, "',' or '}' after a document member")
		case stDocEnd:
			err = r.docEnd()
		default:
			return nil, 0, io.EOF
		}
		if err != nil {
			return nil, errOffset(err), err
		}
	}
}

// errOffset extracts the record offset carried by err.
func errOffset(err error) int64 {
	var re *RecordError
	if errors.As(err, &re) {
		return re.Offset
	}
	return 0
}

// docEnd accepts only whitespace after the document.
func (r *Reader) docEnd() error {
	c, ok, err := r.skipSpace()
	if err != nil {
		return err
	}
	if ok {
		return r.fatal(r.off(), 0, syntaxErr(r.off(), "invalid character "+quoteByte(c)+" after the end of the document"))
	}
	r.state = stDone
	return nil
}

// off is the stream offset of the next unconsumed byte.
func (r *Reader) off() int64 { return r.base + int64(r.pos) }

// fatal stops the reader and builds the error to return. line is the record's
// line in sequence mode, 0 in document mode.
func (r *Reader) fatal(off int64, line int, err error) *RecordError {
	r.state = stDone
	return &RecordError{Offset: off, Line: line, Fatal: true, Err: err}
}

// lineAt returns the line to report for a record starting at the current
// position: only sequence mode tracks lines.
func (r *Reader) lineAt() int {
	if r.state == stSeq {
		return r.line
	}
	return 0
}

// fill reads more input after buf[end], compacting or growing the buffer as
// needed. It returns false when no byte could be added.
func (r *Reader) fill() bool {
	if r.eof || r.rerr != nil {
		return false
	}
	if r.pos > 0 && (r.end == len(r.buf) || r.pos >= len(r.buf)/2) {
		n := copy(r.buf, r.buf[r.pos:r.end])
		r.base += int64(r.pos)
		r.pos, r.end = 0, n
	}
	if len(r.buf)-r.end < minRead {
		size := 2 * len(r.buf)
		if limit := r.max + 2*minRead; size > limit {
			size = limit
		}
		if size-r.end >= minRead {
			nb := make([]byte, size)
			copy(nb, r.buf[r.pos:r.end])
			r.base += int64(r.pos)
			r.end -= r.pos
			r.pos = 0
			r.buf = nb
		}
	}
	for tries := 0; tries < 100; tries++ {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				r.eof = true
			} else {
				r.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	r.rerr = io.ErrNoProgress
	return false
}

// ended builds the error for input that stopped while the value starting at
// absolute offset off (on line, or 0) was incomplete.
func (r *Reader) ended(off int64, line int) *RecordError {
	if r.rerr != nil {
		return r.fatal(off, line, fmt.Errorf("read: %w", r.rerr))
	}
	return r.fatal(off, line, fmt.Errorf("%w at offset %d", ErrTruncated, r.base+int64(r.end)))
}

// advance consumes n bytes, keeping the line count current in sequence mode.
func (r *Reader) advance(n int) {
	if r.state == stSeq {
		r.line += bytes.Count(r.buf[r.pos:r.pos+n], []byte{'\n'})
	}
	r.pos += n
}

// skipSpace consumes whitespace and reports the next byte without consuming it.
// ok is false at a clean end of input; err is set when reading failed.
func (r *Reader) skipSpace() (c byte, ok bool, err error) {
	for {
		for i := r.pos; i < r.end; i++ {
			if !isSpace(r.buf[i]) {
				r.advance(i - r.pos)
				return r.buf[r.pos], true, nil
			}
		}
		r.advance(r.end - r.pos)
		if !r.fill() {
			if r.rerr != nil {
				return 0, false, r.ended(r.off(), r.lineAt())
			}
			return 0, false, nil
		}
	}
}

// peek returns the byte k positions after pos, reading as needed.
func (r *Reader) peek(k int) (byte, bool) {
	for r.end-r.pos <= k {
		if !r.fill() {
			return 0, false
		}
	}
	return r.buf[r.pos+k], true
}

// start skips a UTF-8 byte order mark and chooses the splitting mode.
func (r *Reader) start() error {
	if b0, ok := r.peek(0); ok && b0 == 0xEF {
		if b1, ok := r.peek(1); ok && b1 == 0xBB {
			if b2, ok := r.peek(2); ok && b2 == 0xBF {
				r.pos += 3
			}
		}
	}
	switch r.fmt {
	case RecordsArray:
		return r.openDocument()
	case Lines:
		r.state, r.lineMode = stSeq, true
	case Concatenated:
		r.state = stSeq
	default:
		if r.looksLikeRecordsArray() {
			return r.openDocument()
		}
		r.state, r.lineMode, r.first = stSeq, true, true
	}
	return nil
}

// openDocument consumes the leading '{' of a Records document.
func (r *Reader) openDocument() error {
	c, ok, err := r.skipSpace()
	if err != nil {
		return err
	}
	if !ok {
		r.state = stDone
		return nil
	}
	if c != '{' {
		return r.fatal(r.off(), 0, syntaxErr(r.off(), "expected '{' at the start of the document, found "+quoteByte(c)))
	}
	r.advance(1)
	r.state = stObjOpen
	return nil
}
