package config

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxAliasDepth bounds how many aliases in a row the helpers follow; YAML allows
// alias chains, and bad input must not make them loop.
const maxAliasDepth = 32

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasDepth; i++ {
		n = n.Alias
	}
	return n
}

// mappingValue returns the key and value nodes for key in mapping node m, or nil.
// Only the mapping's own keys count, not merged ones: positions are what we are
// after, and a merged key has no position of its own in this section.
func mappingValue(m *yaml.Node, key string) (k, v *yaml.Node) {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// fieldLine returns the line of the key or list item named by field (dotted keys
// with [i] indices, as in FieldError) inside n. When the path runs out early it
// returns the line of the deepest part that exists, so a missing required key is
// reported at its section.
func fieldLine(n *yaml.Node, field string) int {
	n = resolve(n)
	if n == nil {
		return 0
	}
	line := n.Line
	for _, part := range splitField(field) {
		if part.index >= 0 {
			seq := resolve(n)
			if seq == nil || seq.Kind != yaml.SequenceNode || part.index >= len(seq.Content) {
				return line
			}
			n = seq.Content[part.index]
			line = n.Line
			continue
		}
		k, v := mappingValue(n, part.key)
		if k == nil {
			return line
		}
		n, line = v, k.Line
	}
	return line
}

type fieldPart struct {
	key   string
	index int // -1 for a key
}

// splitField parses "a.b[2].c" into parts; malformed indices are treated as part
// of the key name, which simply will not be found.
func splitField(field string) []fieldPart {
	var parts []fieldPart
	for _, seg := range strings.Split(field, ".") {
		key := seg
		var idx []int
		for strings.HasSuffix(key, "]") {
			open := strings.LastIndexByte(key, '[')
			if open < 0 {
				break
			}
			i, err := strconv.Atoi(key[open+1 : len(key)-1])
			if err != nil || i < 0 {
				break
			}
			idx = append([]int{i}, idx...)
			key = key[:open]
		}
		if key != "" {
			parts = append(parts, fieldPart{key: key, index: -1})
		}
		for _, i := range idx {
			parts = append(parts, fieldPart{index: i})
		}
	}
	return parts
}
