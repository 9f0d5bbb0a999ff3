package wazuhxml

import (
	"fmt"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/rules"
)

// maxDecoderText is the total element text a decoder element may hold in Wazuh.
const maxDecoderText = 1024

// DecoderSpecs converts the top-level elements of a decoders file into specs.
func DecoderSpecs(file string, roots []*Node) ([]rules.DecoderSpec, []error) {
	var specs []rules.DecoderSpec
	var errs []error
	for _, n := range roots {
		if !strings.EqualFold(n.Name, "decoder") {
			errs = append(errs, &SyntaxError{File: file, Line: n.Line, Msg: fmt.Sprintf("root element <%s> is not <decoder>", n.Name)})
			continue
		}
		s, err := decoderSpec(file, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		specs = append(specs, s)
	}
	return specs, errs
}

func decoderSpec(file string, n *Node) (rules.DecoderSpec, error) {
	s := rules.DecoderSpec{File: file, Line: n.Line}
	name, ok := n.Attr("name")
	if !ok || name == "" {
		return s, &SyntaxError{File: file, Line: n.Line, Msg: "<decoder> without a name"}
	}
	s.Name = name
	for _, c := range n.Children {
		if err := decoderElement(&s, c); err != nil {
			return s, &SyntaxError{File: file, Line: c.Line, Msg: fmt.Sprintf("decoder %q: %v", name, err)}
		}
	}
	for _, p := range []rules.Pattern{s.ProgramName, s.Prematch, s.Regex} {
		if len(p.Text) >= maxDecoderText {
			return s, &SyntaxError{File: file, Line: n.Line, Msg: fmt.Sprintf("decoder %q: element text longer than %d bytes", name, maxDecoderText-1)}
		}
	}
	return s, nil
}

func decoderElement(s *rules.DecoderSpec, c *Node) error {
	var err error
	switch strings.ToLower(c.Name) {
	case "parent":
		s.Parent += c.Text
	case "program_name":
		s.ProgramName, err = pattern(s.ProgramName, c)
	case "prematch":
		s.Prematch, err = patternWithOffset(s.Prematch, c)
		if o, ok := c.Attr("offset"); ok {
			s.PrematchOffset = o // a later element without offset keeps the earlier one
		}
	case "regex":
		s.Regex, err = patternWithOffset(s.Regex, c)
		if o, ok := c.Attr("offset"); ok {
			s.RegexOffset = o
		}
	case "order":
		s.Order += c.Text
		s.HasOrder = true
	case "plugin_decoder":
		s.Plugin = strings.TrimSpace(c.Text)
		if o, ok := c.Attr("offset"); ok {
			s.PluginOffset = o
		}
	case "type":
		s.Type = strings.TrimSpace(c.Text)
	case "fts":
		s.FTS += c.Text
	case "ftscomment":
		s.FTSComment += c.Text
	case "use_own_name":
		s.UseOwnName = strings.EqualFold(strings.TrimSpace(c.Text), "true")
	case "accumulate":
		s.Accumulate = true
	case "json_null_field":
		s.JSONNullField = strings.TrimSpace(c.Text)
		s.HasJSONNullField = true
	case "json_array_structure":
		s.JSONArrayStruct = strings.TrimSpace(c.Text)
	case "json_prefix":
		// skywatch extension: prefix every key of the JSON plugin's fields.
		s.JSONPrefix = strings.TrimSpace(c.Text)
	default:
		return fmt.Errorf("unknown element <%s>", c.Name)
	}
	return err
}

// patternWithOffset reads a pattern element that may carry an offset attribute.
func patternWithOffset(prev rules.Pattern, c *Node) (rules.Pattern, error) {
	var attrs []Attr
	for _, a := range c.Attrs {
		if a.Name != "offset" {
			attrs = append(attrs, a)
		}
	}
	cp := *c
	cp.Attrs = attrs
	return pattern(prev, &cp)
}
