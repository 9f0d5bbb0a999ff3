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
