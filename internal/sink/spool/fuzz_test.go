package spool

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sink"
)

// FuzzScanner feeds arbitrary bytes to the segment reader: it must not panic,
// must end, must account for every byte as either a valid record or damage,
// and must return only records that decode.
func FuzzScanner(f *testing.F) {
	var seg []byte
	for i, r := range alerts("seed", 4, 60) {
		seg = appendRecord(seg, &r, int64(i))
	}
	f.Add(seg)
	f.Add(seg[:len(seg)-7])
	f.Add(append(bytes.Clone(seg[:40]), seg...))
	f.Add(append(bytes.Repeat(magic[:], 5), seg...))
	f.Add([]byte{})
	f.Add(magic[:])
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := newScanner(bytes.NewReader(data), 0, int64(len(data)))
		var consumed int64
		for i := 0; ; i++ {
			if i > len(data)/headerSize+1 {
				t.Fatal("the scanner returned more records than fit in the input")
			}
			p, off, skipped, ok := sc.next()
			consumed += skipped
			if !ok {
				break
			}
			if off != consumed {
				t.Fatalf("record at %d, but %d bytes were accounted before it", off, consumed)
			}
			if _, valid := parsePayload(p); !valid {
				t.Fatalf("returned a payload that does not decode at %d", off)
			}
			consumed += int64(headerSize + len(p))
		}
		if sc.err != nil {
			t.Fatal(sc.err)
		}
		if consumed != int64(len(data)) || sc.offset() != int64(len(data)) {
			t.Fatalf("accounted for %d bytes, ended at %d, of %d", consumed, sc.offset(), len(data))
		}
	})
}

// FuzzRecordRoundTrip checks that any record is read back as written, also
// after damage before it.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add([]byte(`{"a":1}`), "id", "5710", "aws,cloudtrail", 3, []byte("junk"))
	f.Add([]byte{}, "", "", "", -1, []byte{})
	f.Fuzz(func(t *testing.T, js []byte, id, rule, groups string, level int, junk []byte) {
		r := sink.Record{JSON: js, ID: id, RuleID: rule, Level: level}
		if groups != "" {
			r.Groups = strings.Split(groups, ",")
		}
		enc := appendRecord(bytes.Clone(junk), &r, 42)
		if len(enc)-len(junk) != encodedSize(&r) {
			t.Fatalf("encodedSize %d, encoded %d", encodedSize(&r), len(enc)-len(junk))
		}
		sc := newScanner(bytes.NewReader(enc), 0, int64(len(enc)))
		p, off, skipped, ok := sc.next()
		if !ok || off != int64(len(junk)) || skipped != int64(len(junk)) {
			// Junk may itself hold a valid record only if it was built as one.
			t.Fatalf("ok=%v off=%d skipped=%d, want the record at %d", ok, off, skipped, len(junk))
		}
		v, _ := parsePayload(p)
		d := &deliverer{str: map[string]string{}, grp: map[string][]string{}}
		if v.at != 42 || int(v.level) != level || string(v.id) != id || string(v.ruleID) != rule ||
			!bytes.Equal(v.json, js) || !slices.Equal(d.groups(&v), r.Groups) {
			t.Fatalf("read back %+v from %+v", v, r)
		}
	})
}
