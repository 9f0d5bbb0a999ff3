package wazuhxml

import (
	"fmt"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/rules"
)

var ruleAttrs = map[string]bool{
	"id": true, "level": true, "maxsize": true, "frequency": true, "timeframe": true,
	"ignore": true, "overwrite": true, "noalert": true, "accuracy": true,
}

// staticRuleElements are the elements that test one static or pre-decoded field.
var staticRuleElements = map[string]bool{
	"srcport": true, "dstport": true, "user": true, "id": true, "status": true,
	"url": true, "protocol": true, "data": true, "extra_data": true, "system_name": true,
	"hostname": true, "program_name": true, "location": true, "action": true,
	"srcgeoip": true, "dstgeoip": true,
}

// ignoredRuleElements load without effect, as they have none in Wazuh's analysis.
var ignoredRuleElements = map[string]bool{"check_if_ignored": true, "ignore": true}

// RuleSpecs converts the top-level elements of a rules file into rule specs. It
// returns every fatal error found in the file.
func RuleSpecs(file string, roots []*Node) ([]rules.RuleSpec, []error) {
	var specs []rules.RuleSpec
	var errs []error
	for _, g := range roots {
		if g.Name != "group" {
			errs = append(errs, &SyntaxError{File: file, Line: g.Line, Msg: fmt.Sprintf("root element <%s> is not <group>", g.Name)})
			continue
		}
		name, ok := g.Attr("name")
		if !ok || len(g.Attrs) != 1 {
			errs = append(errs, &SyntaxError{File: file, Line: g.Line, Msg: "<group> must have exactly one attribute, name"})
			continue
		}
		for _, n := range g.Children {
			if !strings.EqualFold(n.Name, "rule") {
				errs = append(errs, &SyntaxError{File: file, Line: n.Line, Msg: fmt.Sprintf("<%s> is not allowed inside <group>", n.Name)})
				continue
			}
			s, err := ruleSpec(file, name, n)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			specs = append(specs, s)
		}
	}
	return specs, errs
}

