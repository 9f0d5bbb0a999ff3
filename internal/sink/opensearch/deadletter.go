package opensearch

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// DeadLetter is one line of the dead-letter file: an alert the server refused
// for good, with the reason, so that it can be inspected and sent again once
// the template or mapping is fixed.
type DeadLetter struct {
	// Time is when the alert was written here (UTC, RFC 3339).
	Time time.Time `json:"time"`
	// Output is the output's name.
	Output string `json:"output"`
	// Index and ID are where the alert was to be indexed.
	Index string `json:"index"`
	ID    string `json:"id"`
	// Status is the HTTP status of the refusal (0 for an alert that was not
	// JSON and was never sent).
	Status int `json:"status"`
	// Error is the server's error type and reason.
	Error DeadLetterError `json:"error"`
	// Alert is the document as sent (the alert with the timestamp field
	// added), or AlertText when it was not valid JSON.
	Alert     json.RawMessage `json:"alert,omitempty"`
	AlertText string          `json:"alert_text,omitempty"`
}

// DeadLetterError is the server's reason for refusing an alert.
type DeadLetterError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// deadLetter appends JSON lines to one file, opened at the first refusal.
type deadLetter struct {
	path string
	f    *os.File
}

func (s *Sink) deadRecords(items []*item) []byte {
	var buf bytes.Buffer
	now := s.now().UTC()
	for _, it := range items {
		doc := bytes.TrimSuffix(it.line[it.doc:], []byte("\n"))
		rec := DeadLetter{
			Time: now, Output: s.name, Index: it.index, ID: it.id, Status: it.status,
			Error: DeadLetterError{Type: it.errType, Reason: it.reason},
		}
		if json.Valid(doc) {
			rec.Alert = doc
		} else {
			rec.AlertText = string(doc)
		}
		line, err := json.Marshal(&rec)
		if err != nil { // cannot happen: every field marshals
			continue
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// write appends lines and syncs the file. A failed write is cut off again,
// so the file never keeps a torn line that a retry would follow.
func (d *deadLetter) write(lines []byte) error {
	if d.f == nil {
		dir := filepath.Dir(d.path)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return err
		}
		// The file's directory entry must survive a crash too.
		if dirf, err := os.Open(dir); err == nil {
			err = dirf.Sync()
			dirf.Close()
			if err != nil {
				f.Close()
				return err
			}
		}
		d.f = f
	}
	st, err := d.f.Stat()
	if err != nil {
		return err
	}
	if _, err := d.f.Write(lines); err != nil {
		_ = d.f.Truncate(st.Size())
		return err
	}
	return d.f.Sync()
}

func (d *deadLetter) close() error {
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}
