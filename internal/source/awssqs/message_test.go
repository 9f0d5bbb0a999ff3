package awssqs

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func TestParseMessage(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 5, 0, 123e6, time.UTC)
	for _, tc := range []struct {
		name, body string
		want       []objectRef
		err        error // errNoObjects, or any error when non-nil
	}{
		{"s3 with encoded keys", s3Event("a b+c/ü.gz", "x%y.gz"), []objectRef{
			{bucket: "logs", key: "a b+c/ü.gz", region: "us-east-1", when: at},
			{bucket: "logs", key: "x%y.gz", region: "us-east-1", when: at}}, nil},
		{"sns", snsWrap(s3Event("k.gz")), []objectRef{{bucket: "logs", key: "k.gz", region: "us-east-1", when: at}}, nil},
		{"eventbridge keeps keys", eventBridge("a+b c%20.parquet"), []objectRef{
			{bucket: "logs", key: "a+b c%20.parquet", region: "us-east-1", when: time.Date(2024, 5, 1, 10, 5, 0, 0, time.UTC)}}, nil},
		{"test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"logs"}`, nil, errNoObjects},
		{"sns test event", snsWrap(`{"Service":"Amazon S3","Event":"s3:TestEvent"}`), nil, errNoObjects},
		{"sns confirmation", `{"Type":"SubscriptionConfirmation","Message":"You have chosen..."}`, nil, errNoObjects},
		{"no records", `{"Records":[]}`, nil, errNoObjects},
		{"eventbridge deletion", `{"source":"aws.s3","detail-type":"Object Deleted","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`, nil, errNoObjects},
		{"not json", "hello", nil, errors.New("")},
		{"unknown json", `{"hello":"world"}`, nil, errors.New("")},
		{"bad escape", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%zz"}}}]}`, nil, errors.New("")},
		{"no key", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}`, nil, errors.New("")},
		{"sns in sns", snsWrap(snsWrap(s3Event("k"))), nil, errors.New("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMessage(tc.body)
			switch {
			case tc.err == errNoObjects && !errors.Is(err, errNoObjects),
				tc.err != nil && err == nil,
				tc.err == nil && err != nil:
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

type kv struct {
	K string `parquet:"k"`
	V *int64 `parquet:"v,optional"`
}

type exotic struct {
	Structs []kv           `parquet:"structs,list"`
	Nested  [][]int32      `parquet:"nested,list"`
	Bare    []string       `parquet:"bare"`
	Dec     int64          `parquet:"dec,decimal(2:10)"`
	Date    int32          `parquet:"date,date"`
	Micros  int64          `parquet:"micros,timestamp(microsecond)"`
	UUID    [16]byte       `parquet:"id,uuid"`
	F       float64        `parquet:"f"`
	U       uint64         `parquet:"u"`
	Raw     []byte         `parquet:"raw"`
	Text    string         `parquet:"text"`
	OptMap  map[string]int `parquet:"m,optional"`
	Flag    *bool          `parquet:"flag,optional"`
	F32     float32        `parquet:"f32"`
}

// TestRowJSON: nested lists, lists of structs, bare repeated fields, decimals,
// dates, timestamps, UUIDs, non-finite floats, unsigned integers, binary and
// escaped text come out as JSON, in json.dumps' text.
func TestRowJSON(t *testing.T) {
	one := int64(1)
	tr := true
	rows := []exotic{{
		Structs: []kv{{"a", &one}, {"b", nil}}, Nested: [][]int32{{1, 2}, {}, {3}}, Bare: []string{"x", "y"},
		Dec: -12345, Date: 19844, Micros: 1680282685123456, UUID: [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8},
		F: math.NaN(), U: math.MaxUint64, Raw: []byte{0xff, 0x00}, Text: "q\"\\\n\x01é😀", OptMap: map[string]int{"z": 1, "a": 2}, Flag: &tr, F32: 0.1,
	}, {Dec: 5, F: 1.5, F32: 2}}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[exotic](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	w.Close()
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	conv := newRowJSON(pf.Root())
	rr := pf.RowGroups()[0].Rows()
	got := make([]parquet.Row, 2)
	if n, _ := rr.ReadRows(got); n != 2 {
		t.Fatalf("read %d rows", n)
	}
	want := []string{
		`{"structs": [{"k": "a", "v": 1}, {"k": "b", "v": null}], "nested": [[1, 2], [], [3]], "bare": ["x", "y"], "dec": -123.45, ` +
			`"date": "2024-05-01", "micros": 1680282685123, "id": "12345678-9abc-def0-0102-030405060708", "f": null, ` +
			`"u": 18446744073709551615, "raw": "/wA=", "text": "q\"\\\n\u0001\u00e9\ud83d\ude00", "m": [["a", 2], ["z", 1]], "flag": true, "f32": 0.10000000149011612}`,
		`{"structs": [], "nested": [], "bare": [], "dec": 0.05, "date": "1970-01-01", "micros": 0, "id": "00000000-0000-0000-0000-000000000000", ` +
			`"f": 1.5, "u": 0, "raw": "", "text": "", "m": null, "flag": null, "f32": 2.0}`,
	}
	for i := range want {
		if s := string(conv.appendRow(nil, got[i])); s != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, s, want[i])
		}
	}
}

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{
		1: "1.0", -2.5: "-2.5", 0.1: "0.1", 1e16: "1e+16", 1e15: "1000000000000000.0", 123456789012345678: "1.2345678901234568e+17",
		0.0001: "0.0001", 0.00001: "1e-05", 1.5e-7: "1.5e-07", 1e100: "1e+100", math.Copysign(0, -1): "-0.0", 0: "0.0", math.Inf(1): "null",
	} {
		if got := string(appendPyFloat(nil, f)); got != want {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}
