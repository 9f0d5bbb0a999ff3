package gcppubsub

import (
	"bytes"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// Location is the location Wazuh's GCP module gives its events.
const Location = "Wazuh-GCloud"

// prefix and suffix are the wrapper Wazuh's GCP module writes around a
// message's data, byte for byte, so that full_log and rules that look at the
// raw text see what they see under Wazuh.
const (
	prefix = `{"integration": "gcp", "gcp": `
	suffix = `}`
)

// dataKind is what a message's data turned out to be.
type dataKind uint8

const (
	// kindJSON: a JSON document, embedded as it is.
	kindJSON dataKind = iota
	// kindRepaired: a JSON document with invalid UTF-8 inside strings, embedded
	// with each invalid byte sequence replaced by U+FFFD.
	kindRepaired
	// kindText: not JSON; embedded as a JSON string.
	kindText
)

// classify says how data is to be embedded. Wazuh concatenates the data into
// its wrapper whatever it is, so a payload that is not JSON gives Wazuh an
// invalid event; here it becomes a JSON string instead, so the event is always
// valid JSON.
func classify(data []byte) dataKind {
	data = trimSpace(data)
	if len(data) == 0 || !validJSON(data) {
		return kindText
	}
	if !utf8.Valid(data) {
		// validJSON accepts any byte inside strings; invalid bytes can only be
		// there, so replacing them keeps the document valid.
		return kindRepaired
	}
	return kindJSON
}

// appendEvent appends the event for a message's data to dst:
// {"integration": "gcp", "gcp": <data>}, data being kind as classify said.
func appendEvent(dst, data []byte, kind dataKind) []byte {
	dst = append(dst, prefix...)
	switch kind {
	case kindJSON:
		dst = append(dst, trimSpace(data)...)
	case kindRepaired:
		dst = append(dst, bytes.ToValidUTF8(trimSpace(data), []byte("\uFFFD"))...)
	default:
		// Not JSON: the text as a JSON string (rare, so the copy to a string
		// costs nothing that matters).
		dst = alert.AppendString(dst, string(data))
	}
	return append(dst, suffix...)
}

// wrap returns the event for data, classifying it.
func wrap(data []byte) ([]byte, dataKind) {
	k := classify(data)
	return appendEvent(nil, data, k), k
}

// trimSpace drops JSON whitespace around a document (a payload published with
// a trailing newline, for instance).
func trimSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
