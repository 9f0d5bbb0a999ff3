package config

import (
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Types the key check stops at because they decode the node themselves.
var (
	nodeType            = reflect.TypeOf(yaml.Node{})
	yamlUnmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*interface{ UnmarshalText([]byte) error })(nil)).Elem()
)

const (
	maxKeyCheckDepth      = 64
	mergeKey              = "<<"
	keyCheckVisitedBudget = 100000
)

// keyChecker reports mapping keys that no field of the target type takes. The
// yaml package only does this when decoding from text, and decoding from text
// would lose the positions of the expanded tree, so the check is done here, on
// the tree, against the same struct tags the decoder uses.
type keyChecker struct {
	errs    *errorList
	prefix  string // put in front of every message, e.g. "sources[0] (demo): "
	visited map[visit]bool
}

type visit struct {
	n *yaml.Node
	t reflect.Type
}

func (k *keyChecker) check(n *yaml.Node, t reflect.Type, path string, depth int) {
	if n == nil || depth > maxKeyCheckDepth {
		return
	}
	if n.Kind == yaml.AliasNode {
		// Anchored values can be reused under several types; remember each pair
		// so alias bombs cost no more than the tree they point into.
		if k.visited == nil {
			k.visited = map[visit]bool{}
		}
		v := visit{n.Alias, t}
		if k.visited[v] || len(k.visited) > keyCheckVisitedBudget {
			return
		}
		k.visited[v] = true
		k.check(n.Alias, t, path, depth+1)
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType || t.Implements(yamlUnmarshalerType) || reflect.PointerTo(t).Implements(yamlUnmarshalerType) ||
		reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return // the type reads the node itself
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind == yaml.MappingNode {
			k.mapping(n, structKeys(t), path, depth)
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			k.mapping(n, keySet{anyKey: t.Elem()}, path, depth)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				k.check(c, t.Elem(), path+"["+strconv.Itoa(i)+"]", depth+1)
			}
		}
	}
}

func (k *keyChecker) mapping(n *yaml.Node, keys keySet, path string, depth int) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		if key.Kind == yaml.ScalarNode && name == mergeKey && key.Tag != "!!str" {
			k.merge(val, keys, path, depth)
			continue
		}
		sub := name
		if path != "" {
			sub = path + "." + name
		}
		if ft, ok := keys.fields[name]; ok {
			k.check(val, ft, sub, depth+1)
			continue
		}
		if keys.anyKey != nil {
			k.check(val, keys.anyKey, sub, depth+1)
			continue
		}
		where := ""
		if path != "" {
			where = path + ": "
		}
		msg := k.prefix + where + "unknown key " + strconv.Quote(name)
		if s := suggest(name, keys.fields); s != "" {
			msg += " (did you mean " + strconv.Quote(s) + "?)"
		}
		k.errs.addf(key.Line, "%s", msg)
	}
}

// merge checks the mappings pulled in by a "<<" key against the same fields.
func (k *keyChecker) merge(val *yaml.Node, keys keySet, path string, depth int) {
	val = resolve(val)
	if val == nil {
		return
	}
	switch val.Kind {
	case yaml.MappingNode:
		k.mapping(val, keys, path, depth+1)
	case yaml.SequenceNode:
		for _, c := range val.Content {
			if c = resolve(c); c != nil && c.Kind == yaml.MappingNode {
				k.mapping(c, keys, path, depth+1)
			}
		}
	}
}

// keySet is what a mapping may contain: named fields and, for maps and inline
// maps, any other key with values of type anyKey.
type keySet struct {
	fields map[string]reflect.Type
	anyKey reflect.Type
}

// structKeys lists the YAML keys of a struct the way yaml.v3 derives them: the
// tag name, else the lowercased field name; "-" skips; ",inline" merges.
func structKeys(t reflect.Type) keySet {
	ks := keySet{fields: map[string]reflect.Type{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if hasOpt(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch ft.Kind() {
			case reflect.Struct:
				inner := structKeys(ft)
				for n, t := range inner.fields {
					ks.fields[n] = t
				}
				if inner.anyKey != nil {
					ks.anyKey = inner.anyKey
				}
			case reflect.Map:
				ks.anyKey = ft.Elem()
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		ks.fields[name] = f.Type
	}
	return ks
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to name when it is close enough to be a
// typo (edit distance at most 2, or 1 for short names).
func suggest(name string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", 3
	if len(name) <= 4 {
		bestD = 2
	}
	for _, n := range names {
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (with adjacent swaps, the most
// common typo) between short ASCII-ish keys.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // not a typo of a config key; skip the quadratic work
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
