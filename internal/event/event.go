// Package event defines the message that flows from sources to the rules engine, and
// the flattening of JSON messages into the dotted, string-valued fields that Wazuh rules
// see.
package event

import "time"

// Manager-local agent identity used for cloud events, as Wazuh reports them.
const (
	LocalAgentID = "000"
)

// Origin says where an event came from, precisely enough to derive a deterministic
// alert id and to name the place of bad input in errors.
type Origin struct {
	// Source is the configured source name (e.g. "trail").
	Source string
	// Unit is the source unit: a file path, an S3 key, a message id.
	Unit string
	// Offset is the record's position inside the unit (record index or byte offset).
	Offset int64
}

// Event is one message handed to the rules engine: what Wazuh calls the "full log",
// plus where it came from.
type Event struct {
	// Log is the message exactly as received: for cloud events, the JSON text the
	// collector produced. The engine never modifies it.
	Log []byte
	// Location is Wazuh's location string, e.g. "Wazuh-AWS", "Azure", "Wazuh-GCloud".
	Location string
	// AgentID and AgentName identify the reporting agent; cloud events use "000" and
	// the manager name.
	AgentID   string
	AgentName string
	// Received is when the event entered the pipeline. Correlation windows use it, as
	// Wazuh uses its receive time.
	Received time.Time
	// Origin locates the event in its source.
	Origin Origin
}

// Field is one flattened field: a dotted name and Wazuh's text form of the value.
type Field struct {
	Key, Value string
}

type fieldList []Field

func (l *fieldList) WriteField(key, val []byte, _ uint64, _ bool) {
	*l = append(*l, Field{string(key), string(val)})
}

// Fields flattens the event's JSON as Wazuh's JSON decoder does with its default
// options (aws.userIdentity.userName = "bob"). It is computed on each call, only for
// callers that want the fields by name; the rules engine flattens into its own
// indexed form instead. A log that is not a JSON object has no fields.
func (e *Event) Fields() ([]Field, error) {
	var f Flattener
	var out fieldList
	if err := f.Flatten(e.Log, FlattenOptions{}, &out); err != nil {
		return nil, err
	}
	return out, nil
}
