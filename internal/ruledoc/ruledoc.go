// Package ruledoc renders a loaded ruleset as a Markdown reference: one table row
// per rule with its id, level, description, ATT&CK ids and compliance tags. The
// built-in ruleset's reference (docs/rules.md) is generated with it and a test keeps
// the two in sync.
package ruledoc

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/rules"
)

// Markdown renders the reference of rs, grouped by rule file, rules by id.
func Markdown(rs *rules.Ruleset, title, intro string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", title, intro)
	byFile := map[string][]*rules.Rule{}
	var files []string
	for _, r := range rs.All {
		f := path.Base(strings.ReplaceAll(r.File, "\\", "/"))
		if _, ok := byFile[f]; !ok {
			files = append(files, f)
		}
		byFile[f] = append(byFile[f], r)
	}
	sort.Strings(files)
	total := 0
	for _, f := range files {
		list := byFile[f]
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		fmt.Fprintf(&b, "## %s\n\n| id | level | description | ATT&CK | compliance |\n|---|---|---|---|---|\n", f)
		for _, r := range list {
			total++
			var mitre []string
			if r.Mitre != nil {
				mitre = r.Mitre.ID
			}
			var comp []string
			for _, c := range r.Compliance {
				comp = append(comp, c.Name+" "+strings.Join(c.Values, ", "))
			}
			fmt.Fprintf(&b, "| %d | %d | %s | %s | %s |\n", r.ID, r.Level, cell(r.DescText),
				strings.Join(mitre, ", "), cell(strings.Join(comp, "; ")))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%d rules.\n", total)
	return b.Bytes()
}

// cell makes text safe inside a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.TrimSpace(s)
}
