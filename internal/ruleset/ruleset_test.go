package ruleset_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/ruledoc"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/ruletest"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md from the builtin ruleset")

func load(t *testing.T) *rules.Ruleset {
	t.Helper()
	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, rules.Options{ManagerName: "mgr"}, ruleset.FS())
	if err != nil {
		t.Fatalf("builtin ruleset does not load: %v", err)
	}
	if len(rs.Warnings) > 0 {
		t.Errorf("builtin ruleset loads with warnings:\n%s", strings.Join(rs.Warnings, "\n"))
	}
	return rs
}

func allResults(t *testing.T, rs *rules.Ruleset) []ruletest.SuiteResult {
	t.Helper()
	names, err := ruletest.SuiteFiles(ruleset.FS(), "tests")
	if err != nil || len(names) == 0 {
		t.Fatalf("no test suites: %v", err)
	}
	var all []ruletest.SuiteResult
	for _, n := range names {
		res, err := ruletest.RunSuiteFS(rs, ruleset.FS(), n, n)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res...)
	}
	return all
}

// TestSuitesPass runs every case shipped beside the rules.
func TestSuitesPass(t *testing.T) {
	rs := load(t)
	for _, r := range allResults(t, rs) {
		if !r.Passed {
			t.Errorf("%s: %s", r.Name, r.Detail)
		}
	}
}

// TestEveryRuleHasAFiringCaseAndANearMiss is the ruleset's coverage rule.
func TestEveryRuleHasAFiringCaseAndANearMiss(t *testing.T) {
	rs := load(t)
	cov := ruletest.CoverageOf(allResults(t, rs))
	for _, r := range rs.All {
		if r.ID < 10 {
			continue // category templates never fire
		}
		if cov.Fires[r.ID] == 0 {
			t.Errorf("rule %d (%s) has no case that fires it", r.ID, r.File)
		}
		if cov.NearMisses[r.ID] == 0 {
			t.Errorf("rule %d (%s) has no near-miss case", r.ID, r.File)
		}
	}
}

// TestRulesCarryATTACKAndCompliance: every rule above level 3 says which technique
// it detects and which compliance requirements it supports; ids are in our ranges.
func TestRulesCarryATTACKAndCompliance(t *testing.T) {
	rs := load(t)
	anchors := regexp.MustCompile(`^(802\d\d|803\d\d|804\d\d|650\d\d|878\d\d|62723)$`)
	for _, r := range rs.All {
		id := r.ID
		switch {
		case id < 10, anchors.MatchString(itoa(id)):
		case id >= 300000 && id < 500000:
		default:
			t.Errorf("rule %d is outside skywatch's ranges (300000-499999) and not a Wazuh anchor", id)
		}
		if id >= 100000 && id < 120000 {
			t.Errorf("rule %d uses the range Wazuh users keep for their own rules", id)
		}
		if r.Level <= 3 {
			continue
		}
		if r.Mitre == nil || len(r.Mitre.ID) == 0 {
			t.Errorf("rule %d (level %d) has no ATT&CK id", id, r.Level)
		}
		if len(r.Compliance) == 0 {
			t.Errorf("rule %d (level %d) has no compliance tags", id, r.Level)
		}
	}
}

// TestSeedExamples feeds the data objects of the three example alerts the product was
// specified with, as they are, and expects their rule, level and description.
func TestSeedExamples(t *testing.T) {
	doc, err := os.ReadFile(sharedcorpus.Path(t, "design", "SEED-EXAMPLES.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) != 3 {
		t.Fatalf("found %d example alerts, want 3", len(blocks))
	}
	locations := []string{"Wazuh-AWS", "Azure", "Wazuh-GCloud"}
	rs := load(t)
	for i, b := range blocks {
		var ex struct {
			Data json.RawMessage `json:"data"`
			Rule struct {
				ID          string `json:"id"`
				Level       int    `json:"level"`
				Description string `json:"description"`
			} `json:"rule"`
		}
		if err := json.Unmarshal(b[1], &ex); err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		var compact bytes.Buffer
		json.Compact(&compact, ex.Data)
		eng := rules.NewEngine(rs, rules.EngineOptions{})
		m := eng.NewMatcher()
		ev := event.Event{Log: compact.Bytes(), Location: locations[i], AgentID: "000", Received: time.Now()}
		res := m.Process(&ev)
		if res.Rule == nil {
			t.Errorf("example %d (%s): no rule, want %s", i+1, locations[i], ex.Rule.ID)
			continue
		}
		a := m.Alert(res)
		if a.Rule.ID != ex.Rule.ID || a.Rule.Level != ex.Rule.Level || a.Rule.Description != ex.Rule.Description {
			t.Errorf("example %d (%s): rule %s level %d %q, want %s level %d %q", i+1, locations[i],
				a.Rule.ID, a.Rule.Level, a.Rule.Description, ex.Rule.ID, ex.Rule.Level, ex.Rule.Description)
		}
	}
}

// TestReferenceInSync keeps docs/rules.md equal to what the ruleset generates;
// `go test ./internal/ruleset -update` rewrites it.
func TestReferenceInSync(t *testing.T) {
	rs := load(t)
	got := Reference(rs)
	const path = "../../docs/rules.md"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/ruleset -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/rules.md is out of date: run go test ./internal/ruleset -update")
	}
}

// Reference renders the built-in ruleset's reference page.
func Reference(rs *rules.Ruleset) []byte {
	return ruledoc.Markdown(rs, "Built-in ruleset",
		"Generated from the rules skywatch embeds as `--rules builtin` (`go test ./internal/ruleset -update` "+
			"rewrites this page). Levels: 3 notable, 5–6 suspicious, 7–9 likely malicious, 10–12 high impact, "+
			"13–15 critical. The test cases beside the rules (`internal/ruleset/tests/`) run with "+
			"`skywatch rules test builtin`.")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
