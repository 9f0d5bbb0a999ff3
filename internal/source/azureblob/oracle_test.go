package azureblob

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// oracleCase is one corpus file read as Wazuh's module read it for the
// shared oracle, and the events the module sent.
type oracleCase struct {
	file, contentType, tag string
	want                   []string
}

// oracleCases reads the storage lines of the Azure oracle set with their
// provenance, grouped by corpus file.
func oracleCases(t *testing.T) (string, []*oracleCase) {
	dir := sharedcorpus.Dir(t)
	oracle := sharedcorpus.Path(t, "corpus", "wazuh-oracle")
	read := func(name string) []string {
		f, err := os.Open(filepath.Join(oracle, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var lines []string
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		return lines
	}
	events, prov, locs := read("azure-public.events.jsonl"), read("azure-public.provenance.jsonl"), read("azure-public.locations.txt")
	var cases []*oracleCase
	byFile := map[string]*oracleCase{}
	for i, p := range prov {
		var pv struct {
			Source  string `json:"source"`
			Service string `json:"azure_service"`
		}
		if err := json.Unmarshal([]byte(p), &pv); err != nil {
			t.Fatal(err)
		}
		ct, ok := strings.CutPrefix(pv.Service, "storage/")
		if !ok {
			continue
		}
		if locs[i] != Location {
			t.Fatalf("oracle line %d has location %q", i+1, locs[i])
		}
		var tags struct {
			Tag string `json:"azure_storage_tag"`
		}
		if err := json.Unmarshal([]byte(events[i]), &tags); err != nil {
			t.Fatal(err)
		}
		c := byFile[pv.Source]
		if c == nil {
			c = &oracleCase{file: pv.Source, contentType: ct, tag: tags.Tag}
			byFile[pv.Source] = c
			cases = append(cases, c)
		}
		c.want = append(c.want, events[i])
	}
	if len(cases) == 0 {
		t.Fatal("no storage events in the oracle set")
	}
	return filepath.Join(dir, "corpus"), cases
}

// TestWazuhOracle puts each corpus file of the shared Azure oracle set in a
// blob and reads it with the content type and tag Wazuh's module used: the
// events are byte for byte the module's (json_file: Python's json.dumps of
// each record with the tags; json_inline: the tags spliced into the line).
// Then the built-in ruleset must take every one of them as an Azure storage
// record (87803, or 87813 and its children when it has an operation).
func TestWazuhOracle(t *testing.T) {
	corpus, cases := oracleCases(t)
	cname, c := newContainer(t)
	var all []event.Event
	for i, oc := range cases {
		data, err := os.ReadFile(filepath.Join(corpus, oc.file))
		if err != nil {
			t.Fatal(err)
		}
		folder := fmt.Sprintf("f%02d/", i)
		put(t, c, cname, folder+filepath.Base(oc.file), data)
		cfg := baseConfig(cname)
		cfg.Path, cfg.ContentType, cfg.Tag = folder, oc.contentType, oc.tag
		evs := runPass(t, newSource(t, cfg, openStore(t, t.TempDir()), nil), &collector{})
		got := logs(evs)
		if len(got) != len(oc.want) {
			t.Errorf("%s: %d events, Wazuh sent %d", oc.file, len(got), len(oc.want))
			continue
		}
		for k := range got {
			if got[k] != oc.want[k] {
				t.Errorf("%s event %d differs from Wazuh's:\n got %s\nwant %s", oc.file, k, got[k], oc.want[k])
			}
		}
		all = append(all, evs...)
	}

	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, rules.Options{ManagerName: "mgr"}, ruleset.FS())
	if err != nil {
		t.Fatal(err)
	}
	m := rules.NewEngine(rs, rules.EngineOptions{}).NewMatcher()
	fired := map[int]int{}
	for _, ev := range all {
		res := m.Process(&ev)
		if res.Rule == nil || !res.Alert {
			t.Errorf("no alert for %s", ev.Log)
			continue
		}
		fired[res.Rule.ID]++
		if !isStorageRule(res.Rule) {
			t.Errorf("rule %d fired for %.200s, not an azure storage rule", res.Rule.ID, ev.Log)
		}
	}
	// Records with an operationName reach 87813 (or a detection below it).
	// 350610 is the inbound remote-administration flow in the NSG/VNet samples.
	if fired[87813] == 0 || fired[350002]+fired[350003] == 0 || fired[350610] == 0 {
		t.Errorf("rules fired: %v", fired)
	}
	t.Logf("rules fired over %d events: %v", len(all), fired)
}

// isStorageRule reports whether r is 87803 or hangs below it.
func isStorageRule(r *rules.Rule) bool {
	for _, g := range r.Groups {
		if g == "azure_storage" || g == "azure_activity" || g == "azure_flow" || g == "azure" {
			return true
		}
	}
	return false
}
