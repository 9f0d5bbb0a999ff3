package jsonstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll drains r and renders each Next result as one line, so a table row can
// state the whole expected conversation. Records print as "R@off:<text>",
// errors as "E@off:L<line>:<cause>" plus ":fatal" when the reader stopped.
func readAll(t testing.TB, r *Reader, src []byte) []string {
	t.Helper()
	var out []string
	for i := 0; ; i++ {
		if i > len(src)+10 {
			t.Fatalf("reader does not terminate: %q", out)
		}
		rec, off, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RecordError", err)
			}
			if re.Offset != off {
				t.Fatalf("RecordError offset %d, Next offset %d", re.Offset, off)
			}
			s := fmt.Sprintf("E@%d:L%d:%s", off, re.Line, causeName(err))
			if re.Fatal {
				s += ":fatal"
			}
			out = append(out, s)
			continue
		}
		if src != nil && !bytes.Equal(src[off:off+int64(len(rec))], rec) {
			t.Fatalf("record at %d is not the input bytes there: %q", off, rec)
		}
		out = append(out, fmt.Sprintf("R@%d:%s", off, rec))
	}
}

func causeName(err error) string {
	switch {
	case errors.Is(err, ErrSyntax):
		return "syntax"
	case errors.Is(err, ErrTooLarge):
		return "toolarge"
	case errors.Is(err, ErrTruncated):
		return "truncated"
	}
	return "other"
}

type readerCase struct {
	name string
	in   string
	opt  Options
	want []string
}

