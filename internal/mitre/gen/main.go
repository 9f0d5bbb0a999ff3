// Command gen builds the package's ATT&CK lookup tables (table_gen.go) from the two
// tab-separated extracts of MITRE's ATT&CK data: one row per technique (id, name,
// ';'-separated tactic names in kill-chain order, status) and one row per tactic
// (id, name).
//
// The output is a pair of switch-based lookup functions rather than package-level
// maps or slices, so the tables are immutable and need no initialisation at start-up.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"sort"
	"strings"
)

// notice is the attribution MITRE's terms of use require on every copy of the data.
const notice = "© The MITRE Corporation. This work is reproduced and distributed with the permission of The MITRE Corporation."

// maxTactics bounds how many tactics one technique may list; the generated code encodes
// tactic indexes as bytes of a string, so the bound only guards against garbage input.
const maxTactics = 16

type tactic struct {
	id, name string
}

type technique struct {
	id, name string
	tactics  []int // indexes into the tactic list
	status   string
}

func main() {
	attack := flag.String("attack", "", "technique table (TSV: technique_id, technique, tactics, status)")
	tactics := flag.String("tactics", "", "tactic table (TSV: tactic_id, tactic)")
	out := flag.String("o", "table_gen.go", "output Go file")
	flag.Parse()
	if *attack == "" || *tactics == "" {
		fmt.Fprintln(os.Stderr, "gen: -attack and -tactics are required")
		os.Exit(2)
	}
	src, err := build(*attack, *tactics)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// build reads both tables and returns the formatted Go source of table_gen.go.
func build(attackPath, tacticsPath string) ([]byte, error) {
	tf, err := os.Open(tacticsPath)
	if err != nil {
		return nil, fmt.Errorf("open tactics table: %w", err)
	}
	defer tf.Close()
	tacs, err := readTactics(tf, tacticsPath)
	if err != nil {
		return nil, err
	}
	af, err := os.Open(attackPath)
	if err != nil {
		return nil, fmt.Errorf("open technique table: %w", err)
	}
	defer af.Close()
	techs, err := readTechniques(af, attackPath, tacs)
	if err != nil {
		return nil, err
	}
	return render(tacs, techs)
}

// readRows returns the non-header rows of a TSV file, each split into exactly n fields.
func readRows(r io.Reader, path string, n int) ([][]string, error) {
	var rows [][]string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 || text == "" {
			continue // header row
		}
		f := strings.Split(text, "\t")
		if len(f) != n {
			return nil, fmt.Errorf("%s:%d: want %d tab-separated fields, got %d", path, line, n, len(f))
		}
		rows = append(rows, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}

func readTactics(r io.Reader, path string) ([]tactic, error) {
	rows, err := readRows(r, path, 2)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []tactic
	for i, f := range rows {
		if !strings.HasPrefix(f[0], "TA") || f[1] == "" {
			return nil, fmt.Errorf("%s: row %d: bad tactic %q %q", path, i+2, f[0], f[1])
		}
		if seen[f[0]] {
			return nil, fmt.Errorf("%s: duplicate tactic %s", path, f[0])
		}
		seen[f[0]] = true
		out = append(out, tactic{id: f[0], name: f[1]})
	}
	if len(out) == 0 {
		return nil, errors.New(path + ": no tactics")
	}
	return out, nil
}

func readTechniques(r io.Reader, path string, tacs []tactic) ([]technique, error) {
	rows, err := readRows(r, path, 4)
	if err != nil {
		return nil, err
	}
	byName := map[string]int{}
	for i, t := range tacs {
		byName[t.name] = i
	}
	seen := map[string]bool{}
	var out []technique
	for i, f := range rows {
		if !strings.HasPrefix(f[0], "T") || f[1] == "" {
			return nil, fmt.Errorf("%s: row %d: bad technique %q %q", path, i+2, f[0], f[1])
		}
		// The engine keys its table by id and keeps the first entry; a duplicate in the
		// source would make that choice invisible here, so refuse it.
		if seen[f[0]] {
			return nil, fmt.Errorf("%s: duplicate technique %s", path, f[0])
		}
		seen[f[0]] = true
		t := technique{id: f[0], name: f[1], status: f[3]}
		if f[2] == "" {
			return nil, fmt.Errorf("%s: technique %s has no tactic", path, f[0])
		}
		for _, name := range strings.Split(f[2], ";") {
			idx, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("%s: technique %s: unknown tactic %q", path, f[0], name)
			}
			t.tactics = append(t.tactics, idx)
		}
		if len(t.tactics) > maxTactics {
			return nil, fmt.Errorf("%s: technique %s lists %d tactics", path, f[0], len(t.tactics))
		}
		out = append(out, t)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out, nil
}

func render(tacs []tactic, techs []technique) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// %s\n\n", notice)
	b.WriteString("// Code generated by go run ./gen; DO NOT EDIT.\n\n")
	b.WriteString("package mitre\n\n")
	fmt.Fprintf(&b, "// techniqueCount is the number of techniques in the table, deprecated and revoked ones included.\n")
	fmt.Fprintf(&b, "const techniqueCount = %d\n\n", len(techs))
	fmt.Fprintf(&b, "// tacticCount is the number of tactics in the table.\n")
	fmt.Fprintf(&b, "const tacticCount = %d\n\n", len(tacs))

	b.WriteString("// tacticByIndex returns the id and name of the tactic with the given table index.\n")
	b.WriteString("func tacticByIndex(i byte) (id, name string) {\n\tswitch i {\n")
	for i, t := range tacs {
		fmt.Fprintf(&b, "\tcase %d:\n\t\treturn %q, %q\n", i, t.id, t.name)
	}
	b.WriteString("\t}\n\treturn \"\", \"\"\n}\n\n")

	b.WriteString("// tacticByID returns the name of the tactic with the given id.\n")
	b.WriteString("func tacticByID(id string) (name string, ok bool) {\n\tswitch id {\n")
	for _, t := range tacs {
		fmt.Fprintf(&b, "\tcase %q:\n\t\treturn %q, true\n", t.id, t.name)
	}
	b.WriteString("\t}\n\treturn \"\", false\n}\n\n")

	b.WriteString("// techniqueByID returns a technique's name and its tactics as a string of tactic\n")
	b.WriteString("// indexes (see tacticByIndex), one byte each, in the source's kill-chain order.\n")
	b.WriteString("func techniqueByID(id string) (name, tactics string, ok bool) {\n\tswitch id {\n")
	for _, t := range techs {
		var idx strings.Builder
		for _, i := range t.tactics {
			fmt.Fprintf(&idx, "\\x%02x", i)
		}
		comment := ""
		if t.status != "" {
			comment = " // " + t.status
		}
		fmt.Fprintf(&b, "\tcase %q:%s\n\t\treturn %q, \"%s\", true\n", t.id, comment, t.name, idx.String())
	}
	b.WriteString("\t}\n\treturn \"\", \"\", false\n}\n\n")

	// The matrix lists what is current; a plain array of constants is laid
	// out by the linker, so it needs no initialisation either.
	b.WriteString("// activeTechniques are the ids of the techniques that are neither deprecated nor\n")
	b.WriteString("// revoked, in id order (so each sub-technique follows its parent).\n")
	b.WriteString("var activeTechniques = [...]string{\n")
	for _, t := range techs {
		if t.status == "" {
			fmt.Fprintf(&b, "\t%q,\n", t.id)
		}
	}
	b.WriteString("}\n")

	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format generated code: %w", err)
	}
	return src, nil
}
