package jsonstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// sharedDir is sharedcorpus.Dir, kept for bench_test.go.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	return sharedcorpus.Dir(tb)
}

// TestCorpusCloudTrail splits every CloudTrail document of the corpus and
// compares the records with encoding/json's view of the same document.
func TestCorpusCloudTrail(t *testing.T) {
	corpus := filepath.Join(sharedcorpus.Dir(t), "corpus")
	files, _ := filepath.Glob(filepath.Join(corpus, "invictus-ir-aws-dataset", "CloudTrail", "*.json"))
	more, _ := filepath.Glob(filepath.Join(corpus, "aws-cloudtrail-processing-library", "Serializer*.json*"))
	files = append(files, more...)
	files = append(files, filepath.Join(corpus, "aws-centralized-logging-with-opensearch", "log-processor", "cloudtrail.log"))
	if len(files) < 60 {
		t.Fatalf("expected the CloudTrail corpus files, found %d", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readCorpusFile(t, path)
			var doc struct{ Records []json.RawMessage }
			wantErr := json.Unmarshal(data, &doc) != nil
			r := NewReader(bytes.NewReader(data), Options{})
			var got []json.RawMessage
			var gotErr error
			for {
				rec, _, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					gotErr = err
					continue
				}
				got = append(got, append(json.RawMessage(nil), rec...))
			}
			if wantErr {
				if gotErr == nil || !errors.Is(gotErr, ErrSyntax) {
					t.Fatalf("document is malformed but the reader reported %v", gotErr)
				}
				t.Logf("malformed document reported as: %v", gotErr)
				return
			}
			if gotErr != nil {
				t.Fatalf("unexpected error: %v", gotErr)
			}
			if len(got) != len(doc.Records) {
				t.Fatalf("got %d records, want %d", len(got), len(doc.Records))
			}
			for i := range got {
				if !bytes.Equal(got[i], doc.Records[i]) {
					t.Fatalf("record %d differs:\n got %s\nwant %s", i, got[i], doc.Records[i])
				}
			}
		})
	}
}

// TestBadJSONFormatFile pins the error for the corpus file Wazuh cannot parse.
func TestBadJSONFormatFile(t *testing.T) {
	path := filepath.Join(sharedcorpus.Dir(t), "corpus", "aws-cloudtrail-processing-library", "SerializerTestFileBadJsonFormat.json")
	r := NewReader(bytes.NewReader(readCorpusFile(t, path)), Options{})
	n := 0
	for {
		_, _, err := r.Next()
		if err == io.EOF {
			t.Fatalf("no error after %d records", n)
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) || !re.Fatal || !errors.Is(err, ErrSyntax) {
				t.Fatalf("got %v, want a fatal syntax RecordError", err)
			}
			t.Logf("reported: %v", err)
			return
		}
		n++
	}
}

func readCorpusFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Ext(path) == ".gz" {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("gunzip %s: %v", path, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("gunzip %s: %v", path, err)
		}
	}
	return data
}
