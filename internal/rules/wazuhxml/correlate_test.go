package wazuhxml

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
)

// Two if_matched_regex rules scan the same stored events: each must see its own
// regex's verdict (the engine caches verdicts per stored event and rule).
func TestIfMatchedRegexPerRule(t *testing.T) {
	const xml = `
<group name="test,">
  <rule id="100" level="3">
    <decoded_as>json</decoded_as>
    <field name="op">\w</field>
    <description>op</description>
  </rule>
  <rule id="101" level="9" frequency="3" timeframe="60">
    <if_sid>100</if_sid>
    <field name="op">^delete</field>
    <if_matched_regex>"op":"delete</if_matched_regex>
    <same_field>who</same_field>
    <description>3 deletions by $(who)</description>
  </rule>
  <rule id="102" level="8" frequency="3" timeframe="60">
    <if_sid>100</if_sid>
    <field name="op">^create</field>
    <if_matched_regex>"op":"create</if_matched_regex>
    <same_field>who</same_field>
    <description>3 creations by $(who)</description>
  </rule>
</group>`
	rs := loadTestRules(t, xml, nil)
	ev := func(op, who string) string { return `{"op":"` + op + `","who":"` + who + `"}` }
	runSteps(t, rs, []step{
		{event: ev("delete", "a"), rule: 100, alert: true},
		{event: ev("create", "a"), rule: 100, alert: true},
		{event: ev("delete", "b"), rule: 100, alert: true},
		{event: ev("create", "a"), rule: 100, alert: true},
		// Two stored deletions by a? No: one. The creations must not count.
		{event: ev("delete", "a"), rule: 100, alert: true},
		// Two stored creations by a, whose verdict for 101 was cached as "no".
		{event: ev("create", "a"), rule: 102, alert: true, desc: "3 creations by a"},
		{event: ev("delete", "a"), rule: 101, alert: true, desc: "3 deletions by a"},
	})
}

// The correlation memory holds memory_size events; older ones are forgotten even
// inside the timeframe, so a burst spread over more events does not fire.
func TestCorrelationMemoryCap(t *testing.T) {
	const xml = `
<group name="test,">
  <rule id="100" level="3">
    <decoded_as>json</decoded_as>
    <field name="op">\w</field>
    <description>op</description>
  </rule>
  <rule id="101" level="9" frequency="3" timeframe="600">
    <if_sid>100</if_sid>
    <if_matched_regex>"op":"x"</if_matched_regex>
    <field name="op">^x$</field>
    <description>3 x</description>
  </rule>
</group>`
	dir := t.TempDir()
	for name, content := range map[string]string{
		"decoders/0001-test_decoders.xml": testDecoders,
		"rules/0001-templates.xml":        testTemplates,
		"rules/0100-test_rules.xml":       xml,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := Load([]string{dir}, rules.Options{ManagerName: "mgr", MemorySize: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	x, y := `{"op":"x"}`, `{"op":"y"}`
	runSteps(t, rs, []step{
		{event: x, rule: 100, alert: true},
		{event: y, rule: 100, alert: true},
		{event: y, rule: 100, alert: true},
		{event: y, rule: 100, alert: true},
		{event: y, rule: 100, alert: true}, // evicts the first x
		{event: x, rule: 100, alert: true},
		{event: x, rule: 100, alert: true}, // one stored x only: needs two
		{event: x, rule: 101, alert: true},
	})
}

// With profiling on for every event, each rule tried is timed and each winner counted.
func TestRuleStatsProfile(t *testing.T) {
	const xml = `
<group name="test,">
  <rule id="100" level="3">
    <decoded_as>json</decoded_as>
    <field name="op">\w</field>
    <description>op</description>
  </rule>
  <rule id="101" level="9">
    <if_sid>100</if_sid>
    <field name="op">^x$</field>
    <description>x</description>
  </rule>
</group>`
	rs := loadTestRules(t, xml, nil)
	eng := rules.NewEngine(rs, rules.EngineOptions{ProfileEvery: 1})
	m := eng.NewMatcher()
	for _, l := range []string{`{"op":"x"}`, `{"op":"y"}`, `{"op":"x"}`} {
		m.Process(&event.Event{Log: []byte(l), Location: "t", AgentID: "000"})
	}
	got := map[int]rules.RuleStat{}
	for _, st := range eng.RuleStats() {
		got[st.Rule.ID] = st
	}
	if got[101].Fired != 2 || got[100].Fired != 1 {
		t.Fatalf("fired: 101=%d 100=%d; want 2 and 1", got[101].Fired, got[100].Fired)
	}
	if got[100].SampledEvals != 3 || got[101].SampledEvals != 3 || got[100].SampledTime <= 0 {
		t.Fatalf("sampled: %+v %+v; want 3 evaluations each with time", got[100], got[101])
	}
	off := rules.NewEngine(rs, rules.EngineOptions{})
	off.NewMatcher().Process(&event.Event{Log: []byte(`{"op":"x"}`), Location: "t", AgentID: "000"})
	for _, st := range off.RuleStats() {
		if st.SampledEvals != 0 {
			t.Fatalf("profiling off but rule %d sampled", st.Rule.ID)
		}
	}
}
