package ruletest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// TestINIMatchesOracle runs every case of Wazuh's ruleset test suite (all 107 files,
// not only the cloud ones) and compares the (rule, level, decoder) skywatch gives for
// each judged line with what the real wazuh-analysisd gave. Every line must agree.
func TestINIMatchesOracle(t *testing.T) {
	dir := sharedcorpus.Path(t, "corpus", "wazuh", "ruleset")
	oracle := sharedcorpus.Path(t, "corpus", "wazuh-oracle", "ruleset-tests.oracle.jsonl")
	rs, err := wazuhxml.Load([]string{dir, filepath.Join(dir, "tests", "ruleset")},
		rules.Options{ManagerName: "mgr", EventChannelAsJSON: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := FindFiles([]string{filepath.Join(dir, "tests")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Triple{}
	for _, f := range files {
		res, err := RunFile(rs, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			got[filepath.Base(r.File)+":"+itoa(r.Line)] = r.Got
		}
	}
	f, err := os.Open(oracle)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var checked, agree, diffs int
	for sc.Scan() {
		var line struct {
			INI     string `json:"ini"`
			INILine int    `json:"ini_line"`
			Checked bool   `json:"checked"`
			Log     string `json:"log"`
			UT      struct {
				Rule, Alert, Decoder string
			} `json:"oracle_ut"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if !line.Checked {
			continue
		}
		checked++
		g, ok := got[line.INI+":"+itoa(line.INILine)]
		if !ok {
			t.Errorf("%s:%d: no result", line.INI, line.INILine)
			continue
		}
		want := Triple{Rule: line.UT.Rule, Level: line.UT.Alert, Decoder: line.UT.Decoder}
		if g == want {
			agree++
			continue
		}
		kind := "text"
		if strings.HasPrefix(line.Log, "{") {
			kind = "JSON"
		}
		diffs++
		t.Errorf("%s:%d %s event: skywatch %+v, wazuh %+v", line.INI, line.INILine, kind, g, want)
	}
	t.Logf("%d/%d judged lines agree with wazuh-analysisd; %d differ", agree, checked, diffs)
	if checked < 1700 {
		t.Fatalf("only %d judged lines in the oracle", checked)
	}
}

func itoa(n int) string {
	b := make([]byte, 0, 8)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
