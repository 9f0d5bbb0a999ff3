package opensearch

import (
	"bytes"
	"encoding/json"
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
