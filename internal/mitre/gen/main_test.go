package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedTableIsCurrent regenerates the table from the corpus and requires it to
// be byte-identical to the committed table_gen.go.
func TestCommittedTableIsCurrent(t *testing.T) {
	shared := sharedDir(t)
	got, err := build(filepath.Join(shared, "corpus/mitre/enterprise-attack-v13.1.tsv"),
		filepath.Join(shared, "corpus/mitre/enterprise-tactics-v13.1.tsv"))
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
	techs := []technique{{id: "T1", name: `Quote " and \ backslash`, tactics: []int{1, 0}, status: "revoked"}}
	src, err := render(tacs, techs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{notice, `"\x01\x00"`, "DO NOT EDIT.", "// revoked"} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("generated source lacks %q:\n%s", want, src)
		}
	}
}

func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("SKIP: /work/shared corpus not found (no go.mod above the test directory)")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(filepath.Join(shared, "corpus/mitre")); err != nil {
		t.Skipf("SKIP: /work/shared corpus not found at %s; generator check did not run", shared)
	}
	return shared
}
