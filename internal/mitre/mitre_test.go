package mitre

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

func TestTechniqueName(t *testing.T) {
	tests := []struct {
		name, id, want string
		ok             bool
	}{
		{"technique", "T1078", "Valid Accounts", true},
		{"subtechnique", "T1078.004", "Cloud Accounts", true},
		{"revoked is kept", "T1002", "Data Compressed", true},
		{"deprecated is kept", "T1026", "Multiband Communication", true},
		{"non-ASCII name", "T1055.013", "Process Doppelgänging", true},
		{"unknown", "T9999", "", false},
		{"case-sensitive", "t1078", "", false},
		{"tactic id is not a technique", "TA0001", "", false},
		{"surrounding space is not trimmed", " T1078", "", false},
		{"empty", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := TechniqueName(tc.id)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("TechniqueName(%q) = %q, %v; want %q, %v", tc.id, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestTacticName(t *testing.T) {
	tests := []struct {
		name, id, want string
		ok             bool
	}{
		{"first", "TA0001", "Initial Access", true},
		{"impact", "TA0040", "Impact", true},
		{"last", "TA0043", "Reconnaissance", true},
		{"gap in numbering", "TA0012", "", false},
		{"technique id", "T1078", "", false},
		{"lower case", "ta0001", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := TacticName(tc.id)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("TacticName(%q) = %q, %v; want %q, %v", tc.id, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestResolveIDs(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		want Mitre
		ok   bool
	}{
		{
			name: "kill-chain order, not tactic id order",
			ids:  []string{"T1078"},
			want: Mitre{
				ID:        []string{"T1078"},
				Tactic:    []string{"Defense Evasion", "Persistence", "Privilege Escalation", "Initial Access"},
				Technique: []string{"Valid Accounts"},
			},
			ok: true,
		},
		{
			name: "union in declaration order",
			ids:  []string{"T1098.003", "T1078.004"},
			want: Mitre{
				ID:        []string{"T1098.003", "T1078.004"},
				Tactic:    []string{"Persistence", "Defense Evasion", "Privilege Escalation", "Initial Access"},
				Technique: []string{"Additional Cloud Roles", "Cloud Accounts"},
			},
			ok: true,
		},
		{
			name: "unknown id kept verbatim but not resolved",
			ids:  []string{"T9999", "T1530"},
			want: Mitre{
				ID:        []string{"T9999", "T1530"},
				Tactic:    []string{"Collection"},
				Technique: []string{"Data from Cloud Storage"},
			},
			ok: true,
		},
		{
			name: "tactic ids in the id form resolve nothing",
			ids:  []string{"TA0011"},
			want: Mitre{ID: []string{"TA0011"}},
			ok:   false,
		},
		{
			name: "only unknown ids",
			ids:  []string{"T0000", "bogus"},
			want: Mitre{ID: []string{"T0000", "bogus"}},
			ok:   false,
		},
		{
			name: "empty",
			ids:  nil,
			want: Mitre{},
			ok:   false,
		},
		{
			name: "repeated id repeats the technique name",
			ids:  []string{"T1110", "T1110"},
			want: Mitre{
				ID:        []string{"T1110", "T1110"},
				Tactic:    []string{"Credential Access"},
				Technique: []string{"Brute Force", "Brute Force"},
			},
			ok: true,
		},
		{
			name: "revoked technique resolves",
			ids:  []string{"T1038"},
			want: Mitre{
				ID:        []string{"T1038"},
				Tactic:    []string{"Persistence", "Privilege Escalation", "Defense Evasion"},
				Technique: []string{"DLL Search Order Hijacking"},
			},
			ok: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ResolveIDs(tc.ids)
			if ok != tc.ok || !equalMitre(got, tc.want) {
				t.Fatalf("ResolveIDs(%q) = %+v, %v; want %+v, %v", tc.ids, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestResolveIDsDoesNotAliasInput(t *testing.T) {
	ids := []string{"T1078"}
	m, _ := ResolveIDs(ids)
	ids[0] = "changed"
	if m.ID[0] != "T1078" {
		t.Fatalf("ResolveIDs result shares the caller's slice: %q", m.ID)
	}
}

func TestResolvePairs(t *testing.T) {
	tests := []struct {
		name     string
		pairs    [][2]string
		want     Mitre
		ok       bool
		warnings int
	}{
		{
			name:  "valid pair",
			pairs: [][2]string{{"TA0001", "T1078"}},
			want:  Mitre{ID: []string{"T1078"}, Tactic: []string{"Initial Access"}, Technique: []string{"Valid Accounts"}},
			ok:    true,
		},
		{
			name:  "same technique under two tactics is listed once",
			pairs: [][2]string{{"TA0003", "T1078"}, {"TA0005", "T1078"}},
			want: Mitre{
				ID:        []string{"T1078"},
				Tactic:    []string{"Persistence", "Defense Evasion"},
				Technique: []string{"Valid Accounts"},
			},
			ok: true,
		},
		{
			name:  "techniques sharing a name keep only the first id",
			pairs: [][2]string{{"TA0011", "T1071.004"}, {"TA0043", "T1590.002"}},
			want: Mitre{
				ID:        []string{"T1071.004"},
				Tactic:    []string{"Command and Control", "Reconnaissance"},
				Technique: []string{"DNS"},
			},
			ok: true,
		},
		{
			name:     "tactic not listed by the technique",
			pairs:    [][2]string{{"TA0040", "T1078"}, {"TA0006", "T1110"}},
			want:     Mitre{ID: []string{"T1110"}, Tactic: []string{"Credential Access"}, Technique: []string{"Brute Force"}},
			ok:       true,
			warnings: 1,
		},
		{
			name:     "unknown technique",
			pairs:    [][2]string{{"TA0001", "T9999"}},
			want:     Mitre{},
			ok:       false,
			warnings: 1,
		},
		{
			name:     "unknown tactic",
			pairs:    [][2]string{{"TA9999", "T1078"}},
			want:     Mitre{},
			ok:       false,
			warnings: 1,
		},
		{
			name:  "duplicate pair",
			pairs: [][2]string{{"TA0006", "T1110"}, {"TA0006", "T1110"}},
			want:  Mitre{ID: []string{"T1110"}, Tactic: []string{"Credential Access"}, Technique: []string{"Brute Force"}},
			ok:    true,
		},
		{
			name: "empty",
			ok:   false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, warnings := ResolvePairs(tc.pairs)
			if ok != tc.ok || !equalMitre(got, tc.want) || len(warnings) != tc.warnings {
				t.Fatalf("ResolvePairs(%q) = %+v, %v, %q; want %+v, %v, %d warnings",
					tc.pairs, got, ok, warnings, tc.want, tc.ok, tc.warnings)
			}
		})
	}
}

// TestTableMatchesSource checks the committed table against the TSV it was generated
// from, row by row, so a stale or hand-edited table_gen.go is caught.
func TestTableMatchesSource(t *testing.T) {
	dir := sharedcorpus.Dir(t)
	rows := readTSV(t, filepath.Join(dir, "corpus/mitre/enterprise-attack-v13.1.tsv"))
	if len(rows) != techniqueCount {
		t.Errorf("source has %d techniques, table has %d", len(rows), techniqueCount)
	}
	for _, r := range rows {
		name, ok := TechniqueName(r[0])
		if !ok || name != r[1] {
			t.Errorf("TechniqueName(%q) = %q, %v; source says %q", r[0], name, ok, r[1])
			continue
		}
		got, _ := ResolveIDs([]string{r[0]})
		if want := strings.Split(r[2], ";"); !reflect.DeepEqual(got.Tactic, want) {
			t.Errorf("tactics of %s = %q; source says %q", r[0], got.Tactic, want)
		}
	}
	tactics := readTSV(t, filepath.Join(dir, "corpus/mitre/enterprise-tactics-v13.1.tsv"))
	if len(tactics) != tacticCount {
		t.Errorf("source has %d tactics, table has %d", len(tactics), tacticCount)
	}
	for _, r := range tactics {
		if name, ok := TacticName(r[0]); !ok || name != r[1] {
			t.Errorf("TacticName(%q) = %q, %v; source says %q", r[0], name, ok, r[1])
		}
	}
}

// TestOracleMitre replays every rule.mitre block that the real wazuh-analysisd wrote in
// the oracle sets and requires ResolveIDs to reproduce tactic and technique exactly,
// order included.
func TestOracleMitre(t *testing.T) {
	dir := sharedcorpus.Dir(t)
	files, err := filepath.Glob(filepath.Join(dir, "corpus/wazuh-oracle/*.oracle.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no oracle files under %s (err %v)", dir, err)
	}
	total, notIDOrder := 0, 0
	for _, f := range files {
		for n, m := range oracleMitre(t, f) {
			total++
			got, ok := ResolveIDs(m.ID)
			if !ok || !reflect.DeepEqual(got.Tactic, m.Tactic) || !reflect.DeepEqual(got.Technique, m.Technique) ||
				!reflect.DeepEqual(got.ID, m.ID) {
				t.Errorf("%s:%d: ResolveIDs(%q) = %+v, %v; oracle %+v", filepath.Base(f), n, m.ID, got, ok, m)
			}
			sorted := sortedByTacticID(m.Tactic)
			if !reflect.DeepEqual(sorted, m.Tactic) {
				notIDOrder++
			}
		}
	}
	t.Logf("%d oracle rule.mitre blocks reproduced; %d of them are not in tactic-id order", total, notIDOrder)
	if total < 400 {
		t.Errorf("only %d oracle rule.mitre blocks found; the oracle has 431", total)
	}
	// Without lines whose order differs from a plain tactic-id sort, this test could not
	// tell the two orderings apart.
	if notIDOrder == 0 {
		t.Errorf("no oracle line discriminates kill-chain order from tactic-id order")
	}
}

func sortedByTacticID(names []string) []string {
	ids := map[string]string{}
	for _, id := range []string{"TA0001", "TA0002", "TA0003", "TA0004", "TA0005", "TA0006", "TA0007",
		"TA0008", "TA0009", "TA0010", "TA0011", "TA0040", "TA0042", "TA0043"} {
		name, _ := TacticName(id)
		ids[name] = id
	}
	out := append([]string(nil), names...)
	sort.Slice(out, func(a, b int) bool { return ids[out[a]] < ids[out[b]] })
	return out
}

// oracleMitre returns the rule.mitre blocks of one oracle file keyed by 1-based line.
func oracleMitre(t *testing.T, path string) map[int]Mitre {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var line struct {
		Output *struct {
			Rule struct {
				Mitre *struct {
					ID        []string `json:"id"`
					Tactic    []string `json:"tactic"`
					Technique []string `json:"technique"`
				} `json:"mitre"`
			} `json:"rule"`
		} `json:"output"`
	}
	out := map[int]Mitre{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line.Output = nil
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		if line.Output == nil || line.Output.Rule.Mitre == nil {
			continue
		}
		m := line.Output.Rule.Mitre
		out[n] = Mitre{ID: m.ID, Tactic: m.Tactic, Technique: m.Technique}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}

func readTSV(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for i, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if i == 0 {
			continue
		}
		rows = append(rows, strings.Split(l, "\t"))
	}
	return rows
}

func equalMitre(a, b Mitre) bool {
	return len(a.ID) == len(b.ID) && len(a.Tactic) == len(b.Tactic) && len(a.Technique) == len(b.Technique) &&
		(len(a.ID) == 0 || reflect.DeepEqual(a.ID, b.ID)) &&
		(len(a.Tactic) == 0 || reflect.DeepEqual(a.Tactic, b.Tactic)) &&
		(len(a.Technique) == 0 || reflect.DeepEqual(a.Technique, b.Technique))
}

func BenchmarkResolveIDs(b *testing.B) {
	ids := []string{"T1098.003", "T1078.004"}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ResolveIDs(ids); !ok {
			b.Fatal("not resolved")
		}
	}
}

func BenchmarkTechniqueName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := TechniqueName("T1562.008"); !ok {
			b.Fatal("not found")
		}
	}
}