var readerCases = []readerCase{
	{name: "records array", in: `{"Records":[{"a":1},{"b":[2,{"c":"}"}]}]}`,
		want: []string{`R@12:{"a":1}`, `R@20:{"b":[2,{"c":"}"}]}`}},
	{name: "lowercase records key", in: `{"records": [ {"a":1} ]}`,
		want: []string{`R@14:{"a":1}`}},
	{name: "pretty document with BOM", in: "\xef\xbb\xbf{\n  \"Records\" : [\n    {\"a\": 1},\n    {\"b\": 2}\n  ]\n}\n",
		want: []string{`R@25:{"a": 1}`, `R@39:{"b": 2}`}},
	{name: "empty records", in: `{"Records":[]}`, want: nil},
	{name: "records key not first is one record", in: `{"x":1,"Records":[{"a":1}]}`,
		want: []string{`R@0:{"x":1,"Records":[{"a":1}]}`}},
	{name: "records key holding an object is one record", in: `{"Records":{"a":1}}`,
		want: []string{`R@0:{"Records":{"a":1}}`}},
	{name: "config key not first", opt: Options{Format: RecordsArray, ArrayKeys: []string{"configurationItems"}},
		in:   `{"fileVersion":"1.0","configurationItems":[{"x":1},{"y":[]}],"tail":{"z":null}}`,
		want: []string{`R@43:{"x":1}`, `R@51:{"y":[]}`}},
	{name: "explicit records array without the key", opt: Options{Format: RecordsArray},
		in: `{"other":[1,2]}`, want: nil},
	{name: "explicit records array with null records", opt: Options{Format: RecordsArray},
		in: `{"Records":null}`, want: nil},
	{name: "two record arrays", opt: Options{Format: RecordsArray},
		in: `{"Records":[1],"records":[2]}`, want: []string{`R@12:1`, `R@26:2`}},
	{name: "malformed element ends the document", in: `{"Records":[{"a":1},{"b":2,}]}`,
		want: []string{`R@12:{"a":1}`, `E@20:L0:syntax:fatal`}},
	{name: "missing brace ends the document", in: "{\"Records\":[{\"a\":{\"b\":1},\n{\"c\":2}]}",
		want: []string{`E@12:L0:syntax:fatal`}},
	{name: "unclosed record at the end", in: "{\"Records\":[{\"a\":{\"b\":1},\n{\"c\":2}",
		want: []string{`E@12:L0:truncated:fatal`}},
	{name: "missing comma between records", in: `{"Records":[{"a":1} {"b":2}]}`,
		want: []string{`R@12:{"a":1}`, `E@20:L0:syntax:fatal`}},
	{name: "trailing comma in records", in: `{"Records":[{"a":1},]}`,
		want: []string{`R@12:{"a":1}`, `E@20:L0:syntax:fatal`}},
	{name: "truncated document", in: `{"Records":[{"a":1},{"b":`,
		want: []string{`R@12:{"a":1}`, `E@20:L0:truncated:fatal`}},
	{name: "truncated after last record", in: `{"Records":[{"a":1}`,
		want: []string{`R@12:{"a":1}`, `E@19:L0:truncated:fatal`}},
	{name: "data after document", in: `{"Records":[{"a":1}]} x`,
		want: []string{`R@12:{"a":1}`, `E@22:L0:syntax:fatal`}},
	{name: "bad member after records", opt: Options{Format: RecordsArray},
		in: `{"Records":[{"a":1}],"x":tru}`, want: []string{`R@12:{"a":1}`, `E@25:L0:syntax:fatal`}},
	{name: "explicit records array on a non-object", opt: Options{Format: RecordsArray},
		in: `[1]`, want: []string{`E@0:L0:syntax:fatal`}},
	{name: "json lines", in: "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}",
		want: []string{`R@0:{"a":1}`, `R@8:{"b":2}`, `R@18:{"c":3}`}},
	{name: "json lines unterminated line", in: "{\"a\":1}\n{\"b\":\n{\"c\":3}\n",
		want: []string{`R@0:{"a":1}`, `E@8:L2:syntax`, `R@14:{"c":3}`}},
	{name: "json lines unterminated string", in: "{\"a\":1}\n{\"b\":\"x\n{\"c\":3}\n",
		want: []string{`R@0:{"a":1}`, `E@8:L2:syntax`, `R@16:{"c":3}`}},
	{name: "json lines invalid value", in: "{\"a\":1}\n{\"b\":x}\n{\"c\":3}",
		want: []string{`R@0:{"a":1}`, `E@8:L2:syntax`, `R@16:{"c":3}`}},
	{name: "json lines stray bracket", in: "{\"a\":1}\n]]{\"b\":1}\n{\"c\":3}",
		want: []string{`R@0:{"a":1}`, `E@8:L2:syntax`, `R@18:{"c":3}`}},
	{name: "json lines garbage token", in: "{\"a\":1}\nhello\n{\"c\":3}",
		want: []string{`R@0:{"a":1}`, `E@8:L2:syntax`, `R@14:{"c":3}`}},
	{name: "explicit lines refuses multi-line values", opt: Options{Format: Lines}, in: "{\n\"a\":1}\n{\"b\":2}",
		want: []string{`E@0:L1:syntax`, `R@2:"a"`, `E@5:L2:syntax`, `R@9:{"b":2}`}},
	{name: "concatenated without separators", in: `{"a":1}{"b":2}[3]"s"4 true null`,
		want: []string{`R@0:{"a":1}`, `R@7:{"b":2}`, `R@14:[3]`, `R@17:"s"`, `R@20:4`, `R@22:true`, `R@27:null`}},
	{name: "concatenated pretty values", in: "{\n  \"a\": 1\n}\n{\n  \"b\": [\n 2\n]\n}\n",
		want: []string{"R@0:{\n  \"a\": 1\n}", "R@13:{\n  \"b\": [\n 2\n]\n}"}},
	{name: "concatenated stray punctuation", opt: Options{Format: Concatenated}, in: `{"a":1}},]{"b":2}`,
		want: []string{`R@0:{"a":1}`, `E@7:L1:syntax`, `R@10:{"b":2}`}},
	{name: "concatenated invalid but balanced", opt: Options{Format: Concatenated}, in: "{\"a\":\n1,}\n{\"b\":2}",
		want: []string{`E@0:L1:syntax`, `R@10:{"b":2}`}},
	{name: "concatenated truncated", opt: Options{Format: Concatenated}, in: "{\"a\":1}\n{\"b\":[",
		want: []string{`R@0:{"a":1}`, `E@8:L2:truncated:fatal`}},
	{name: "escapes and brackets in strings", in: `{"a":"}\"{[\\"}{"b":"\\\\"}`,
		want: []string{`R@0:{"a":"}\"{[\\"}`, `R@15:{"b":"\\\\"}`}},
	{name: "invalid utf8", in: "{\"a\":\"\xff\"}\n{\"b\":1}",
		want: []string{`E@0:L1:syntax`, `R@10:{"b":1}`}},
	{name: "control character in string", in: "{\"a\":\"\x01\"}\n{\"b\":1}",
		want: []string{`E@0:L1:syntax`, `R@10:{"b":1}`}},
	{name: "invalid number", in: "{\"a\":01}\n{\"a\":-}\n{\"a\":1.}\n{\"a\":1e}\n{\"a\":NaN}\n[1.5e+3]",
		want: []string{`E@0:L1:syntax`, `E@9:L2:syntax`, `E@17:L3:syntax`, `E@26:L4:syntax`, `E@35:L5:syntax`, `R@45:[1.5e+3]`}},
	{name: "empty input", in: "", want: nil},
	{name: "whitespace only", in: " \n\t\r\n", want: nil},
	{name: "bom only", in: "\xef\xbb\xbf", want: nil},
	{name: "too large line", opt: Options{MaxRecordBytes: 16},
		in:   "{\"a\":\"0123456789abcdefgh\"}\n{\"b\":1}\n",
		want: []string{`E@0:L1:toolarge`, `R@27:{"b":1}`}},
	{name: "too large concatenated with escapes", opt: Options{Format: Concatenated, MaxRecordBytes: 12},
		in:   `{"a":"]\"}\\\"]}[{\"]"} {"b":1}`,
		want: []string{`E@0:L1:toolarge`, `R@24:{"b":1}`}},
	{name: "too large record in array", opt: Options{MaxRecordBytes: 10},
		in:   `{"Records":[{"a":"0123456789"},{"b":1},{"c":[1,2,3,4,5,6,7,8]}]}`,
		want: []string{`E@12:L0:toolarge`, `R@31:{"b":1}`, `E@39:L0:toolarge`}},
	{name: "too large truncated", opt: Options{Format: Concatenated, MaxRecordBytes: 8},
		in: `{"a":"0123456789`, want: []string{`E@0:L1:toolarge:fatal`}},
	{name: "top level scalars", in: "1 -2.5e3\n\"x\" [] {}",
		want: []string{`R@0:1`, `R@2:-2.5e3`, `R@9:"x"`, `R@13:[]`, `R@16:{}`}},
}

