package wazuhxml

import (
	"testing"

	"github.com/skywatch-dev/skywatch/internal/rules"
)

// FuzzLoadRules feeds arbitrary bytes through the whole loader (XML reader, spec
// conversion, compilation) as a rule file and as a decoder file: it must return errors,
// never panic, and a ruleset it accepts must survive matching an event.
func FuzzLoadRules(f *testing.F) {
	for _, s := range []string{
		testTemplates,
		`<group name="a,"><rule id="100" level="3"><match>x</match><description>d $(f)</description></rule></group>`,
		`<var name="V">a|b</var><group name="a,"><rule id="100" level="3"><regex>$V</regex><description>d</description></rule></group>`,
		`<group name="a,"><rule id="100" level="3" frequency="3"><if_matched_sid>1</if_matched_sid><same_field>x</same_field><description>d</description></rule></group>`,
		`<decoder name="d"><prematch>^x</prematch><regex>(\w+)</regex><order>user</order></decoder>`,
		`<!-- c --><group name="a,"><rule id="1" level="0"><category>syslog</category><description>t</description></rule></group>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		roots, err := ParseXML("fuzz.xml", data)
		if err != nil {
			return
		}
		b := rules.NewBuilder(rules.Options{})
		dspecs, _ := DecoderSpecs("fuzz.xml", roots)
		for _, s := range dspecs {
			b.AddDecoder(s)
		}
		tmpl, _ := ParseXML("t.xml", []byte(testTemplates))
		tspecs, _ := RuleSpecs("t.xml", tmpl)
		for _, s := range tspecs {
			b.AddRule(s)
		}
		rspecs, _ := RuleSpecs("fuzz.xml", roots)
		for _, s := range rspecs {
			b.AddRule(s)
		}
		rs, err := b.Build()
		if err != nil {
			return
		}
		eng := rules.NewEngine(rs, rules.EngineOptions{})
		m := eng.NewMatcher()
		for _, ev := range []string{`{"x":"y"}`, "Dec 19 17:20:08 host prog[1]: x y", ""} {
			e := testEvent(ev)
			res := m.Process(&e)
			if res.Rule != nil {
				m.Alert(res)
			}
		}
	})
}
