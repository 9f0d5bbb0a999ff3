package ruletest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// iniCases drive TestParseINI and seed FuzzParseINI. want is the parse rendered by
// render: one line per case, then one indented line per log line.
var iniCases = []struct {
	name  string
	input string
	want  string
}{
	{
		name:  "basic case",
		input: "[Case]\nlog 1 pass = hello world\nrule = 100\nalert = 3\ndecoder = json\n",
		want:  "[Case]@1 rule=\"100\" alert=\"3\" decoder=\"json\"\n  \"log 1 pass\" n=\"1\" pass \"hello world\"@2\n",
	},
	{
		name:  "colon delimiter and surrounding white space",
		input: "[C]\n  log 1 pass:   a = b  \nrule:1\nalert :2\ndecoder\t=\tx \n",
		want:  "[C]@1 rule=\"1\" alert=\"2\" decoder=\"x\"\n  \"log 1 pass\" n=\"1\" pass \"a = b\"@2\n",
	},
	{
		name:  "first delimiter splits, the rest is value",
		input: "[C]\nlog 1 pass = k: v = w\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"k: v = w\"@2\n",
	},
	{
		name:  "keys are lower-cased",
		input: "[C]\nLOG 2 Fail = x\nRule = 1\nALERT = 0\nDecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 2 fail\" n=\"2\" fail \"x\"@2\n",
	},
	{
		name:  "comments, indented comments and blank lines",
		input: "; header\n# more\n\n[C]\n   # indented comment\nlog 1 pass = x\n; between\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@4 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"x\"@6\n",
	},
	{
		name:  "inline comment markers are part of the value",
		input: "[C]\nlog 1 pass = a ; b # c\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"a ; b # c\"@2\n",
	},
	{
		name:  "repeated key appends into one session",
		input: "[C]\nlog 1 pass = first\nlog 1 pass = second\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"first\"@2\n  \"log 1 pass\" n=\"1\" pass \"second\"@3\n",
	},
	{
		name:  "interleaved repeated key: grouped by first appearance",
		input: "[C]\nlog 1 pass = a\nlog 2 pass = b\nlog 1 pass = c\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"a\"@2\n  \"log 1 pass\" n=\"1\" pass \"c\"@4\n  \"log 2 pass\" n=\"2\" pass \"b\"@3\n",
	},
	{
		name: "repeated section is merged, expected values joined",
		input: "[C]\nlog 3 fail = one\n\nrule = 40902\nalert = 3\ndecoder =\n\n" +
			"[Other]\nlog 1 pass = z\nrule = 2\nalert = 0\ndecoder = d\n\n" +
			"[C]\nlog 3 fail = two\n\nrule = 40902\nalert = 3\ndecoder =\n",
		want: "[C]@1 rule=\"40902\\n40902\" alert=\"3\\n3\" decoder=\"\"\n  \"log 3 fail\" n=\"3\" fail \"one\"@2\n  \"log 3 fail\" n=\"3\" fail \"two\"@15\n" +
			"[Other]@8 rule=\"2\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"z\"@9\n",
	},
	{
		name:  "continuation lines",
		input: "[C]\nlog 1 pass = a\n  b\n\tc\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"a\"@2\n  \"log 1 pass\" n=\"1\" pass \"b\"@3\n  \"log 1 pass\" n=\"1\" pass \"c\"@4\n",
	},
	{
		name:  "blank line inside a value does not end it",
		input: "[C]\nlog 1 pass = a\n\n \n  b\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"a\"@2\n  \"log 1 pass\" n=\"1\" pass \"b\"@5\n",
	},
	{
		name:  "continuation must be deeper than the option line",
		input: "[C]\n  log 1 pass = a\n  rule = 1\n    x\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\\nx\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"a\"@2\n",
	},
	{
		name:  "continuation of an expected value",
		input: "[C]\nlog 1 pass = a\nrule = 1\n 2\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\\n2\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"a\"@2\n",
	},
	{
		name:  "indented line right after a header is not a continuation",
		input: "[C]\n   log 1 pass = a\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"a\"@2\n",
	},
	{
		name:  "empty log value gives no line",
		input: "[C]\nlog 1 pass =\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n",
	},
	{
		name:  "CRLF and lone CR end lines",
		input: "[C]\r\nlog 1 pass = a\rrule = 1\r\nalert = 0\rdecoder = d",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"a\"@2\n",
	},
	{
		name:  "section name kept verbatim, text after the last bracket ignored",
		input: "[ a [b] c ] trailing\nrule = 1\nalert = 0\ndecoder = d\n[]]\nrule = 2\nalert = 0\ndecoder = d\n",
		want:  "[ a [b] c ]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n[]]@5 rule=\"2\" alert=\"0\" decoder=\"d\"\n",
	},
	{
		name:  "DEFAULT section supplies options to every case",
		input: "[DEFAULT]\nalert = 3\ndecoder = json\nlog 9 pass = shared\n[A]\nrule = 1\nlog 1 pass = a\n[B]\nrule = 2\ndecoder = other\nlog 9 pass = own\n",
		want: "[A]@5 rule=\"1\" alert=\"3\" decoder=\"json\"\n  \"log 9 pass\" n=\"9\" pass \"shared\"@4\n  \"log 1 pass\" n=\"1\" pass \"a\"@7\n" +
			"[B]@8 rule=\"2\" alert=\"3\" decoder=\"other\"\n  \"log 9 pass\" n=\"9\" pass \"own\"@11\n",
	},
	{
		name:  "verdict comes from the key ending only",
		input: "[C]\nlog x = a\nlog 2 failpass = b\nlog 3fail = c\nlogs 4 fail = ignored\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log x\" n=\"x\" pass \"a\"@2\n  \"log 2 failpass\" n=\"2 fail\" pass \"b\"@3\n  \"log 3fail\" n=\"3\" fail \"c\"@4\n",
	},
	{
		name:  "Python white space: information separators are stripped",
		input: "[C]\nlog 1 pass = \x1cx\u00a0\u3000\nrule = 1\nalert = 0\ndecoder = d\n",
		want:  "[C]@1 rule=\"1\" alert=\"0\" decoder=\"d\"\n  \"log 1 pass\" n=\"1\" pass \"x\"@2\n",
	},
	{
		name:  "no cases",
		input: "; only comments\n;[C]\n\n",
		want:  "",
	},
}

