package jsonstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzReader checks that any input yields, in order, non-overlapping records
// that are exactly the input bytes at their offsets and valid JSON, and that
// the reader always terminates.
func FuzzReader(f *testing.F) {
	for _, tc := range readerCases {
		f.Add(byte(tc.opt.Format)|byte(tc.opt.MaxRecordBytes&0xf0), []byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, mode byte, in []byte) {
		opt := Options{Format: Format(mode & 3)}
		if n := int(mode >> 4); n > 0 {
			opt.MaxRecordBytes = n * 4
		}
		var src io.Reader = bytes.NewReader(in)
		if mode&8 != 0 {
			src = iotest.HalfReader(src)
		}
		r := NewReader(src, opt)
		next, fatal := int64(0), false
		for i := 0; ; i++ {
			if i > len(in)+2 {
				t.Fatalf("no progress after %d calls", i)
			}
			rec, off, err := r.Next()
			if err == io.EOF {
				return
			}
			if fatal {
				t.Fatalf("result after a fatal error: %q %v", rec, err)
			}
			if err != nil {
				var re *RecordError
				if !errors.As(err, &re) {
					t.Fatalf("error %v is not a *RecordError", err)
				}
				fatal = re.Fatal
				continue
			}
			if off < next || off+int64(len(rec)) > int64(len(in)) {
				t.Fatalf("record at %d overlaps the previous one ending at %d", off, next)
			}
			if !bytes.Equal(in[off:off+int64(len(rec))], rec) {
				t.Fatalf("record at %d is not the input there: %q", off, rec)
			}
			if !json.Valid(rec) {
				t.Fatalf("invalid JSON returned: %q", rec)
			}
			next = off + int64(len(rec))
		}
	})
}

// FuzzValidator cross-checks the hand-written validator with encoding/json.
func FuzzValidator(f *testing.F) {
	for _, tc := range readerCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var v validator
		at, msg := v.check(in)
		ours := at < 0
		// encoding/json accepts invalid UTF-8 in strings; we do not.
		theirs := json.Valid(in) && utf8Clean(in)
		if ours != theirs {
			t.Fatalf("validator says %v (%d %s), encoding/json says %v for %q", ours, at, msg, theirs, in)
		}
	})
}

// utf8Clean reports whether decoding in as UTF-8 never fails.
func utf8Clean(in []byte) bool {
	return bytes.Equal(bytes.ToValidUTF8(in, []byte("\xff")), in) && !bytes.Contains(in, []byte("\xff"))
}