func ruleSpec(file, group string, n *Node) (rules.RuleSpec, error) {
	s := rules.RuleSpec{File: file, Line: n.Line, Static: map[string]rules.Pattern{}}
	fail := func(line int, format string, args ...any) (rules.RuleSpec, error) {
		return s, &SyntaxError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	for _, a := range n.Attrs {
		if !ruleAttrs[a.Name] {
			return fail(n.Line, "unknown rule attribute %q", a.Name)
		}
		switch a.Name {
		case "id":
			s.ID = a.Value
		case "level":
			s.Level = a.Value
		case "maxsize":
			s.MaxSize, s.HasMaxSize = a.Value, true
		case "frequency":
			s.Frequency, s.HasFrequency = a.Value, true
		case "timeframe":
			s.Timeframe, s.HasTimeframe = a.Value, true
		case "ignore":
			s.Ignore, s.HasIgnore = a.Value, true
		case "overwrite":
			s.Overwrite = a.Value
		case "noalert":
			s.NoAlert, s.HasNoAlert = a.Value, true
		case "accuracy":
			s.Accuracy = a.Value
		}
	}
	if s.ID == "" {
		return fail(n.Line, "rule without an id")
	}
	if s.Level == "" {
		return fail(n.Line, "rule %s: no level", s.ID)
	}
	s.GroupString = group
	for _, c := range n.Children {
		if err := ruleElement(&s, c); err != nil {
			return s, &SyntaxError{File: file, Line: c.Line, Msg: fmt.Sprintf("rule %s: %v", s.ID, err)}
		}
		if v, ok := c.Attr("negate"); ok && !strings.EqualFold(v, "yes") && !strings.EqualFold(v, "no") {
			s.Warnings = append(s.Warnings, fmt.Sprintf("<%s negate=%q>: not yes or no, taken as no", c.Name, v))
		}
	}
	return s, nil
}

// pattern reads a pattern element, concatenating it onto an earlier occurrence.
func pattern(prev rules.Pattern, c *Node) (rules.Pattern, error) {
	p := rules.Pattern{Text: prev.Text + c.Text, Set: true}
	if t, ok := c.Attr("type"); ok {
		p.Type = t
	}
	if v, ok := c.Attr("negate"); ok {
		switch strings.ToLower(v) {
		case "yes":
			p.Negate = true
		case "no":
		default:
			// Wazuh warns (ruleSpec records it) and treats other values as "no".
		}
	}
	for _, a := range c.Attrs {
		if a.Name != "type" && a.Name != "negate" && a.Name != "name" {
			return p, fmt.Errorf("<%s>: unknown attribute %q", c.Name, a.Name)
		}
	}
	return p, nil
}

func ruleElement(s *rules.RuleSpec, c *Node) error {
	name := strings.ToLower(c.Name)
	var err error
	switch {
	case name == "description":
		s.Description += strings.Replace(c.Text, "\n", " ", 1)
		s.HasDescription = true
	case name == "match":
		s.Match, err = pattern(s.Match, c)
	case name == "regex":
		s.Regex, err = pattern(s.Regex, c)
	case name == "field":
		fname, ok := c.Attr("name")
		if !ok {
			return fmt.Errorf("<field> without a name")
		}
		var p rules.Pattern
		p, err = pattern(rules.Pattern{}, c)
		s.Fields = append(s.Fields, rules.FieldSpec{Name: fname, Pattern: p})
	case staticRuleElements[name]:
		s.Static[name], err = pattern(s.Static[name], c)
	case name == "srcip" || name == "dstip":
		neg := false
		if v, ok := c.Attr("negate"); ok && strings.EqualFold(v, "yes") {
			neg = true
		}
		if name == "srcip" {
			s.SrcIP, s.SrcIPNegate = append(s.SrcIP, c.Text), neg
		} else {
			s.DstIP, s.DstIPNegate = append(s.DstIP, c.Text), neg
		}
	case name == "decoded_as":
		s.DecodedAs += c.Text
	case name == "category":
		s.Category += c.Text
	case name == "if_sid":
		s.IfSID, s.HasIfSID = s.IfSID+c.Text, true
	case name == "if_group":
		s.IfGroup, s.HasIfGroup = s.IfGroup+c.Text, true
	case name == "if_level":
		s.IfLevel, s.HasIfLevel = s.IfLevel+c.Text, true
	case name == "if_matched_sid":
		s.IfMatchedSID, s.HasIfMatchedSID = s.IfMatchedSID+c.Text, true
	case name == "if_matched_group":
		s.IfMatchedGroup, s.HasIfMatchedGroup = s.IfMatchedGroup+c.Text, true
	case name == "if_matched_regex":
		s.IfMatchedRegex, err = pattern(s.IfMatchedRegex, c)
	case name == "if_fts":
		s.IfFTS = true
	case name == "check_diff":
		s.CheckDiff = true
	case name == "global_frequency":
		s.GlobalFrequency = true
	case name == "group":
		s.GroupString += c.Text
	case name == "info":
		s.Info += c.Text
	case name == "cve":
		s.CVE += c.Text
	case name == "options":
		for _, o := range strings.Split(c.Text, ",") {
			if o = strings.TrimSpace(o); o != "" {
				s.Options = append(s.Options, o)
			}
		}
	case name == "time":
		s.Time += c.Text
	case name == "weekday":
		s.Weekday += c.Text
	case name == "compiled_rule":
		s.CompiledRule += c.Text
	case name == "list":
		l, lerr := listSpec(c)
		if lerr != nil {
			return lerr
		}
		s.Lists = append(s.Lists, l)
	case name == "mitre":
		err = mitreSpec(&s.Mitre, c)
	case name == "same_field":
		s.SameField = append(s.SameField, c.Text)
	case name == "different_field" || name == "not_same_field":
		s.DifferentField = append(s.DifferentField, c.Text)
	case strings.HasPrefix(name, "same_"):
		s.Same = append(s.Same, strings.TrimPrefix(name, "same_"))
	case strings.HasPrefix(name, "different_"):
		s.Different = append(s.Different, strings.TrimPrefix(name, "different_"))
	case strings.HasPrefix(name, "not_same_"):
		s.Different = append(s.Different, strings.TrimPrefix(name, "not_same_"))
	case ignoredRuleElements[name]:
	default:
		return fmt.Errorf("unknown element <%s>", c.Name)
	}
	return err
}

func listSpec(c *Node) (rules.ListSpec, error) {
	l := rules.ListSpec{Path: c.Text}
	for _, a := range c.Attrs {
		switch strings.ToLower(a.Name) {
		case "field":
			l.Field = a.Value
		case "lookup":
			l.Lookup = a.Value
		case "check_value":
			l.CheckValue, l.HasCheckValue = a.Value, true
		default:
			return l, fmt.Errorf("<list>: unknown attribute %q", a.Name)
		}
	}
	return l, nil
}

func mitreSpec(m *rules.MitreSpec, c *Node) error {
	var tactic, technique string
	for _, k := range c.Children {
		switch strings.ToLower(k.Name) {
		case "id":
			m.IDs = append(m.IDs, k.Text)
		case "tacticid":
			tactic = k.Text
		case "techniqueid":
			technique = k.Text
		default:
			return fmt.Errorf("unknown element <%s> in <mitre>", k.Name)
		}
	}
	if tactic != "" || technique != "" {
		m.Pairs = append(m.Pairs, [2]string{tactic, technique})
	}
	return nil
}
