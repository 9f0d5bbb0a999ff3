package ruleset_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

// BenchmarkBuiltinAzure is BenchmarkBuiltinCloudTrail for the Azure events of
// the oracle set (Log Analytics rows, storage records, Graph events), each at
// the location Wazuh's module gave it.
func BenchmarkBuiltinAzure(b *testing.B) {
	dir := sharedcorpus.Path(b, "corpus", "wazuh-oracle")
	data, err := os.ReadFile(filepath.Join(dir, "azure-public.events.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	locs, err := os.ReadFile(filepath.Join(dir, "azure-public.locations.txt"))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	where := strings.Split(strings.TrimSpace(string(locs)), "\n")
	if len(where) != len(lines) {
		b.Fatalf("%d events, %d locations", len(lines), len(where))
	}
	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, rules.Options{}, ruleset.FS())
	if err != nil {
		b.Fatal(err)
	}
	m := rules.NewEngine(rs, rules.EngineOptions{}).NewMatcher()
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	alerts := 0
	for i := 0; i < b.N; i++ {
		ev := event.Event{Log: lines[i%len(lines)], Location: where[i%len(lines)], AgentID: "000", Received: now}
		if m.Process(&ev).Alert {
			alerts++
		}
	}
	b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
}

// BenchmarkBuiltinGCP is BenchmarkBuiltinCloudTrail for the GCP events of the
// oracle set (Cloud Audit Log entries in Wazuh's gcp wrapper).
func BenchmarkBuiltinGCP(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(sharedcorpus.Path(b, "corpus", "wazuh-oracle"), "gcp-public.events.jsonl"))
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
	b.ReportAllocs()
	b.ResetTimer()
	alerts := 0
	for i := 0; i < b.N; i++ {
		ev := event.Event{Log: lines[i%len(lines)], Location: "Wazuh-GCloud", AgentID: "000", Received: now}
		if m.Process(&ev).Alert {
			alerts++
		}
	}
	b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
}