func TestReader(t *testing.T) {
	for _, tc := range readerCases {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, NewReader(strings.NewReader(tc.in), tc.opt), []byte(tc.in))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			// Refilling one byte at a time must not change anything.
			slow := readAll(t, NewReader(iotest.OneByteReader(strings.NewReader(tc.in)), tc.opt), []byte(tc.in))
			if strings.Join(slow, "\n") != strings.Join(got, "\n") {
				t.Errorf("one-byte reads differ:\n  %s", strings.Join(slow, "\n  "))
			}
		})
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader(`{"Records":[{"a":1},{"b"`), iotest.ErrReader(boom))
	r := NewReader(src, Options{})
	if rec, _, err := r.Next(); err != nil || string(rec) != `{"a":1}` {
		t.Fatalf("first record: %q, %v", rec, err)
	}
	_, off, err := r.Next()
	var re *RecordError
	if !errors.As(err, &re) || !errors.Is(err, boom) || !re.Fatal || off != 20 {
		t.Fatalf("got %v at %d, want fatal read error at 20", err, off)
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("after fatal error got %v, want io.EOF", err)
	}
}

func TestRecordErrorMessage(t *testing.T) {
	r := NewReader(strings.NewReader("{\"a\":1}\n{\"a\":tru}\n"), Options{Format: Lines})
	_, _, _ = r.Next()
	_, _, err := r.Next()
	const want = "jsonstream: record at offset 8 (line 2): invalid JSON: invalid literal at offset 13"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{Auto: "auto", RecordsArray: "records-array", Lines: "lines",
		Concatenated: "concatenated", Format(9): "Format(9)"} {
		if got := f.String(); got != want {
			t.Errorf("%d: got %q, want %q", int(f), got, want)
		}
	}
}
