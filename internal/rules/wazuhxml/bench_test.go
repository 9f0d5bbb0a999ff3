package wazuhxml

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// BenchmarkStockRulesetCloudTrail measures decode + match of real CloudTrail events
// (as Wazuh's AWS module wraps them) against Wazuh's whole stock ruleset.
func BenchmarkStockRulesetCloudTrail(b *testing.B) {
	dir := os.Getenv("SKYWATCH_BENCH_RULESET")
	if dir == "" {
		dir = sharedcorpus.Path(b, "corpus", "wazuh", "ruleset")
	}
	data, err := os.ReadFile(filepath.Join(sharedcorpus.Path(b, "corpus", "wazuh-oracle"), "aws-cloudtrail-public.events.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	rs, err := Load([]string{dir}, rules.Options{}, nil)
	if err != nil {
		b.Skipf("SKIP: stock ruleset does not load yet: %v", err)
	}
	eng := rules.NewEngine(rs, rules.EngineOptions{})
	m := eng.NewMatcher()
	now := time.Now()
	var bytesN int64
	for _, l := range lines {
		bytesN += int64(len(l))
	}
	b.SetBytes(bytesN / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	alerts := 0
	for i := 0; i < b.N; i++ {
		ev := event.Event{Log: lines[i%len(lines)], Location: "Wazuh-AWS", AgentID: "000", Received: now}
		if res := m.Process(&ev); res.Alert {
			alerts++
		}
	}
	b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
}
