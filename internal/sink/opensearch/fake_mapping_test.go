package opensearch_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"time"
)

// The fake's dynamic mapping: what makes a real server refuse a document
// whose field has another shape than the one the index fixed.

// newIndex creates an index, applying the matching template of highest priority.
func (f *fakeES) newIndex(name string) *fakeIndex {
	ix := &fakeIndex{docs: map[string]json.RawMessage{}, fields: map[string]string{}, flat: map[string]bool{},
		lenient: map[string]bool{}, lenientDynamic: map[string]bool{}}
	var best *fakeTemplate
	for _, t := range f.templates {
		for _, p := range t.patterns {
			if ok, _ := path.Match(p, name); ok && (best == nil || t.priority > best.priority) {
				t := t
				best = &t
			}
		}
	}
	if best != nil {
		ix.dataStream = best.dataStream
		tmpl, _ := best.body["template"].(map[string]any)
		settings, _ := tmpl["settings"].(map[string]any)
		ix.ignoreMalformed, _ = settings["index.mapping.ignore_malformed"].(bool)
		mappings, _ := tmpl["mappings"].(map[string]any)
		ix.explicit(mappings["properties"], "")
		for _, dt := range asSlice(mappings["dynamic_templates"]) {
			for _, v := range dt.(map[string]any) {
				def := v.(map[string]any)
				m, _ := def["mapping"].(map[string]any)
				if typ, _ := def["match_mapping_type"].(string); m["ignore_malformed"] == true {
					ix.lenientDynamic[typ] = true
				}
			}
		}
	}
	f.indexes[name] = ix
	return ix
}

func (ix *fakeIndex) explicit(props any, prefix string) {
	m, _ := props.(map[string]any)
	for name, v := range m {
		def, _ := v.(map[string]any)
		p := prefix + name
		typ, _ := def["type"].(string)
		switch {
		case typ == "flat_object" || typ == "flattened":
			ix.flat[p] = true
		case def["properties"] != nil:
			ix.fields[p] = "object"
			ix.explicit(def["properties"], p+".")
		case typ != "":
			ix.fields[p] = typ
			ix.lenient[p] = def["ignore_malformed"] == true
		}
	}
}

// check applies dynamic mapping to doc: it returns the new fields, or the
// reason the document is refused.
func (ix *fakeIndex) check(doc map[string]any) (map[string]string, string) {
	added := map[string]string{}
	var walk func(prefix string, v any) string
	walk = func(p string, v any) string {
		if ix.flat[p] {
			return ""
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if msg := walk(p, e); msg != "" {
					return msg
				}
			}
			return ""
		}
		have := ix.fields[p]
		if have == "" {
			have = added[p]
		}
		switch v := v.(type) {
		case nil:
			return ""
		case map[string]any:
			if have != "" && have != "object" {
				return fmt.Sprintf("failed to parse field [%s] of type [%s] in document. Preview of field's value: '%s'", p, have, preview(v))
			}
			if have == "" {
				added[p] = "object"
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				sub := k
				if p != "" {
					sub = p + "." + k
				}
				if msg := walk(sub, v[k]); msg != "" {
					return msg
				}
			}
			return ""
		default:
			if have == "object" {
				return fmt.Sprintf("object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", p, p)
			}
			if have == "" {
				added[p] = dynamicType(v)
				return ""
			}
			if !fits(have, v) && !ix.ignoreMalformed && !ix.lenient[p] {
				return fmt.Sprintf("failed to parse field [%s] of type [%s] in document. Preview of field's value: '%v'", p, have, v)
			}
			return ""
		}
	}
	if msg := walk("", doc); msg != "" {
		return nil, msg
	}
	delete(added, "")
	return added, ""
}

func preview(v any) string { b, _ := json.Marshal(v); return string(b) }

func dynamicType(v any) string {
	switch v := v.(type) {
	case string:
		return "keyword"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "long"
		}
		return "double"
	}
	return "keyword"
}

// fits reports whether a value is acceptable to a field of type typ.
func fits(typ string, v any) bool {
	s := fmt.Sprint(v)
	switch typ {
	case "keyword", "text":
		return true
	case "long", "integer":
		_, err := strconv.ParseInt(s, 10, 64)
		return err == nil
	case "double":
		_, err := strconv.ParseFloat(s, 64)
		return err == nil
	case "boolean":
		return s == "true" || s == "false"
	case "ip":
		_, err := netip.ParseAddr(s)
		return err == nil
	case "date":
		for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700"} {
			if _, err := time.Parse(l, s); err == nil {
				return true
			}
		}
		_, err := strconv.ParseInt(s, 10, 64)
		return err == nil
	}
	return true
}
