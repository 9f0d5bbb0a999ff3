package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/decode/jsonstream"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// benchBucket returns a folder of gzip CloudTrail objects. SKYWATCH_BENCH_CLOUDTRAIL
// names one made by ../shared/tools/gen_cloudtrail.py (the 200k-event target corpus);
// otherwise 20,000 real records from the shared corpus are replicated into one.
func benchBucket(b *testing.B) (string, int) {
	if dir := os.Getenv("SKYWATCH_BENCH_CLOUDTRAIL"); dir != "" {
		return dir, 0
	}
	src := sharedcorpus.Path(b, "corpus", "invictus-ir-aws-dataset", "CloudTrail")
	files, _ := filepath.Glob(filepath.Join(src, "*.json"))
	var recs [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		r := jsonstream.NewReader(bytes.NewReader(data), jsonstream.Options{})
		for {
			rec, _, err := r.Next()
			if err != nil {
				break
			}
			recs = append(recs, append([]byte(nil), rec...))
		}
	}
	dir := b.TempDir()
	const total, perFile = 20000, 500
	for n, i := 0, 0; n < total; i++ {
		var doc bytes.Buffer
		doc.WriteString(`{"Records":[`)
		for j := 0; j < perFile && n < total; j++ {
			if j > 0 {
				doc.WriteByte(',')
			}
			doc.Write(recs[n%len(recs)])
			n++
		}
		doc.WriteString(`]}`)
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(doc.Bytes())
		w.Close()
		name := fmt.Sprintf("123456789012_CloudTrail_us-east-1_20240301T%04dZ_bench.json.gz", i)
		if err := os.WriteFile(filepath.Join(dir, name), gz.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir, total
}

// BenchmarkRunOnceCloudTrail measures `run --once` over a local CloudTrail bucket with
// Wazuh's whole stock ruleset loaded: gunzip, record splitting, the AWS module's
// wrapper, JSON flattening, matching, alert encoding and alerts.json writes included.
func BenchmarkRunOnceCloudTrail(b *testing.B) {
	rulesDir := os.Getenv("SKYWATCH_BENCH_RULES") // e.g. builtin
	if rulesDir == "" {
		rulesDir = sharedcorpus.Path(b, "corpus", "wazuh", "ruleset")
	}
	bucket, _ := benchBucket(b)
	b.ReportAllocs()
	var events int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tmp := b.TempDir()
		text := fmt.Sprintf("data_dir: %s\nrules: [%s]\noutputs:\n  - type: file\n    path: %s/alerts.json\nsources:\n  - name: bench\n    type: local\n    path: %s\n    log_type: cloudtrail\n",
			tmp, rulesDir, tmp, bucket)
		cfg, err := config.Parse("bench.yaml", []byte(text))
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		sum, err := Run(context.Background(), cfg, Options{Once: true})
		if err != nil {
			b.Fatal(err)
		}
		events += sum.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}
