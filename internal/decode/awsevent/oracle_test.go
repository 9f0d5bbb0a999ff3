package awsevent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/skywatch-dev/skywatch/internal/decode/jsonstream"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// sharedDir is sharedcorpus.Dir, kept for bench_test.go.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	return sharedcorpus.Dir(tb)
}

// corpusFile is one corpus document split into records.
type corpusFile struct {
	records [][]byte
	account string
}

// loadCorpusFile reads a CloudTrail document (gzip by suffix) with jsonstream
// and works out the account the way the oracle set did: from the file name,
// else from the first record carrying recipientAccountId.
func loadCorpusFile(t testing.TB, corpus, rel string) *corpusFile {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var src io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(rel, ".gz") {
		zr, err := gzip.NewReader(src)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		src = zr
	}
	cf := &corpusFile{account: AccountFromKey(rel)}
	r := jsonstream.NewReader(src, jsonstream.Options{})
	for {
		rec, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		cf.records = append(cf.records, append([]byte(nil), rec...))
		if cf.account == "" {
			cf.account = RecipientAccountID(rec)
		}
	}
	return cf
}

// TestOracleCloudTrail requires every event of the Wazuh oracle CloudTrail set
// to be reproduced byte for byte from its corpus record.
func TestOracleCloudTrail(t *testing.T) {
	shared := sharedcorpus.Dir(t)
	oracle := sharedcorpus.Path(t, "corpus", "wazuh-oracle")
	events := readLines(t, filepath.Join(oracle, "aws-cloudtrail-public.events.jsonl"))
	prov := readLines(t, filepath.Join(oracle, "aws-cloudtrail-public.provenance.jsonl"))
	if len(events) != len(prov) || len(events) != 2945 {
		t.Fatalf("got %d events and %d provenance lines, want 2945 of each", len(events), len(prov))
	}
	files := map[string]*corpusFile{}
	var enc Encoder
	var out []byte
	failed := 0
	for i, line := range prov {
		var p struct {
			Source string `json:"source"`
			Record int    `json:"record"`
		}
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatalf("provenance line %d: %v", i+1, err)
		}
		cf := files[p.Source]
		if cf == nil {
			cf = loadCorpusFile(t, filepath.Join(shared, "corpus"), p.Source)
			files[p.Source] = cf
		}
		if p.Record >= len(cf.records) {
			t.Fatalf("line %d: %s has %d records, want index %d", i+1, p.Source, len(cf.records), p.Record)
		}
		var err error
		out, err = enc.AppendCloudTrail(out[:0], cf.records[p.Record], LogInfo{LogFile: p.Source, Bucket: "corpus-bucket"}, cf.account)
		if err != nil {
			t.Errorf("line %d (%s #%d): %v", i+1, p.Source, p.Record, err)
			failed++
			continue
		}
		if !bytes.Equal(out, events[i]) {
			failed++
			if failed <= 3 {
				t.Errorf("line %d (%s #%d) differs at byte %d:\n got %s\nwant %s", i+1, p.Source, p.Record,
					firstDiff(out, events[i]), out, events[i])
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d oracle events differ", failed, len(events))
	}
	t.Logf("%d of %d oracle events are byte-identical", len(events), len(events))
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
