package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// The compatibility target: `skywatch logtest --json` with Wazuh's stock ruleset must
// give, for every event of the oracle sets, what the real wazuh-analysisd gave. The
// comparison is the one ../shared/tools/oracle_diff.py makes.

var compliance = []string{"pci_dss", "gdpr", "hipaa", "nist_800_53", "tsc"}

type projection map[string]any

func sortedStrings(v any) []string {
	var out []string
	if arr, ok := v.([]any); ok {
		for _, x := range arr {
			b, _ := json.Marshal(x)
			out = append(out, string(b))
		}
	}
	sort.Strings(out)
	return out
}

// project mirrors oracle_diff.py's compared view of one {"alert","output"} line.
func project(line []byte) (projection, error) {
	var res struct {
		Alert  bool           `json:"alert"`
		Output map[string]any `json:"output"`
	}
	if err := json.Unmarshal(line, &res); err != nil {
		return nil, err
	}
	p := projection{"refused": res.Output == nil, "alert": res.Alert}
	out := res.Output
	if rule, ok := out["rule"].(map[string]any); ok {
		p["rule.id"] = fmt.Sprint(rule["id"])
		lvl, _ := rule["level"].(float64)
		p["rule.level"] = int(lvl)
		p["rule.description"] = rule["description"]
		p["rule.groups"] = sortedStrings(rule["groups"])
		var mitreIDs any
		if m, ok := rule["mitre"].(map[string]any); ok {
			mitreIDs = m["id"]
		}
		p["rule.mitre.id"] = sortedStrings(mitreIDs)
		for _, c := range compliance {
			p["rule."+c] = sortedStrings(rule[c])
		}
	}
	if dec, ok := out["decoder"].(map[string]any); ok {
		p["decoder.name"] = dec["name"]
	}
	return p, nil
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	return lines
}

func TestLogtestMatchesWazuhOracle(t *testing.T) {
	ruleset := sharedcorpus.Path(t, "corpus", "wazuh", "ruleset")
	oracleDir := sharedcorpus.Path(t, "corpus", "wazuh-oracle")
	for _, set := range []string{"aws-cloudtrail-public", "aws-other-public", "gcp-public", "azure-public"} {
		t.Run(set, func(t *testing.T) {
			events := filepath.Join(oracleDir, set+".events.jsonl")
			locs := readLines(t, filepath.Join(oracleDir, set+".locations.txt"))
			want := readLines(t, filepath.Join(oracleDir, set+".oracle.jsonl"))
			loc := string(locs[0])
			for _, l := range locs {
				if string(l) != loc {
					t.Fatalf("set %s mixes locations; the test assumes one", set)
				}
			}
			in, err := os.Open(events)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var stdout, stderr bytes.Buffer
			code := run([]string{"logtest", "--rules", ruleset, "--location", loc, "--json"}, in, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("logtest exit %d: %s", code, stderr.String())
			}
			got := readOutput(t, stdout.Bytes())
			if len(got) != len(want) {
				t.Fatalf("%d output lines for %d oracle lines", len(got), len(want))
			}
			diffs := 0
			for i := range want {
				w, err := project(want[i])
				if err != nil {
					t.Fatalf("oracle line %d: %v", i+1, err)
				}
				g, err := project(got[i])
				if err != nil {
					t.Fatalf("output line %d is not JSON: %v: %s", i+1, err, got[i])
				}
				if !reflect.DeepEqual(w, g) {
					diffs++
					if diffs <= 5 {
						t.Errorf("event %d differs:\n%s", i+1, describeDiff(w, g))
					}
				}
			}
			if diffs > 0 {
				t.Errorf("%d/%d events differ from the oracle", diffs, len(want))
			} else {
				t.Logf("%d/%d events agree with the oracle", len(want), len(want))
			}
		})
	}
}

func readOutput(t *testing.T, out []byte) [][]byte {
	t.Helper()
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func describeDiff(want, got projection) string {
	var b strings.Builder
	keys := make([]string, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !reflect.DeepEqual(want[k], got[k]) {
			fmt.Fprintf(&b, "  %s: oracle %v, skywatch %v\n", k, want[k], got[k])
		}
	}
	return b.String()
}
