package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// TestCommittedTableIsCurrent regenerates the table from the corpus and requires it to
// be byte-identical to the committed table_gen.go.
func TestCommittedTableIsCurrent(t *testing.T) {
	mitre := sharedcorpus.Path(t, "corpus", "mitre")
	got, err := build(filepath.Join(mitre, "enterprise-attack-v13.1.tsv"),
		filepath.Join(mitre, "enterprise-tactics-v13.1.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../table_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("table_gen.go is stale: run go generate in internal/mitre")
	}
}

func TestReadTechniquesErrors(t *testing.T) {
	tacs := []tactic{{"TA0001", "Initial Access"}}
	tests := []struct {
		name, input, wantErr string
	}{
		{"unknown tactic", "h\th\th\th\nT1\tX\tNope\t\n", "unknown tactic"},
		{"no tactic", "h\th\th\th\nT1\tX\t\t\n", "no tactic"},
		{"duplicate", "h\th\th\th\nT1\tX\tInitial Access\t\nT1\tY\tInitial Access\t\n", "duplicate"},
		{"field count", "h\th\th\th\nT1\tX\n", "fields"},
		{"not a technique id", "h\th\th\th\nX1\tX\tInitial Access\t\n", "bad technique"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readTechniques(strings.NewReader(tc.input), "in.tsv", tacs)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v; want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestRenderIsValidGo(t *testing.T) {
	tacs := []tactic{{"TA0001", "Initial Access"}, {"TA0002", "Execution"}}
	techs := []technique{{id: "T1", name: `Quote " and \ backslash`, tactics: []int{1, 0}, status: "revoked"},
		{id: "T2", name: "Current", tactics: []int{0}}}
	src, err := render(tacs, techs)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(src, []byte("\t\"T1\",\n")) || !bytes.Contains(src, []byte("var activeTechniques = [...]string{\n\t\"T2\",\n}")) {
		t.Errorf("activeTechniques should hold T2 only:\n%s", src)
	}
	for _, want := range []string{notice, `"\x01\x00"`, "DO NOT EDIT.", "// revoked"} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("generated source lacks %q:\n%s", want, src)
		}
	}
}
