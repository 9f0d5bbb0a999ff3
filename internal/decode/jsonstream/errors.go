package jsonstream

import (
	"errors"
	"fmt"
)

// Sentinel causes wrapped by RecordError.Err; test them with errors.Is.
var (
	// ErrSyntax marks a record (or the enclosing document) that is not valid JSON.
	ErrSyntax = errors.New("invalid JSON")
	// ErrTooLarge marks a record longer than Options.MaxRecordBytes.
	ErrTooLarge = errors.New("record too large")
	// ErrTruncated marks input that ended in the middle of a value.
	ErrTruncated = errors.New("unexpected end of input")
)

// RecordError describes one record (or stretch of input) that could not be
// returned. When Fatal is false the reader has already resynchronised and the
// caller may keep calling Next; when Fatal is true every later call returns io.EOF.
type RecordError struct {
	// Offset is the byte offset in the stream where the bad record starts.
	Offset int64
	// Line is the 1-based line of Offset for line or concatenated input, 0 inside
	// a Records array document.
	Line int
	// Fatal reports that the reader stopped at this error.
	Fatal bool
	// Err is the cause: it wraps ErrSyntax, ErrTooLarge, ErrTruncated or the
	// error of the underlying io.Reader.
	Err error
}

// Error describes the failure with its position.
func (e *RecordError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("jsonstream: record at offset %d (line %d): %v", e.Offset, e.Line, e.Err)
	}
	return fmt.Sprintf("jsonstream: record at offset %d: %v", e.Offset, e.Err)
}

// Unwrap returns the cause so errors.Is and errors.As see through the record error.
func (e *RecordError) Unwrap() error { return e.Err }

// syntaxErr builds the cause for invalid JSON found at absolute offset pos.
func syntaxErr(pos int64, msg string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrSyntax, msg, pos)
}
