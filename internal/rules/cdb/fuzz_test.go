package cdb

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse checks that Parse accepts any input and yields a consistent index: keys and
// values never contain the bytes that end a line, every key is found by Lookup and by
// the exact-match lookups, and the first line defining a key wins.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.input))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		if l.Len() != len(l.values) {
			t.Fatalf("Len() = %d; index has %d", l.Len(), len(l.values))
		}
		for k, v := range l.values {
			if strings.ContainsAny(k, "\r\n\x00") || bytes.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("entry %q:%q contains a line terminator or NUL", k, v)
			}
			got, ok := l.Lookup([]byte(k))
			if !ok || !bytes.Equal(got, v) {
				t.Fatalf("Lookup(%q) = %q, %v; index has %q", k, got, ok, v)
			}
			if !l.Check(MatchKey, []byte(k), nil) || l.Check(NotMatchKey, []byte(k), nil) {
				t.Fatalf("match_key disagrees with Lookup for %q", k)
			}
			if k != "" && !l.Check(AddressMatchKey, []byte(k), nil) {
				t.Fatalf("address_match_key misses exact key %q", k)
			}
		}
		// A line that is short, has no quote and no NUL/CR must parse the simple way;
		// if its key is new at that point, it must be the one stored.
		seen := map[string]bool{}
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			if len(line) >= maxChunk || bytes.ContainsAny(line, "\"\r\x00") {
				return // chunking and quoting make the simple model inexact from here on
			}
			k, v, ok := bytes.Cut(line, []byte{':'})
			if !ok || seen[string(k)] {
				continue
			}
			seen[string(k)] = true
			if got, found := l.Lookup(k); !found || !bytes.Equal(got, v) {
				t.Fatalf("line %q: Lookup(%q) = %q, %v; want %q", line, k, got, found, v)
			}
		}
	})
}
