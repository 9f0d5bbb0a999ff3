package msgraph

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzShape feeds arbitrary page elements to both shapes: no panic, and an
// accepted record yields one valid JSON object (ASCII only in the azure-logs
// shape, which escapes like Python) carrying the record's id.
func FuzzShape(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","createdDateTime":"2024-01-01T00:00:00Z","status":null,"initiatedBy":{"user":"x","app":{"n":1.5e300}}}`,
		`{"id":"é\ud83d\ude00","activityDateTime":"2024-01-01T00:00:00.1234567Z","v":[1,-0,1E5,0.0001,1e-7,12345678901234567890]}`,
		`"string"`, `{"id":1}`, `{"id":"x","createdDateTime":"bad"}`, `{"a":{"b":[{"c":"\u0000\u001f\u007f"}]}}`, `{`,
	} {
		f.Add([]byte(s))
	}
	shapers := []shaper{
		newShaper(Resource{Resource: "auditLogs/signIns", TimeField: "createdDateTime", Format: FormatAzureADGraph, Tag: "t"}),
		newShaper(Resource{Resource: "security/alerts_v2", TimeField: "createdDateTime", Format: FormatMSGraph}),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sh := range shapers {
			var b bytes.Buffer
			rec, err := sh.shape(&b, data)
			if err != nil {
				continue
			}
			if !json.Valid(b.Bytes()) {
				t.Fatalf("%s: invalid JSON from %q:\n%s", sh.format, data, b.Bytes())
			}
			if sh.format == FormatAzureADGraph {
				for _, c := range b.Bytes() {
					if c >= 0x80 {
						t.Fatalf("non-ASCII byte in %s", b.Bytes())
					}
				}
			}
			if rec.id == "" || rec.when.IsZero() && rec.raw != "0001-01-01T00:00:00Z" {
				t.Fatalf("accepted record without id or time: %+v", rec)
			}
		}
	})
}

func TestPyFloat(t *testing.T) {
	for in, want := range map[float64]string{
		47.68: "47.68", -122.12: "-122.12", 1e5: "100000.0", 1e16: "1e+16", 1.5e300: "1.5e+300", 0.0001: "0.0001",
		1e-7: "1e-07", 123456789012345.6: "123456789012345.6", 0: "0.0", 2.5e-5: "2.5e-05", 1234567.0: "1234567.0",
	} {
		if got := pyFloat(in); got != want {
			t.Errorf("pyFloat(%v) = %s, want %s", in, got, want)
		}
	}
}
