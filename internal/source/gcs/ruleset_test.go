package gcs

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// corpusEntries returns the LogEntries of the wazuh-oracle gcp-public set, in
// the set's order, one JSON line each, and Wazuh's event for each.
func corpusEntries(t *testing.T) (lines, wazuh [][]byte) {
	t.Helper()
	oracle := sharedcorpus.Path(t, "corpus", "wazuh-oracle")
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	wazuh = bytes.Split(bytes.TrimSpace(read(oracle+"/gcp-public.events.jsonl")), []byte("\n"))
	fileLines := map[string][][]byte{}
	for _, p := range bytes.Split(bytes.TrimSpace(read(oracle+"/gcp-public.provenance.jsonl")), []byte("\n")) {
		var prov struct {
			Source string `json:"source"`
			Record int    `json:"record"`
		}
		if err := json.Unmarshal(p, &prov); err != nil {
			t.Fatal(err)
		}
		recs, ok := fileLines[prov.Source]
		if !ok {
			raw := read(sharedcorpus.Path(t, "corpus", prov.Source))
			if strings.HasSuffix(prov.Source, ".json") { // one pretty-printed entry
				var b bytes.Buffer
				if err := json.Compact(&b, raw); err != nil {
					t.Fatal(err)
				}
				recs = [][]byte{b.Bytes()}
			} else {
				recs = bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
			}
			fileLines[prov.Source] = recs
		}
		lines = append(lines, recs[prov.Record])
	}
	if len(lines) != len(wazuh) {
		t.Fatalf("%d entries, %d Wazuh events", len(lines), len(wazuh))
	}
	return lines, wazuh
}

// TestCorpusEntriesThroughTheBucketMatchWazuhAndTheRules writes the corpus's
// LogEntries (Cloud Audit, DNS, firewall, flow) into a Cloud Logging export
// layout, one object per log, reads them through the source, and checks that
// each event is byte for byte the event Wazuh's GCP module made of the same
// entry, and that the built-in rules fire on them as expected.
func TestCorpusEntriesThroughTheBucketMatchWazuhAndTheRules(t *testing.T) {
	lines, wazuh := corpusEntries(t)
	f := newFakeGCS(t)
	byLog := map[string][]int{} // object name -> corpus indexes in order
	for i, l := range lines {
		var e struct {
			LogName string `json:"logName"`
		}
		json.Unmarshal(l, &e)
		logID := "unnamed" // entries cut down to a payload by the corpus
		if i := strings.Index(e.LogName, "/logs/"); i >= 0 {
			logID, _ = url.PathUnescape(e.LogName[i+len("/logs/"):])
		}
		name := hourFile(logID+"/", "2024/05/01", 10, "S0")
		byLog[name] = append(byLog[name], i)
	}
	for name, idx := range byLog {
		var b bytes.Buffer
		for _, i := range idx {
			b.Write(lines[i])
			b.WriteByte('\n')
		}
		f.put(name, b.Bytes(), "gzip")
	}
	c := &collector{}
	poll(t, newSource(t, testConfig(LoggingExport), openState(t, t.TempDir()), noon, nil), c)
	if len(c.events) != len(lines) {
		t.Fatalf("%d events from %d entries", len(c.events), len(lines))
	}
	// Events of one object arrive in line order.
	sort.SliceStable(c.events, func(a, b int) bool {
		ea, eb := c.events[a], c.events[b]
		return ea.unit < eb.unit || (ea.unit == eb.unit && ea.off < eb.off)
	})
	got := make([]gotEvent, len(lines))
	next := map[string]int{}
	for _, e := range c.events {
		name := strings.TrimPrefix(e.unit, "gs://"+bucket+"/")
		got[byLog[name][next[name]]] = e
		next[name]++
	}

	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, rules.Options{}, ruleset.FS())
	if err != nil {
		t.Fatal(err)
	}
	m := rules.NewEngine(rs, rules.EngineOptions{}).NewMatcher()
	fired := map[string]int{}
	ruleOf := func(i int) string {
		ev := event.Event{Log: []byte(got[i].log), Location: got[i].location, AgentID: event.LocalAgentID}
		r := m.Process(&ev)
		if r.Rule == nil {
			return "none"
		}
		id := strconv.Itoa(r.Rule.ID)
		if r.Alert {
			fired[id]++
		}
		return id
	}
	for i := range lines {
		if got[i].log != string(wazuh[i]) {
			t.Fatalf("entry %d:\n%s\nWazuh's event:\n%s", i+1, got[i].log, wazuh[i])
		}
		if got[i].location != "Wazuh-GCloud" {
			t.Fatalf("location %q", got[i].location)
		}
		id := ruleOf(i)
		n, _ := strconv.Atoi(id)
		if n < 65000 || (n > 65499 && n < 400000) {
			t.Errorf("entry %d matched rule %s, not a GCP rule", i+1, id)
		}
	}
	t.Logf("alerts by rule: %v", fired)
	// Expected detections of the built-in GCP rules on these entries.
	for id, want := range expectedAlerts {
		if fired[id] != want {
			t.Errorf("rule %s fired %d times, want %d (all: %v)", id, fired[id], want, fired)
		}
	}
}

// expectedAlerts are the built-in rules the corpus entries must raise, and how
// often (a subset: the GCP detections, not the generic severity anchors).
var expectedAlerts = map[string]int{
	"400011": 1, "400102": 1, "400220": 1, "400270": 2, "400733": 1,
	"65051": 1, "65068": 1, "65070": 1, "65073": 1,
}
