package wazuhxml

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/cdb"
)

// BuiltinName is the --rules word for the embedded default ruleset.
const BuiltinName = "builtin"

// DefaultExcludes are the rule files Wazuh's stock ossec.conf leaves out of a
// ruleset folder; loading a Wazuh-layout folder honours the same list.
var DefaultExcludes = []string{"0215-policy_rules.xml"}

// fileRef is one file to load: where to read it and how to name it in messages.
type fileRef struct {
	fsys fs.FS
	path string // path inside fsys
	name string // display name
	base string // base name, the sort key
}

// collection is what a set of --rules paths expands to.
type collection struct {
	decoders, rules []fileRef
	lists           []listRef
}

type listRef struct {
	fileRef
	names []string // names rules may use for it
}

// Load reads rules, decoders and CDB lists from paths (files, folders, or the word
// "builtin" for builtinFS) and compiles them. Files load in Wazuh's order: all rule
// files sorted together by base name, likewise decoders. Every fatal error is
// returned, joined; non-fatal problems are in the ruleset's Warnings.
func Load(paths []string, opt rules.Options, builtinFS fs.FS) (*rules.Ruleset, error) {
	var col collection
	var errs []error
	for _, p := range paths {
		if err := col.add(p, builtinFS); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return col.build(opt)
}

func (c *collection) add(p string, builtinFS fs.FS) error {
	if p == BuiltinName {
		if builtinFS == nil {
			return fmt.Errorf("load rules: no builtin ruleset in this build")
		}
		return c.addLayout(builtinFS, ".", "builtin:")
	}
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("load rules: %w", err)
	}
	dir, file := p, ""
	if !st.IsDir() {
		dir, file = filepath.Dir(p), filepath.Base(p)
	}
	fsys := os.DirFS(dir)
	prefix := dir + string(filepath.Separator)
	if file != "" {
		return c.addFile(fsys, file, prefix+file)
	}
	if isLayout(fsys) {
		return c.addLayout(fsys, ".", prefix)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("load rules from %s: %w", p, err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(strings.ToLower(e.Name()), ".xml") {
			continue
		}
		if err := c.addFile(fsys, e.Name(), prefix+e.Name()); err != nil {
			return err
		}
	}
	return nil
}

// isLayout reports whether a folder is laid out like Wazuh's ruleset.
func isLayout(fsys fs.FS) bool {
	for _, d := range []string{"rules", "decoders", "lists"} {
		if st, err := fs.Stat(fsys, d); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}

func (c *collection) addLayout(fsys fs.FS, root, prefix string) error {
	for _, sub := range []string{"decoders", "rules"} {
		entries, err := fs.ReadDir(fsys, path.Join(root, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("load rules from %s%s: %w", prefix, sub, err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(strings.ToLower(name), ".xml") || excluded(name) {
				continue
			}
			ref := fileRef{fsys: fsys, path: path.Join(root, sub, name), name: prefix + path.Join(sub, name), base: name}
			if sub == "decoders" {
				c.decoders = append(c.decoders, ref)
			} else {
				c.rules = append(c.rules, ref)
			}
		}
	}
	listRoot := path.Join(root, "lists")
	return fs.WalkDir(fsys, listRoot, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == listRoot {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load lists from %s%s: %w", prefix, p, err)
		}
		if d.IsDir() || skipListFile(d.Name()) {
			return nil
		}
		rel := strings.TrimPrefix(p, listRoot+"/")
		c.lists = append(c.lists, listRef{
			fileRef: fileRef{fsys: fsys, path: p, name: prefix + p, base: d.Name()},
			names:   []string{"etc/lists/" + rel, "lists/" + rel, rel},
		})
		return nil
	})
}

// skipListFile leaves out compiled lists, hidden files and documentation.
func skipListFile(name string) bool {
	return strings.HasSuffix(name, ".cdb") || strings.HasPrefix(name, ".") ||
		strings.HasSuffix(name, ".md") || strings.HasPrefix(name, "README")
}

func excluded(name string) bool {
	for _, x := range DefaultExcludes {
		if x == name {
			return true
		}
	}
	return false
}

// addFile classifies a single file by its content: rules, decoders, or a CDB list.
func (c *collection) addFile(fsys fs.FS, p, display string) error {
	ref := fileRef{fsys: fsys, path: p, name: display, base: path.Base(p)}
	if !strings.HasSuffix(strings.ToLower(p), ".xml") {
		c.lists = append(c.lists, listRef{fileRef: ref, names: []string{display, path.Base(p)}})
		return nil
	}
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return fmt.Errorf("load rules: %w", err)
	}
	if firstElement(data) == "decoder" {
		c.decoders = append(c.decoders, ref)
	} else {
		c.rules = append(c.rules, ref)
	}
	return nil
}

// firstElement returns the name of the first element of an XML document.
func firstElement(data []byte) string {
	roots, err := ParseXML("", data)
	if err != nil || len(roots) == 0 {
		return ""
	}
	return strings.ToLower(roots[0].Name)
}

func sortByBase(refs []fileRef) {
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].base < refs[j].base })
}

func (c *collection) build(opt rules.Options) (*rules.Ruleset, error) {
	b := rules.NewBuilder(opt)
	for _, l := range c.lists {
		data, err := fs.ReadFile(l.fsys, l.path)
		if err != nil {
			b.Fail(fmt.Errorf("load list: %w", err))
			continue
		}
		list, err := cdb.Parse(bytes.NewReader(data), l.name)
		if err != nil {
			b.Fail(fmt.Errorf("load list %s: %w", l.name, err))
			continue
		}
		for _, n := range l.names {
			b.AddList(n, list)
		}
	}
	sortByBase(c.decoders)
	sortByBase(c.rules)
	for _, f := range c.decoders {
		roots, ok := parseFile(b, f)
		if !ok {
			continue
		}
		specs, errs := DecoderSpecs(f.name, roots)
		for _, err := range errs {
			b.Fail(err)
		}
		for _, s := range specs {
			b.AddDecoder(s)
		}
	}
	for _, f := range c.rules {
		roots, ok := parseFile(b, f)
		if !ok {
			continue
		}
		specs, errs := RuleSpecs(f.name, roots)
		for _, err := range errs {
			b.Fail(err)
		}
		for _, s := range specs {
			b.AddRule(s)
		}
	}
	return b.Build()
}

func parseFile(b *rules.Builder, f fileRef) ([]*Node, bool) {
	data, err := fs.ReadFile(f.fsys, f.path)
	if err != nil {
		b.Fail(fmt.Errorf("read %s: %w", f.name, err))
		return nil, false
	}
	roots, err := ParseXML(f.name, data)
	if err != nil {
		b.Fail(err)
		return nil, false
	}
	return roots, true
}
