package awsevent

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"testing"
)

// corpusRecords returns every record of the oracle CloudTrail set's source
// files (2945 records) with its account.
func corpusRecords(b *testing.B) ([][]byte, []string) {
	b.Helper()
	corpus := filepath.Join(sharedDir(b), "corpus")
	var names []string
	for _, pattern := range []string{
		"invictus-ir-aws-dataset/CloudTrail/*.json",
		"aws-cloudtrail-processing-library/Serializer*.json*",
		"aws-centralized-logging-with-opensearch/log-processor/cloudtrail.log",
	} {
		m, _ := filepath.Glob(filepath.Join(corpus, pattern))
		for _, f := range m {
			if rel, _ := filepath.Rel(corpus, f); filepath.Base(rel) != "SerializerTestFileBadJsonFormat.json" {
				names = append(names, rel)
			}
		}
	}
	sort.Strings(names)
	var recs [][]byte
	var accts []string
	for _, n := range names {
		cf := loadCorpusFile(b, corpus, n)
		for _, r := range cf.records {
			recs = append(recs, r)
			accts = append(accts, cf.account)
		}
	}
	if len(recs) == 0 {
		b.Skip("SKIP: /work/shared CloudTrail corpus files not found; benchmark did not run")
	}
	return recs, accts
}

// BenchmarkAppendCloudTrail converts the corpus records round robin; one op is
// one record.
func BenchmarkAppendCloudTrail(b *testing.B) {
	recs, accts := corpusRecords(b)
	total := 0
	for _, r := range recs {
		total += len(r)
	}
	info := LogInfo{LogFile: "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/x.json.gz", Bucket: "bucket"}
	var enc Encoder
	out := make([]byte, 0, 64<<10)
	b.SetBytes(int64(total / len(recs)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var err error
		if out, err = enc.AppendCloudTrail(out[:0], recs[i], info, accts[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(recs) {
			i = 0
		}
	}
}

// BenchmarkAppendCloudTrailPooled measures the package function (pool round trip).
func BenchmarkAppendCloudTrailPooled(b *testing.B) {
	recs, accts := corpusRecords(b)
	info := LogInfo{LogFile: "k", Bucket: "bucket"}
	out := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var err error
		if out, err = AppendCloudTrail(out[:0], recs[i], info, accts[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(recs) {
			i = 0
		}
	}
}

// BenchmarkEncodingJSONBaseline is a reference point: unmarshal into
// map[string]any and marshal back, what a naive conversion would cost.
func BenchmarkEncodingJSONBaseline(b *testing.B) {
	recs, _ := corpusRecords(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(recs[i], &m); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(recs) {
			i = 0
		}
	}
}
