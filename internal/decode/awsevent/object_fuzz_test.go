package awsevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// FuzzObjectReader feeds arbitrary objects to every log type: no panic, every
// event is valid JSON, errors are RecordErrors, nothing follows a fatal one,
// and the reader always ends.
func FuzzObjectReader(f *testing.F) {
	for _, s := range benchObjects() {
		f.Add(uint8(0), s.data[:min(len(s.data), 2048)])
	}
	for _, s := range []string{
		`{"Records":[{"eventName":"A","sourceIPAddress":"1.2.3.4"},5]}`,
		`{"configurationItems":[{"configuration":{"securityGroups":[{"groupId":"a"}],"createdTime":"2021-11-15T09:11:24.624Z","x":{"Content":{"k":1}}}}]}`,
		`{"service":{"serviceName":"guardduty","action":{"portProbeAction":{"portProbeDetails":[{"a":1},{"b":2}]}}}}` + "\n",
		`{"httpRequest":{"headers":[{"name":"Host","value":"h"}]}}{"a":1}` + "\n",
		`{"source":"aws.macie","detail":{"summary":{"Bucket":{"b":{"c":1}},"Events":{"E":{"count":1}}}}}`,
		`{"detail-type":"x","detail":{"findings":[{"a":null},{"b":1}]}}`,
		"version account-id start end\n2 1 3 4 extra\n\"a\nb\" 1",
		"o b [x y] \"a b\" 'c d\" e\n",
	} {
		f.Add(uint8(0), []byte(s))
	}
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		types := LogTypes()
		typ := types[int(sel)%len(types)]
		key := "AWSLogs/111122223333/x/us-east-1/2024/05/01/o.log"
		if sel&0x80 != 0 {
			key += ".jsonl.gz" // native GuardDuty export
		}
		r, err := NewObjectReader(typ, bytes.NewReader(data), ObjectInfo{Bucket: "b", Key: key}, Options{MaxRecordBytes: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		fatal := false
		for i := 0; ; i++ {
			if i > 4*len(data)+16 {
				t.Fatalf("%s: reader does not end", typ)
			}
			ev, _, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if fatal {
				t.Fatalf("%s: Next after a fatal error returned %v", typ, err)
			}
			if err != nil {
				var re *RecordError
				if !errors.As(err, &re) {
					t.Fatalf("%s: error %v is not a RecordError", typ, err)
				}
				fatal = re.Fatal
				continue
			}
			if !json.Valid(ev) {
				t.Fatalf("%s: invalid JSON for %q:\n%s", typ, data, ev)
			}
		}
	})
}
