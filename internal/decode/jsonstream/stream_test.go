package jsonstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// recordGen produces a {"Records":[...]} document of n records lazily, so a
// test can stream far more data than it ever holds.
type recordGen struct {
	n, i int
	cur  []byte
	done bool
}

func (g *recordGen) Read(p []byte) (int, error) {
	for len(g.cur) == 0 {
		switch {
		case g.done:
			return 0, io.EOF
		case g.i == 0:
			g.cur = []byte(`{"Records":[`)
		case g.i > g.n:
			g.cur, g.done = []byte(`]}`), true
		default:
			sep := ","
			if g.i == 1 {
				sep = ""
			}
			g.cur = fmt.Appendf(nil, `%s{"eventID":"%08d","requestParameters":{"bucketName":"b-%d","x":[1,2,{"y":"\"]}"}]},"pad":"%s"}`,
				sep, g.i, g.i, strings.Repeat("p", 900))
		}
		g.i++
	}
	n := copy(p, g.cur)
	g.cur = g.cur[n:]
	return n, nil
}

func TestManyRecordsUseConstantMemory(t *testing.T) {
	const n = 60000 // about 60 MB
	r := NewReader(&recordGen{n: n}, Options{})
	count := 0
	for {
		rec, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", count, err)
		}
		count++
		if want := fmt.Sprintf(`{"eventID":"%08d"`, count); !bytes.HasPrefix(rec, []byte(want)) {
			t.Fatalf("record %d starts %q", count, rec[:30])
		}
	}
	if count != n {
		t.Fatalf("got %d records, want %d", count, n)
	}
	if cap(r.buf) > initialBuffer {
		t.Fatalf("buffer grew to %d bytes for 1 KB records", cap(r.buf))
	}
}

func TestHugeSingleRecord(t *testing.T) {
	const size = 50 << 20
	var b bytes.Buffer
	b.WriteString(`{"Records":[{"big":"`)
	b.WriteString(strings.Repeat(`a\"{[`, size/5))
	b.WriteString(`","n":[1,2]},{"small":true}]}`)
	r := NewReader(bytes.NewReader(b.Bytes()), Options{})
	rec, off, err := r.Next()
	if err != nil || off != 12 || len(rec) < size || !bytes.HasSuffix(rec, []byte(`"n":[1,2]}`)) {
		t.Fatalf("big record: len %d off %d err %v", len(rec), off, err)
	}
	if cap(r.buf) > 2*len(rec)+4*minRead {
		t.Fatalf("buffer %d bytes for a %d-byte record", cap(r.buf), len(rec))
	}
	if rec, _, err = r.Next(); err != nil || string(rec) != `{"small":true}` {
		t.Fatalf("second record: %q %v", rec, err)
	}
	if _, _, err = r.Next(); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
}

func TestOversizedRecordIsStreamedPast(t *testing.T) {
	const max = 1 << 20
	var b bytes.Buffer
	b.WriteString(`{"Records":[{"ok":1},{"big":"`)
	b.WriteString(strings.Repeat(`\\\"x`, 3*max/4))
	b.WriteString(`"},{"ok":2}]}`)
	r := NewReader(bytes.NewReader(b.Bytes()), Options{MaxRecordBytes: max})
	var got []string
	for {
		rec, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			got = append(got, causeName(err))
			continue
		}
		got = append(got, string(rec))
	}
	if want := `{"ok":1}|toolarge|{"ok":2}`; strings.Join(got, "|") != want {
		t.Fatalf("got %q, want %s", got, want)
	}
	if cap(r.buf) > max+4*minRead {
		t.Fatalf("buffer grew to %d past the %d limit", cap(r.buf), max)
	}
}

func TestTruncatedGzip(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	fmt.Fprintf(zw, `{"Records":[{"a":1},{"b":"%s"},{"c":3}]}`, strings.Repeat("xyz", 30000))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	cut := z.Bytes()[:z.Len()/2]
	zr, err := gzip.NewReader(bytes.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(zr, Options{})
	if rec, _, err := r.Next(); err != nil || string(rec) != `{"a":1}` {
		t.Fatalf("first record: %q %v", rec, err)
	}
	_, off, err := r.Next()
	var re *RecordError
	if !errors.As(err, &re) || !re.Fatal || off != 20 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v at offset %d, want a fatal read error for the record at 20", err, off)
	}
	if !strings.Contains(err.Error(), "offset 20") {
		t.Fatalf("error does not name the offset: %v", err)
	}
}
