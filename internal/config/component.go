package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Validator is implemented by every component's Config struct. Validate checks
// the values after decoding and returns FieldErrors (joined with errors.Join when
// there are several); it must be pure and fast.
type Validator interface {
	Validate() error
}

// SourceConfig is one entry of sources: its name and type, where it is, and its
// raw section, which the source's own package decodes with Decode.
type SourceConfig struct {
	// Name identifies the source in checkpoints, metrics and alerts (required).
	Name string
	// Type selects the source implementation (required).
	Type string
	// Index is the entry's position in the list.
	Index int
	// File and Line locate the entry.
	File string
	Line int
	// BaseDir is the directory relative Path fields are resolved against ("" to
	// leave them as written).
	BaseDir string
	// Node is the entry's mapping after ${...} expansion, including name and type.
	Node *yaml.Node
}

// OutputConfig is one entry of outputs: its type, optional name, where it is, and
// its raw section, which the sink's own package decodes with Decode.
type OutputConfig struct {
	// Name identifies the output in metrics and logs; when not set it defaults
	// to the type, or to type-<index> when several outputs share the type.
	Name string
	// Type selects the sink implementation (required).
	Type string
	// Index is the entry's position in the list.
	Index int
	// File and Line locate the entry.
	File string
	Line int
	// BaseDir is the directory relative Path fields are resolved against ("" to
	// leave them as written).
	BaseDir string
	// Node is the entry's mapping after ${...} expansion, including name and type.
	Node *yaml.Node
}

// component holds what SourceConfig and OutputConfig share; the field lists are
// identical so the three convert into each other.
type component struct {
	Name    string
	Type    string
	Index   int
	File    string
	Line    int
	BaseDir string
	Node    *yaml.Node
}

// Decode decodes the source's section strictly into v, which the caller has filled
// with the source's defaults, resolves its relative Path fields, and runs
// v.Validate. Every error carries the file, the line and "sources[i] (name)".
func (c SourceConfig) Decode(v Validator) error {
	return component(c).decode("sources", v)
}

// Label names the entry in messages: "sources[0] (demo)".
func (c SourceConfig) Label() string { return component(c).label("sources") }

// Decode decodes the output's section strictly into v, which the caller has filled
// with the output's defaults, resolves its relative Path fields, and runs
// v.Validate. Every error carries the file, the line and "outputs[i] (name)".
func (c OutputConfig) Decode(v Validator) error {
	return component(c).decode("outputs", v)
}

// Label names the entry in messages: "outputs[0] (file)".
func (c OutputConfig) Label() string { return component(c).label("outputs") }

func (c component) label(section string) string {
	s := section + "[" + strconv.Itoa(c.Index) + "]"
	switch {
	case c.Name != "":
		s += " (" + c.Name + ")"
	case c.Type != "":
		s += " (" + c.Type + ")"
	}
	return s
}

func (c component) decode(section string, v Validator) error {
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode %s: want a non-nil pointer, got %T", c.label(section), v)
	}
	return decodeSection(c.File, c.Line, c.BaseDir, c.body(), c.label(section)+": ", v)
}

// decodeSection decodes body strictly into v, resolves v's relative Path fields
// against baseDir and runs v.Validate; every error carries file, line and prefix.
func decodeSection(file string, line0 int, baseDir string, body *yaml.Node, prefix string, v Validator) error {
	rv := reflect.ValueOf(v)
	errs := &errorList{file: file}
	(&keyChecker{errs: errs, prefix: prefix}).check(body, rv.Type(), "", 0)
	if err := body.Decode(v); err != nil {
		errs.addYAML(err, prefix, line0)
	}
	if err := errs.err(); err != nil {
		return err
	}
	resolvePaths(rv, baseDir, 0)
	for _, e := range flatten(v.Validate()) {
		line := line0
		var fe FieldError
		var pfe *FieldError
		switch {
		case errors.As(e, &fe):
			line = fieldLine(body, fe.Field)
		case errors.As(e, &pfe) && pfe != nil:
			line = fieldLine(body, pfe.Field)
		}
		if line == 0 {
			line = line0
		}
		errs.addf(line, "%s%v", prefix, e)
	}
	return errs.err()
}

// body returns the entry's mapping without the keys the config package owns, so
// the component's struct need not declare them.
func (c component) body() *yaml.Node {
	n := resolve(c.Node)
	if n == nil || n.Kind != yaml.MappingNode {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: c.Line}
	}
	out := *n
	out.Content = make([]*yaml.Node, 0, len(n.Content))
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && isReserved(n.Content[i].Value) {
			continue
		}
		out.Content = append(out.Content, n.Content[i], n.Content[i+1])
	}
	return &out
}

// isReserved reports the keys the config package reads itself.
func isReserved(key string) bool { return key == "name" || key == "type" }

// components turns the list under section into entries, reporting entries that are
// not mappings and names or types that are not strings.
func components[T any](errs *errorList, list *yaml.Node, section string, conv func(component) T) []T {
	n := resolve(list)
	if n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		errs.addf(n.Line, "%s: must be a list", section)
		return nil
	}
	out := make([]T, 0, len(n.Content))
	for i, item := range n.Content {
		c := component{Index: i, Line: item.Line, Node: item}
		m := resolve(item)
		if m == nil || m.Kind != yaml.MappingNode {
			errs.addf(item.Line, "%s: must be a mapping with at least a type", c.label(section))
			continue
		}
		var head struct {
			Name string `yaml:"name"`
			Type string `yaml:"type"`
		}
		if err := m.Decode(&head); err != nil {
			errs.addYAML(err, c.label(section)+": ", item.Line)
			continue
		}
		c.Name, c.Type = head.Name, head.Type
		out = append(out, conv(c))
	}
	return out
}

// maxPathDepth bounds the walk over a component's struct.
const maxPathDepth = 16

var pathType = reflect.TypeOf(Path(""))

// resolvePaths rewrites every relative Path reachable from v (through structs,
// pointers, slices and arrays) to be relative to base.
func resolvePaths(v reflect.Value, base string, depth int) {
	if base == "" || depth > maxPathDepth || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			resolvePaths(v.Elem(), base, depth+1)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				resolvePaths(v.Field(i), base, depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			resolvePaths(v.Index(i), base, depth+1)
		}
	case reflect.String:
		if v.Type() == pathType && v.CanSet() {
			v.SetString(resolvePath(base, v.String()))
		}
	}
}
