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
