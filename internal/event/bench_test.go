package event

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

type countFields struct{ n int }

func (c *countFields) WriteField(_, _ []byte, _ uint64, _ bool) { c.n++ }

// BenchmarkFlattenCloudTrail measures JSON decode + flatten of real CloudTrail events
// as Wazuh's AWS module wraps them.
func BenchmarkFlattenCloudTrail(b *testing.B) {
	p := filepath.Join(sharedcorpus.Path(b, "corpus", "wazuh-oracle"), "aws-cloudtrail-public.events.jsonl")
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	var f Flattener
	var c countFields
	b.SetBytes(int64(len(data) / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.Flatten(lines[i%len(lines)], FlattenOptions{}, &c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.n)/float64(b.N), "fields/event")
}

func TestEventFields(t *testing.T) {
	ev := Event{Log: []byte(`{"aws":{"userIdentity":{"userName":"bob"},"n":1.5}}`)}
	fs, err := ev.Fields()
	if err != nil || len(fs) != 2 || fs[0] != (Field{"aws.userIdentity.userName", "bob"}) || fs[1].Value != "1.500000" {
		t.Fatalf("Fields() = %v, %v", fs, err)
	}
}
