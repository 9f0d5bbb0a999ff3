// Package alert defines the alert skywatch writes: the shape of Wazuh's alerts.json
// entries, with two deliberate differences — data keeps the event's JSON types, and
// the id is derived from where the event came from, so replays are idempotent.
package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// TimeLayout is Wazuh's alert timestamp format.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// Alert is one alert (or, for logtest, one rule result at any level).
type Alert struct {
	Timestamp time.Time
	// NoRule is set for logtest output of an event no rule matched; the rule section
	// is then left out.
	NoRule         bool
	Rule           Rule
	Agent          Agent
	Manager        string
	ID             string
	PreviousOutput string
	// FullLog is the whole event text; empty when the rule says no_full_log.
	FullLog string
	Decoder Decoder
	// Data is the decoded event as a JSON object (already valid, compact JSON), or nil.
	Data     []byte
	Location string
}

// Rule is the alert's rule section.
type Rule struct {
	Level       int
	Description string
	ID          string
	Mitre       *Mitre
	CVE         string
	Info        string
	// Frequency is printed for correlation rules only (HasFrequency).
	Frequency    int
	HasFrequency bool
	Firedtimes   int64
	// NoCounter hides firedtimes, as the no_counter option does.
	NoCounter  bool
	Mail       bool
	Groups     []string
	Compliance []Compliance
}

// Mitre is the rule's ATT&CK mapping.
type Mitre struct {
	ID, Tactic, Technique []string
}

// Compliance is one compliance array (pci_dss, gdpr, hipaa, nist_800_53, tsc, gpg13,
// cis), in the order the rule's groups name them.
type Compliance struct {
	Name   string
	Values []string
}

// Agent identifies the reporting agent ("000" and the manager name for cloud events).
type Agent struct {
	ID, Name string
}

// Decoder names the decoder that decoded the event; Parent is set when a child
// decoder with its own prematch was selected.
type Decoder struct {
	Parent, Name string
}

// ID derives a deterministic alert id from the event's origin and the rule, so that
// reprocessing the same source unit yields the same ids.
func ID(source, unit string, offset int64, ruleID string) string {
	h := sha256.New()
	var buf [20]byte
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(unit))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(buf[:0], offset, 10))
	h.Write([]byte{0})
	h.Write([]byte(ruleID))
	var sum [32]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// FullLogOr returns the full log, or fallback when the rule hid it.
func (a *Alert) FullLogOr(fallback string) string {
	if a.FullLog != "" {
		return a.FullLog
	}
	return fallback
}