func TestParseINI(t *testing.T) {
	for _, tc := range iniCases {
		t.Run(tc.name, func(t *testing.T) {
			cases, err := ParseINI(strings.NewReader(tc.input), "t.ini")
			if err != nil {
				t.Fatal(err)
			}
			if got := render(cases); got != tc.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			for _, c := range cases {
				if c.File != "t.ini" {
					t.Fatalf("File = %q", c.File)
				}
			}
		})
	}
}

func TestParseINIErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"option before any section", "; c\nrule = 1\n", "bad.ini:2:"},
		{"indented line before any section", "  x = 1\n", "bad.ini:1:"},
		{"line without delimiter", "[C]\nrule = 1\nalert = 0\ndecoder = d\njust text\n", "bad.ini:5:"},
		{"empty option name", "[C]\n= x\n", "bad.ini:2:"},
		{"empty brackets are not a header", "[]\n", "bad.ini:1:"},
		{"missing rule", "[C]\nalert = 0\ndecoder = d\n", "bad.ini:1: section [C] has no \"rule\""},
		{"missing decoder in second case", "[A]\nrule=1\nalert=0\ndecoder=d\n[B]\nrule=1\nalert=0\n", "bad.ini:5:"},
		{"invalid UTF-8", "[C]\nlog 1 pass = \xff\n", "bad.ini:2: invalid UTF-8"},
		{"byte order mark is not white space", "\ufeff[C]\nrule=1\nalert=0\ndecoder=d\n", "bad.ini:1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseINI(strings.NewReader(tc.input), "bad.ini")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want one containing %q", err, tc.want)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseINIReadError(t *testing.T) {
	_, err := ParseINI(failingReader{}, "x.ini")
	if err == nil || !strings.Contains(err.Error(), "x.ini") || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v", err)
	}
}

