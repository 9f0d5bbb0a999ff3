package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// logtest --json prints exactly one JSON object per input line, whatever the line.
func TestLogtestJSONOneLinePerEvent(t *testing.T) {
	in := strings.Join([]string{
		`{"integration":"aws","aws":{"source":"cloudtrail","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","requestParameters":{"name":"t"},"userIdentity":{"arn":"arn:x"}}}`,
		``,
		`not json at all`,
		`{"broken":`,
		"{\"bad\":\"\xff\"}",
	}, "\n") + "\n"
	var out, errb bytes.Buffer
	code := run([]string{"logtest", "--json", "--location", "Wazuh-AWS"}, strings.NewReader(in), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d output lines for 5 input lines:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		var v struct {
			Alert  bool           `json:"alert"`
			Output map[string]any `json:"output"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i+1, err, l)
		}
		if v.Output["location"] != "Wazuh-AWS" {
			t.Errorf("line %d: location %v", i+1, v.Output["location"])
		}
	}
	var first struct {
		Alert  bool `json:"alert"`
		Output struct {
			Rule struct {
				ID    string `json:"id"`
				Level int    `json:"level"`
			} `json:"rule"`
		} `json:"output"`
	}
	_ = json.Unmarshal([]byte(lines[0]), &first)
	if !first.Alert || first.Output.Rule.ID != "300001" || first.Output.Rule.Level != 12 {
		t.Errorf("StopLogging with the builtin rules: %s", lines[0])
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, nil, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "skywatch ") {
		t.Fatalf("version: exit %d, %q", code, out.String())
	}
	if code := run([]string{"frobnicate"}, nil, &out, &errb); code != exitUsage {
		t.Fatalf("unknown command: exit %d", code)
	}
}

// lists import writes a list that logtest's rules then match by address prefix.
func TestListsImportFeedsLogtest(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/feed.csv", "indicator,type\n198.51.100.0/24,botnet c2\nbogus,x\n")
	var out, errb bytes.Buffer
	code := run([]string{"lists", "import", "--csv", "--column", "indicator", "--value-column", "type",
		"-o", dir + "/bad-ips", dir + "/feed.csv", "-"}, strings.NewReader("indicator,type\n203.0.113.9,scanner\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "2 keys") || !strings.Contains(errb.String(), "feed.csv:3") {
		t.Fatalf("report: %q / %q", out.String(), errb.String())
	}
	writeFile(t, dir+"/local_rules.xml", `<group name="test,">
  <rule id="100100" level="10">
    <decoded_as>json</decoded_as>
    <list field="srcip" lookup="address_match_key">bad-ips</list>
    <description>source on the imported list</description>
  </rule>
</group>`)
	writeFile(t, dir+"/decoder.xml", `<decoder name="json"><prematch>^{\s*"</prematch><plugin_decoder>JSON_Decoder</plugin_decoder></decoder>`)
	in := `{"srcip":"198.51.100.77"}` + "\n" + `{"srcip":"198.51.101.1"}` + "\n" + `{"srcip":"203.0.113.9"}` + "\n"
	out.Reset()
	code = run([]string{"logtest", "--json", "--rules", dir + "/decoder.xml", "--rules", dir + "/bad-ips", "--rules", dir + "/local_rules.xml"},
		strings.NewReader(in), &out, &errb)
	if code != 0 {
		t.Fatalf("logtest exit %d: %s", code, errb.String())
	}
	var got []bool
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var v struct {
			Alert bool `json:"alert"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v.Alert)
	}
	if len(got) != 3 || !got[0] || got[1] || !got[2] {
		t.Fatalf("alerts = %v; want in-range, out-of-range, exact:\n%s", got, out.String())
	}
}
