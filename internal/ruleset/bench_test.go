package ruleset_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// BenchmarkBuiltinCloudTrail measures decode + match of real CloudTrail events
// against the default ruleset, whose correlation rules keep and scan a history of
// stored events. Compare with wazuhxml's BenchmarkStockRulesetCloudTrail.
func BenchmarkBuiltinCloudTrail(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(sharedcorpus.Path(b, "corpus", "wazuh-oracle"), "aws-cloudtrail-public.events.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, rules.Options{}, ruleset.FS())
	if err != nil {
		b.Fatal(err)
	}
	m := rules.NewEngine(rs, rules.EngineOptions{}).NewMatcher()
	now := time.Now()
	var n int64
	for _, l := range lines {
		n += int64(len(l))
	}
	b.SetBytes(n / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	alerts := 0
	for i := 0; i < b.N; i++ {
		ev := event.Event{Log: lines[i%len(lines)], Location: "Wazuh-AWS", AgentID: "000", Received: now}
		if m.Process(&ev).Alert {
			alerts++
		}
	}
	b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
}
