// Package cdb loads Wazuh CDB lists from their text source and evaluates the lookups a
// rule's <list> element can ask for, with the exact quirks of Wazuh 4.14's analysisd.
//
// Wazuh compiles each text list into a constant database before use; this package
// reads the text directly and keeps an in-memory index with the same contents, so the
// compile step's parsing rules are reproduced here, not the CDB file format.
package cdb

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// maxChunk is how many bytes Wazuh's list compiler reads per line at most: it reads
// with a fixed buffer, so a longer line is processed as several independent lines.
const maxChunk = 65534

// List is a loaded CDB list. It is immutable after Parse or Load returns and is safe
// for concurrent use.
type List struct {
	name string
	// values maps each key to its value. The value slices alias one shared buffer and
	// are capped at their length, so an append by a careless caller cannot overwrite a
	// neighbour.
	values map[string][]byte
}

// Parse reads a list in Wazuh's text format from r. name identifies the list in
// errors and is returned by Name.
//
// Each line (at most 65534 bytes; longer lines are split, as Wazuh does) is cut at
// its first NUL, then at its first '\r' and '\n'; nothing is trimmed and there are no
// comments. If the line has a '"' and its first ':' comes after that quote, the key
// is the text between the first '"' and the next one (no closing quote: the line is
// skipped) and the value part starts at the next ':' after the closing quote;
// otherwise the key is the text before the first ':'. A line without that ':' is
// skipped. The value is the rest of the line; if it contains a '"', the value is the
// text between its first two quotes (no second quote: the line is skipped). When a
// key repeats, the first line wins.
func Parse(r io.Reader, name string) (*List, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("cdb: read list %s: %w", name, err)
	}
	// Keys are indexed as strings, values handed out as bytes: one copy of the text
	// for each, instead of an allocation per entry.
	text := string(data)
	l := &List{name: name, values: make(map[string][]byte, bytes.Count(data, []byte{'\n'})+1)}
	for start := 0; start < len(data); {
		end := start + maxChunk
		if end > len(data) {
			end = len(data)
		}
		if nl := bytes.IndexByte(data[start:end], '\n'); nl >= 0 {
			end = start + nl + 1
		}
		ks, ke, vs, ve, ok := parseLine(data[start:end])
		if ok {
			key := text[start+ks : start+ke]
			if _, dup := l.values[key]; !dup {
				l.values[key] = data[start+vs : start+ve : start+ve]
			}
		}
		start = end
	}
	return l, nil
}

// Load reads the text list at path. The path is also the list's name.
func Load(path string) (*List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cdb: load list: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// parseLine applies Wazuh's key/value rules to one line (see Parse) and returns the
// key and value as offsets into line.
func parseLine(line []byte) (ks, ke, vs, ve int, ok bool) {
	n := len(line)
	// The compiler works on C strings, so everything from a NUL on is invisible.
	if i := bytes.IndexByte(line[:n], 0); i >= 0 {
		n = i
	}
	if i := bytes.IndexByte(line[:n], '\r'); i >= 0 {
		n = i
	}
	if i := bytes.IndexByte(line[:n], '\n'); i >= 0 {
		n = i
	}
	line = line[:n]

	rest := 0 // where the search for the key/value ':' starts
	quoted := false
	if q1 := bytes.IndexByte(line, '"'); q1 >= 0 {
		if c := bytes.IndexByte(line, ':'); c > q1 {
			q2 := bytes.IndexByte(line[q1+1:], '"')
			if q2 < 0 {
				return 0, 0, 0, 0, false
			}
			ks, ke = q1+1, q1+1+q2
			rest = ke + 1
			quoted = true
		}
	}
	c := bytes.IndexByte(line[rest:], ':')
	if c < 0 {
		return 0, 0, 0, 0, false
	}
	c += rest
	if !quoted {
		ks, ke = 0, c
	}
	vs, ve = c+1, n
	if v1 := bytes.IndexByte(line[vs:], '"'); v1 >= 0 {
		v2 := bytes.IndexByte(line[vs+v1+1:], '"')
		if v2 < 0 {
			return 0, 0, 0, 0, false
		}
		vs, ve = vs+v1+1, vs+v1+1+v2
	}
	return ks, ke, vs, ve, true
}

// Name returns the name the list was parsed with (the path, for Load).
func (l *List) Name() string { return l.name }

// Len returns the number of distinct keys.
func (l *List) Len() int { return len(l.values) }

// Lookup returns the value stored for key. Keys compare byte for byte, case-sensitively.
// The returned slice is shared with the list and must not be modified.
func (l *List) Lookup(key []byte) (value []byte, ok bool) {
	value, ok = l.values[string(key)]
	return value, ok
}
