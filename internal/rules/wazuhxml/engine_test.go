package wazuhxml

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
)

const testDecoders = `
<decoder name="json">
  <prematch>^{\s*"</prematch>
  <plugin_decoder>JSON_Decoder</plugin_decoder>
</decoder>
`

const testTemplates = `
<group name="syslog,">
  <rule id="1" level="0" noalert="1">
    <category>syslog</category>
    <description>syslog template</description>
  </rule>
</group>
`

// loadTestRules writes a Wazuh-layout ruleset to a temp dir and loads it.
func loadTestRules(t *testing.T, ruleXML string, extra map[string]string) *rules.Ruleset {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"decoders/0001-test_decoders.xml": testDecoders,
		"rules/0001-templates.xml":        testTemplates,
		"rules/0100-test_rules.xml":       ruleXML,
	}
	for k, v := range extra {
		files[k] = v
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := Load([]string{dir}, rules.Options{ManagerName: "mgr"}, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return rs
}

type step struct {
	event string
	rule  int // 0 = no rule
	alert bool
	desc  string // checked when set
}

func runSteps(t *testing.T, rs *rules.Ruleset, steps []step) {
	t.Helper()
	now := time.Unix(1700000000, 0)
	eng := rules.NewEngine(rs, rules.EngineOptions{Logtest: true, Now: func() time.Time { return now }})
	m := eng.NewMatcher()
	for i, s := range steps {
		ev := event.Event{Log: []byte(s.event), Location: "test", AgentID: "000", Received: now}
		res := m.Process(&ev)
		got := 0
		if res.Rule != nil {
			got = res.Rule.ID
		}
		if got != s.rule || res.Alert != s.alert {
			t.Fatalf("step %d (%s): rule %d alert %v, want rule %d alert %v", i+1, s.event, got, res.Alert, s.rule, s.alert)
		}
		if s.desc != "" {
			if d := m.Alert(res).Rule.Description; d != s.desc {
				t.Fatalf("step %d: description %q, want %q", i+1, d, s.desc)
			}
		}
	}
}

func TestRuleTreeAndConditions(t *testing.T) {
	const xml = `
<group name="test,">
  <rule id="100" level="0">
    <decoded_as>json</decoded_as>
    <field name="integration">aws</field>
    <description>base</description>
  </rule>
  <rule id="101" level="3">
    <if_sid>100</if_sid>
    <field name="aws.eventName">^ConsoleLogin$</field>
    <description>login by $(aws.userIdentity.userName) from $(srcip)</description>
  </rule>
  <rule id="102" level="9">
    <if_sid>100</if_sid>
    <field name="aws.eventName">Login</field>
    <field name="aws.mfa" negate="yes">yes</field>
    <description>login without mfa</description>
  </rule>
  <rule id="103" level="0">
    <if_sid>101</if_sid>
    <field name="aws.userIdentity.userName">^svc-</field>
    <description>service login, silenced</description>
  </rule>
  <rule id="104" level="5">
    <if_sid>100</if_sid>
    <srcip>10.0.0.0/8</srcip>
    <description>internal address</description>
  </rule>
  <rule id="105" level="6">
    <if_sid>100</if_sid>
    <field name="aws.tags" type="pcre2">"env",\s"prod"</field>
    <description>prod tagged</description>
  </rule>
</group>`
	rs := loadTestRules(t, xml, nil)
	runSteps(t, rs, []step{
		// 102 (level 9) sorts before 101 (level 3) among 100's children.
		{event: `{"integration":"aws","aws":{"eventName":"ConsoleLogin","mfa":"no","userIdentity":{"userName":"bob"}}}`, rule: 102, alert: true},
		// Negation never rescues a missing field: 102 fails, 101 matches.
		{event: `{"integration":"aws","srcip":"1.2.3.4","aws":{"eventName":"ConsoleLogin","userIdentity":{"userName":"bob"}}}`, rule: 101, alert: true, desc: "login by bob from 1.2.3.4"},
		// Level-0 child wins and silences.
		{event: `{"integration":"aws","aws":{"eventName":"ConsoleLogin","userIdentity":{"userName":"svc-x"}}}`, rule: 103, alert: false},
		// Case-insensitive OS_Regex on values, case-insensitive field names.
		{event: `{"integration":"AWS","AWS":{"EVENTNAME":"consolelogin","mfa":"yes","userIdentity":{"userName":"bob"}}}`, rule: 101, alert: true},
		{event: `{"integration":"aws","srcip":"10.1.2.3","aws":{"eventName":"x"}}`, rule: 104, alert: true},
		{event: `{"integration":"aws","srcip":"10.1.2.3:80","aws":{"eventName":"x"}}`, rule: 100, alert: false},
		// Arrays are matched as cJSON prints them.
		{event: `{"integration":"aws","aws":{"tags":["env","prod"]}}`, rule: 105, alert: true},
		{event: `{"integration":"gcp"}`, rule: 0, alert: false},
		{event: `not json`, rule: 0, alert: false},
	})
}

func TestFrequencyCorrelation(t *testing.T) {
	const xml = `
<group name="test,">
  <rule id="100" level="3">
    <decoded_as>json</decoded_as>
    <action>fail</action>
    <description>failure</description>
  </rule>
  <rule id="101" level="10" frequency="3" timeframe="60">
    <if_matched_sid>100</if_matched_sid>
    <same_field>user.name</same_field>
    <description>3 failures for $(user.name)</description>
  </rule>
</group>`
	rs := loadTestRules(t, xml, nil)
	fail := func(u string) string { return `{"action":"fail","user":{"name":"` + u + `"}}` }
	runSteps(t, rs, []step{
		{event: fail("a"), rule: 100, alert: true},
		{event: fail("b"), rule: 100, alert: true},
		{event: fail("a"), rule: 100, alert: true},
		// Third failure of "a": two stored + this one.
		{event: fail("a"), rule: 101, alert: true, desc: "3 failures for a"},
		// The newest counted event is marked: a fresh run of three is needed.
		{event: fail("a"), rule: 100, alert: true},
		{event: fail("a"), rule: 100, alert: true},
		{event: fail("a"), rule: 101, alert: true},
	})
}

func TestListsAndOverwrite(t *testing.T) {
	const xml = `
<group name="test,">
  <rule id="100" level="2">
    <decoded_as>json</decoded_as>
    <description>any</description>
  </rule>
  <rule id="101" level="7">
    <if_sid>100</if_sid>
    <list field="ip" lookup="address_match_key">etc/lists/bad-ips</list>
    <description>bad ip $(ip)</description>
  </rule>
  <rule id="102" level="4">
    <if_sid>100</if_sid>
    <list field="name" lookup="match_key_value" check_value="^admin">etc/lists/users</list>
    <description>admin</description>
  </rule>
</group>`
	local := `
<group name="local,">
  <rule id="102" level="12" overwrite="yes">
    <if_sid>100</if_sid>
    <list field="name" lookup="match_key_value" check_value="^admin">etc/lists/users</list>
    <description>admin (local)</description>
  </rule>
</group>`
	rs := loadTestRules(t, xml, map[string]string{
		"lists/bad-ips":              "10.0.0.:bad net\n192.168.1.5:bad host\n",
		"lists/users":                "root:admin\nbob:user\n",
		"rules/0200-local_rules.xml": local,
	})
	runSteps(t, rs, []step{
		{event: `{"ip":"10.0.0.9"}`, rule: 101, alert: true},
		{event: `{"ip":"192.168.1.5"}`, rule: 101, alert: true},
		{event: `{"ip":"192.168.1.6"}`, rule: 100, alert: false},
		{event: `{"name":"root"}`, rule: 102, alert: true, desc: "admin (local)"},
		{event: `{"name":"bob"}`, rule: 100, alert: false},
	})
	if r := rs.ByID[102]; r.Level != 12 {
		t.Errorf("overwritten rule level %d, want 12", r.Level)
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]string{
		"unknown element": `<group name="x,"><rule id="100" level="1"><bogus>1</bogus><description>d</description></rule></group>`,
		"bad regex":       `<group name="x,"><rule id="100" level="1"><regex>a(b</regex><description>d</description></rule></group>`,
		"bad pcre2":       `<group name="x,"><rule id="100" level="1"><regex type="pcre2">(?&lt;</regex><description>d</description></rule></group>`,
		"bad level":       `<group name="x,"><rule id="100" level="17"><description>d</description></rule></group>`,
		"no description":  `<group name="x,"><rule id="100" level="1"></rule></group>`,
		"bad xml":         `<group name="x,"><rule id="100" level="1"><description>d</rule></group>`,
		"static field":    `<group name="x,"><rule id="100" level="1"><field name="srcip">1</field><description>d</description></rule></group>`,
		"frequency alone": `<group name="x,"><rule id="100" level="1" frequency="3"><description>d</description></rule></group>`,
	}
	for name, xml := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "bad_rules.xml")
			if err := os.WriteFile(p, []byte("\n"+xml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load([]string{p}, rules.Options{}, nil)
			if err == nil {
				t.Fatal("loaded a broken rule file without error")
			}
			if !strings.Contains(err.Error(), p+":2") {
				t.Fatalf("error %q does not name %s:2", err, p)
			}
		})
	}
}

func TestStockRulesetLoads(t *testing.T) {
	dir := os.Getenv("SKYWATCH_BENCH_RULESET")
	if dir == "" {
		t.Skip("covered by the oracle test in cmd/skywatch")
	}
	rs, err := Load([]string{dir}, rules.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.All) < 4000 {
		t.Fatalf("only %d rules loaded", len(rs.All))
	}
	t.Log(strconv.Itoa(len(rs.All)) + " rules")
}

func testEvent(log string) event.Event {
	return event.Event{Log: []byte(log), Location: "fuzz", AgentID: "000", Received: time.Unix(1700000000, 0)}
}
