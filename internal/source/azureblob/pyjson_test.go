package azureblob

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// The expected texts are what CPython 3 prints for json.dumps(json.loads(in))
// after setting the tags.
func TestAppendPyRecord(t *testing.T) {
	tests := []struct{ in, tag, want string }{
		{`{}`, "", `{"azure_tag": "azure-storage"}`},
		{`{}`, "x", `{"azure_tag": "azure-storage", "azure_storage_tag": "x"}`},
		{`{ "a" : [ 1 , {"b":null} ,true,false ] }`, "", `{"a": [1, {"b": null}, true, false], "azure_tag": "azure-storage"}`},
		{`{"f":[1e16,1e15,0.0001,0.00001,1.5,-0.0,1E2,-0,3.14e-10,12345678901234567.0,1.7976931348623157e308,1e400,-1e400,0.1,100.5e-2]}`, "",
			`{"f": [1e+16, 1000000000000000.0, 0.0001, 1e-05, 1.5, -0.0, 100.0, 0, 3.14e-10, 1.2345678901234568e+16, 1.7976931348623157e+308, Infinity, -Infinity, 0.1, 1.005], "azure_tag": "azure-storage"}`},
		{`{"big":123456789012345678901234567890}`, "", `{"big": 123456789012345678901234567890, "azure_tag": "azure-storage"}`},
		{"{\"s\":\"\\u00E9\\/\\u0041\\\"\\\\\\b\\f\\n\\r\\t\x7f\\u0001é😀\\ud800\"}", "",
			`{"s": "\u00e9/A\"\\\b\f\n\r\t\u007f\u0001\u00e9\ud83d\ude00\ud800", "azure_tag": "azure-storage"}`},
		{`{"azure_tag":"old","k":{"azure_tag":1},"azure_storage_tag":{"x":[1]},"z":2}`, "t",
			`{"azure_tag": "azure-storage", "k": {"azure_tag": 1}, "azure_storage_tag": "t", "z": 2}`},
		{`{"azure_storage_tag":"keep"}`, "", `{"azure_storage_tag": "keep", "azure_tag": "azure-storage"}`},
	}
	for _, tt := range tests {
		got, err := appendPyRecord(nil, []byte(tt.in), tt.tag)
		if err != nil || string(got) != tt.want {
			t.Errorf("appendPyRecord(%s):\n got %s (%v)\nwant %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`[1]`, `"s"`, `1`} {
		if _, err := appendPyRecord(nil, []byte(bad), ""); err == nil {
			t.Errorf("appendPyRecord(%s) accepted", bad)
		}
	}
}

// FuzzAppendPyRecord: for any valid JSON object, the event is valid JSON
// with the same content plus the tags.
func FuzzAppendPyRecord(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1.5e300,"b":[{"c":"\u00e9"}]}`, `{"azure_tag":[1,{"x":2}],"y":-0}`, `{"a":"\ud800x"}`} {
		f.Add([]byte(s), "tag")
	}
	f.Fuzz(func(t *testing.T, in []byte, tag string) {
		if !json.Valid(in) || validTag(tag) != nil {
			return
		}
		var want map[string]any
		if json.Unmarshal(in, &want) != nil {
			return // not an object
		}
		out, err := appendPyRecord(nil, in, tag)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			if bytes.Contains(out, []byte("Infinity")) {
				return // Python writes overflowing floats as Infinity, as Wazuh sends them
			}
			t.Fatalf("%s gave invalid JSON %s: %v", in, out, err)
		}
		want[tagKey] = tagValue
		if tag != "" {
			want[storageTagKey] = tag
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s gave %s", in, out)
		}
	})
}

// FuzzBlobContent reads arbitrary blob bytes as each content type: no panic,
// every event within the blob, every json_file event valid JSON, and reading
// on from any acknowledged position gives the rest of the events.
func FuzzBlobContent(f *testing.F) {
	f.Add([]byte("{\"records\":[{\"a\":1},{\"b\":2}]}"), uint8(0))
	f.Add([]byte("{\"a\":1}\n{\"b\":[2]}\nnot\n"), uint8(1))
	f.Add([]byte("line 1\r\nline 2"), uint8(2))
	f.Add([]byte("{\"records\":[{\"a\":1},"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		ct := []string{JSONFile, JSONInline, Text}[kind%3]
		all, ends := readAll(t, data, ct, 0, "")
		for i, e := range all {
			if e.off < 0 || e.off >= int64(len(data)) {
				t.Fatalf("event %d at offset %d of %d bytes", i, e.off, len(data))
			}
			if ct == JSONFile && !json.Valid([]byte(e.log)) && !bytes.Contains([]byte(e.log), []byte("Infinity")) {
				t.Fatalf("event %q is not JSON", e.log)
			}
		}
		if len(all) < 2 || bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			return
		}
		// Resume after the first event, as after a growth.
		rest, _ := readAll(t, data, ct, ends[0], all[0].form)
		if len(rest) != len(all)-1 {
			t.Fatalf("resumed at %d (%s): %d events, want %d", ends[0], all[0].form, len(rest), len(all)-1)
		}
		for i := range rest {
			if rest[i].log != all[i+1].log || rest[i].off != all[i+1].off {
				t.Fatalf("resumed event %d = %q at %d, want %q at %d", i, rest[i].log, rest[i].off, all[i+1].log, all[i+1].off)
			}
		}
	})
}

type readEvent struct {
	log  string
	off  int64
	form string
}

// readAll parses data (from start, as a blob of form) without Azure.
func readAll(t *testing.T, data []byte, ct string, start int64, form string) ([]readEvent, []int64) {
	s := &Source{name: "f", cfg: Config{ContentType: ct, Tag: "t"}, log: slog.New(slog.DiscardHandler), now: time.Now,
		maxRec: 1 << 16, track: newTracker()}
	var out []readEvent
	var ends []int64
	r := &blobRead{s: s, unit: "c/b"}
	r.st.Form, r.pos = form, start
	r.emit = func(_ context.Context, b *source.Batch) error {
		for _, e := range b.Events {
			out = append(out, readEvent{string(e.Log), e.Origin.Offset, r.st.Form})
		}
		ends = append(ends, r.pos)
		b.Ack(nil)
		return nil
	}
	r.maxEvents = 1 // one event per batch, so that each batch ends at a record's end
	_ = r.parse(context.Background(), bytes.NewReader(data[start:]), start)
	_ = r.flush(context.Background())
	return out, ends
}
