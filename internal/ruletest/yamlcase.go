package ruletest

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// Suite is one skywatch rule-test file (YAML):
//
//	location: Wazuh-AWS          # default location of the cases
//	cases:
//	  - name: trail stopped
//	    events:                  # one or more; only the last one is judged
//	      - {integration: aws, aws: {source: cloudtrail, eventName: StopLogging}}
//	      - '{"raw": "JSON text or any line, sent as it is"}'
//	    rule: 300001             # the winning rule must be this one
//	    level: 12                # and have this level (optional)
//	    mitre: [T1562.008]       # and these ATT&CK ids (optional)
//	  - name: trail described (near miss)
//	    events: [...]
//	    not_rule: 300001         # the winning rule must not be this one
//	  - name: nothing to report
//	    events: [...]
//	    alert: false             # no alert at all
//
// Events written as YAML mappings are sent as compact JSON with their keys in the
// order written. Each case runs in a fresh engine, so correlation cases list the
// events that build up to the one judged; seconds_between spaces their receive times.
type Suite struct {
	File     string
	Location string
	Cases    []Case
}

// Case is one test case.
type Case struct {
	Name           string
	Line           int
	Location       string
	Events         [][]byte
	SecondsBetween int
	// Expectations; zero values are not checked.
	Rule        int
	NotRule     int
	Level       *int
	Alert       *bool
	Description string
	Mitre       []string
}

type rawSuite struct {
	Location string    `yaml:"location"`
	Cases    []rawCase `yaml:"cases"`
}

type rawCase struct {
	Name           string      `yaml:"name"`
	Location       string      `yaml:"location"`
	Events         []yaml.Node `yaml:"events"`
	SecondsBetween int         `yaml:"seconds_between"`
	Rule           int         `yaml:"rule"`
	NotRule        int         `yaml:"not_rule"`
	Level          *int        `yaml:"level"`
	Alert          *bool       `yaml:"alert"`
	Description    string      `yaml:"description"`
	Mitre          []string    `yaml:"mitre"`
}

// ParseSuite reads a skywatch rule-test file. Unknown keys are errors; errors name
// file:line.
func ParseSuite(r io.Reader, file string) (*Suite, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var raw rawSuite
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	lines := caseLines(&root)
	s := &Suite{File: file, Location: raw.Location}
	for i, rc := range raw.Cases {
		c := Case{Name: rc.Name, Location: rc.Location, SecondsBetween: rc.SecondsBetween,
			Rule: rc.Rule, NotRule: rc.NotRule, Level: rc.Level, Alert: rc.Alert,
			Description: rc.Description, Mitre: rc.Mitre}
		if i < len(lines) {
			c.Line = lines[i]
		}
		if c.Location == "" {
			c.Location = raw.Location
		}
		if c.Location == "" {
			c.Location = "stdin"
		}
		where := fmt.Sprintf("%s:%d", file, c.Line)
		if c.Name == "" {
			return nil, fmt.Errorf("%s: case without a name", where)
		}
		if len(rc.Events) == 0 {
			return nil, fmt.Errorf("%s: case %q has no events", where, c.Name)
		}
		if c.Rule == 0 && c.NotRule == 0 && c.Alert == nil {
			return nil, fmt.Errorf("%s: case %q expects nothing (set rule, not_rule or alert)", where, c.Name)
		}
		for j := range rc.Events {
			ev, err := eventText(&rc.Events[j])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: case %q event %d: %w", file, rc.Events[j].Line, c.Name, j+1, err)
			}
			c.Events = append(c.Events, ev)
		}
		s.Cases = append(s.Cases, c)
	}
	return s, nil
}

// caseLines returns the line of each item of the cases sequence.
func caseLines(root *yaml.Node) []int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "cases" {
			var out []int
			for _, c := range m.Content[i+1].Content {
				out = append(out, c.Line)
			}
			return out
		}
	}
	return nil
}

// eventText turns one events item into the event text: strings as they are,
// mappings and sequences as compact JSON in the order written.
func eventText(n *yaml.Node) ([]byte, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return []byte(n.Value), nil
	}
	return appendJSON(nil, n)
}

func appendJSON(dst []byte, n *yaml.Node) ([]byte, error) {
	var err error
	switch n.Kind {
	case yaml.AliasNode:
		return appendJSON(dst, n.Alias)
	case yaml.MappingNode:
		dst = append(dst, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = alert.AppendString(dst, n.Content[i].Value)
			dst = append(dst, ':')
			if dst, err = appendJSON(dst, n.Content[i+1]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for i, c := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSON(dst, c); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return append(dst, "null"...), nil
		case "!!bool":
			b, err := strconv.ParseBool(n.Value)
			if err != nil {
				return nil, fmt.Errorf("bad boolean %q", n.Value)
			}
			return strconv.AppendBool(dst, b), nil
		case "!!int", "!!float":
			if _, err := strconv.ParseFloat(n.Value, 64); err != nil {
				return nil, fmt.Errorf("bad number %q (quote it to send it as a string)", n.Value)
			}
			return append(dst, n.Value...), nil
		}
		return alert.AppendString(dst, n.Value), nil
	}
	return nil, fmt.Errorf("unsupported YAML node at line %d", n.Line)
}
