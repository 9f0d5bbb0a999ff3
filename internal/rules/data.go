package rules

import (
	"encoding/json"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// dataNode is one object of the data tree built from decoded fields.
type dataNode struct {
	keys []string
	vals []any // string, json.RawMessage or *dataNode
}

func (n *dataNode) find(key string) int {
	for i, k := range n.keys {
		if equalFoldASCII([]byte(k), key) {
			return i
		}
	}
	return -1
}

// fieldsData nests the decoded fields the way Wazuh prints alert data: static fields
// first in their fixed order, then dynamic fields in order, split on dots, objects
// merged case-insensitively, first writer wins, empty values left out.
func (m *Matcher) fieldsData() []byte {
	d := m.d
	root := &dataNode{}
	for f := StaticField(0); f < numStatic; f++ {
		if v, ok := d.getStatic(f); ok {
			root.keys = append(root.keys, staticNames[f])
			root.vals = append(root.vals, dataValue(v))
		}
	}
	for _, f := range d.dyn {
		v := d.bytes(f.val)
		if len(v) == 0 {
			continue
		}
		insertDotted(root, string(d.bytes(f.key)), dataValue(v))
	}
	if len(root.keys) == 0 {
		return nil
	}
	return appendNode(nil, root)
}

// dataValue keeps a value that is a complete JSON array as the array.
func dataValue(v []byte) any {
	if len(v) > 1 && v[0] == '[' && v[len(v)-1] == ']' && json.Valid(v) {
		return json.RawMessage(append([]byte(nil), v...))
	}
	return string(v)
}

func insertDotted(n *dataNode, key string, v any) {
	for {
		i := indexByte(key, '.')
		if i < 0 {
			if n.find(key) < 0 {
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, v)
			}
			return
		}
		seg := key[:i]
		key = key[i+1:]
		j := n.find(seg)
		if j < 0 {
			child := &dataNode{}
			n.keys = append(n.keys, seg)
			n.vals = append(n.vals, child)
			n = child
			continue
		}
		child, ok := n.vals[j].(*dataNode)
		if !ok {
			return
		}
		n = child
	}
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func appendNode(dst []byte, n *dataNode) []byte {
	dst = append(dst, '{')
	for i, k := range n.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = alert.AppendString(dst, k)
		dst = append(dst, ':')
		switch v := n.vals[i].(type) {
		case string:
			dst = alert.AppendString(dst, v)
		case json.RawMessage:
			dst = append(dst, v...)
		case *dataNode:
			dst = appendNode(dst, v)
		}
	}
	return append(dst, '}')
}
