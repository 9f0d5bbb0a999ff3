package notify

import (
	"encoding/json"
	"time"

	"github.com/skywatch-dev/skywatch/internal/sink/deadletter"
)

// DeadLetterPath is the default dead-letter file of an output:
// <dataDir>/dead-letter/<name>.jsonl.
func DeadLetterPath(dataDir, name string) string { return deadletter.Path(dataDir, name) }

// DeadLetterEntry is one line of a dead-letter file.
type DeadLetterEntry struct {
	Time    time.Time `json:"time"`
	Output  string    `json:"output"`
	AlertID string    `json:"alert_id"`
	// Status is the HTTP status of the refusal; 0 when there was no response
	// (gave up on network errors, or the alert could not be encoded).
	Status int    `json:"status,omitempty"`
	Reason string `json:"reason"`
	// Attempts is how many requests were made for the alert.
	Attempts int             `json:"attempts"`
	Alert    json.RawMessage `json:"alert"`
}

// line encodes the entry as one JSON line, keeping it valid JSON whatever the
// record held.
func (e DeadLetterEntry) line() ([]byte, error) {
	if !json.Valid(e.Alert) {
		s, _ := json.Marshal(string(e.Alert))
		e.Alert = s
	}
	b, err := json.Marshal(e)
	return append(b, '\n'), err
}
