package jsonstream

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"
)

// cloudTrailDoc builds a {"Records":[...]} document of n real CloudTrail
// records taken from the invictus-ir corpus files, in file order.
func cloudTrailDoc(b *testing.B, n int) []byte {
	b.Helper()
	files, _ := filepath.Glob(filepath.Join(sharedDir(b), "corpus", "invictus-ir-aws-dataset", "CloudTrail", "*.json"))
	if len(files) == 0 {
		b.Skip("SKIP: /work/shared/corpus/invictus-ir-aws-dataset/CloudTrail/*.json not found; benchmark did not run")
	}
	var recs [][]byte
	for _, f := range files {
		r := NewReader(bytes.NewReader(readCorpusFile(b, f)), Options{})
		for len(recs) < n {
			rec, _, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatalf("%s: %v", f, err)
			}
			recs = append(recs, append([]byte(nil), rec...))
		}
	}
	if len(recs) < n {
		b.Fatalf("corpus has only %d records", len(recs))
	}
	return append(append([]byte(`{"Records":[`), bytes.Join(recs, []byte(","))...), "]}"...)
}

func BenchmarkReaderCloudTrail500(b *testing.B) {
	doc := cloudTrailDoc(b, 500)
	src := bytes.NewReader(doc)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(doc)
		r := NewReader(src, Options{})
		n := 0
		for {
			_, _, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 500 {
			b.Fatalf("%d records", n)
		}
	}
}

// BenchmarkValidate measures the record validator alone, next to json.Valid.
func BenchmarkValidate(b *testing.B) {
	doc := cloudTrailDoc(b, 500)
	b.Run("validator", func(b *testing.B) {
		var v validator
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			if at, msg := v.check(doc); at >= 0 {
				b.Fatal(msg)
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(doc) {
				b.Fatal("invalid")
			}
		}
	})
}
