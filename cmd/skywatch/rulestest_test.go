package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// Every cloud case of Wazuh's own ruleset tests must pass with the stock ruleset.
func TestRulesTestCloudINI(t *testing.T) {
	rs := sharedcorpus.Path(t, "corpus", "wazuh", "ruleset")
	for _, name := range []string{"aws_s3_access", "aws_security_hub", "amazon_sec_lake", "gcp", "ms-graph", "office365"} {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run([]string{"rules", "test", "--rules", rs, filepath.Join(rs, "tests", name+".ini")}, nil, &out, &errb)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
			}
			last := strings.TrimSpace(out.String())
			if i := strings.LastIndexByte(last, '\n'); i >= 0 {
				last = last[i+1:]
			}
			parts := strings.Fields(last)
			if len(parts) == 0 || !strings.Contains(parts[0], "/") {
				t.Fatalf("no summary line in %q", out.String())
			}
			passed, total, _ := strings.Cut(parts[0], "/")
			if passed != total || passed == "0" {
				t.Fatalf("summary %q", last)
			}
			t.Log(last)
		})
	}
}

func TestRulesCheckReportsEveryError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a_rules.xml"), `<group name="x,">
<rule id="100" level="3"><regex>a(b</regex><description>d</description></rule>
<rule id="101" level="99"><description>d</description></rule>
</group>`)
	var out, errb bytes.Buffer
	code := run([]string{"rules", "check", filepath.Join(dir, "a_rules.xml")}, nil, &out, &errb)
	if code == 0 {
		t.Fatal("rules check accepted broken rules")
	}
	for _, want := range []string{"a_rules.xml:2", "a_rules.xml:3", "2 errors"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}
