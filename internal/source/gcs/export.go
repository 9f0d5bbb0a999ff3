package gcs

import (
	"errors"
	"io"

	"github.com/skywatch-dev/skywatch/internal/decode/jsonstream"
)

// exportPrefix opens every event: Wazuh's GCP module writes its events with
// Python's default separators around the LogEntry it received, verbatim.
const exportPrefix = `{"integration": "gcp", "gcp": `

// exportReader reads a Cloud Logging export object: one LogEntry per line.
// Each becomes {"integration": "gcp", "gcp": <LogEntry as written>}, the event
// Wazuh's Pub/Sub module makes of the same entry, so the GCP rules apply.
type exportReader struct {
	js  *jsonstream.Reader
	buf []byte
}

func newExportReader(r io.Reader, maxBytes int) *exportReader {
	return &exportReader{js: jsonstream.NewReader(r, jsonstream.Options{Format: jsonstream.Lines, MaxRecordBytes: maxBytes})}
}

var errNotObject = errors.New("not a JSON object (a LogEntry)")

// Next returns the next event, or a *badRecord for a line that is not a JSON
// object: invalid JSON, too long, or cut short (then last is set when nothing
// more can be read).
func (e *exportReader) Next() ([]byte, int64, error) {
	rec, off, err := e.js.Next()
	if err != nil {
		var re *jsonstream.RecordError
		if errors.As(err, &re) {
			return nil, re.Offset, &badRecord{off: re.Offset, line: re.Line, err: re.Err, last: re.Fatal}
		}
		return nil, off, err
	}
	if len(rec) == 0 || rec[0] != '{' {
		return nil, off, &badRecord{off: off, err: errNotObject}
	}
	e.buf = append(e.buf[:0], exportPrefix...)
	e.buf = append(e.buf, rec...)
	e.buf = append(e.buf, '}')
	return e.buf, off, nil
}