func TestSessions(t *testing.T) {
	input := "[C]\nlog 1 pass = a\nlog 2 fail = b\nlog 1 pass = c\nlog 3 pass =\nrule = 1\nalert = 0\ndecoder = d\n"
	cases, err := ParseINI(strings.NewReader(input), "s.ini")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, s := range cases[0].Sessions() {
		var texts []string
		for _, l := range s {
			texts = append(texts, fmt.Sprintf("%s:%s", l.Key, l.Text))
		}
		got = append(got, texts)
	}
	want := [][]string{{"log 1 pass:a", "log 1 pass:c"}, {"log 2 fail:b"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Sessions() = %q; want %q", got, want)
	}
	if s := (INICase{}).Sessions(); len(s) != 0 {
		t.Fatalf("Sessions() of an empty case = %v", s)
	}
}

// oracleLine is the part of a ruleset-tests.oracle.jsonl line that describes the test
// itself (not the engine's answer).
type oracleLine struct {
	INI       string `json:"ini"`
	Section   string `json:"section"`
	Key       string `json:"key"`
	LogNumber string `json:"log_number"`
	Expect    string `json:"expect"`
	INILine   int    `json:"ini_line"`
	Step      int    `json:"step"`
	Steps     int    `json:"steps"`
	Checked   bool   `json:"checked"`
	Log       string `json:"log"`
	Expected  struct {
		Rule    string `json:"rule"`
		Alert   string `json:"alert"`
		Decoder string `json:"decoder"`
	} `json:"expected"`
}

// TestOracleINI parses every stock .ini file and requires the physical log lines, their
// grouping into sessions and the expected triples to be exactly those the oracle run
// used, in the same order.
func TestOracleINI(t *testing.T) {
	shared := sharedcorpus.Dir(t)
	files, err := filepath.Glob(filepath.Join(shared, "corpus/wazuh/ruleset/tests/*.ini"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .ini files under %s (err %v)", shared, err)
	}
	sort.Strings(files)
	var got []oracleLine
	sessions, withCases := 0, 0
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		cases, err := ParseINI(f, filepath.Base(path))
		f.Close()
		if err != nil {
			t.Fatalf("ParseINI: %v", err)
		}
		if len(cases) > 0 {
			withCases++
		}
		for _, c := range cases {
			for _, s := range c.Sessions() {
				sessions++
				for i, l := range s {
					var o oracleLine
					o.INI, o.Section, o.Key, o.LogNumber = c.File, c.Name, l.Key, l.N
					o.Expect = "fail"
					if l.Pass {
						o.Expect = "pass"
					}
					o.INILine, o.Step, o.Steps, o.Checked, o.Log = l.Line, i+1, len(s), i == len(s)-1, l.Text
					o.Expected.Rule, o.Expected.Alert, o.Expected.Decoder = c.Rule, c.Alert, c.Decoder
					got = append(got, o)
				}
			}
		}
	}
	want := readOracle(t, filepath.Join(shared, "corpus/wazuh-oracle/ruleset-tests.oracle.jsonl"))
	if len(files) != 107 || withCases != 105 {
		t.Errorf("%d files, %d with cases; want 107 and 105", len(files), withCases)
	}
	if len(got) != 2055 || sessions != 1788 {
		t.Errorf("%d log lines in %d sessions; want 2055 in 1788", len(got), sessions)
	}
	if len(got) != len(want) {
		t.Errorf("%d log lines parsed; oracle has %d", len(got), len(want))
	}
	bad := 0
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %+v\nwant %+v", i+1, got[i], want[i])
			if bad++; bad == 5 {
				t.Fatal("too many differences")
			}
		}
	}
}

func readOracle(t *testing.T, path string) []oracleLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []oracleLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var o oracleLine
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, o)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}

func render(cases []INICase) string {
	var b strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&b, "[%s]@%d rule=%q alert=%q decoder=%q\n", c.Name, c.Line, c.Rule, c.Alert, c.Decoder)
		for _, l := range c.Logs {
			verdict := "fail"
			if l.Pass {
				verdict = "pass"
			}
			fmt.Fprintf(&b, "  %q n=%q %s %q@%d\n", l.Key, l.N, verdict, l.Text, l.Line)
		}
	}
	return b.String()
}

func BenchmarkParseINI(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&sb, "[case %d]\nlog 1 pass = Jul 18 10:51:43 host prog[%d]: message number %d\nrule = %d\nalert = 3\ndecoder = d\n\n", i, i, i, i)
	}
	text := sb.String()
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := ParseINI(strings.NewReader(text), "bench.ini"); err != nil {
			b.Fatal(err)
		}
	}
}
