package cdb

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// parseCases are the §8.1 line rules. want lists every entry of the resulting list;
// they double as the fuzz seed corpus.
var parseCases = []struct {
	name  string
	input string
	want  map[string]string
}{
	{"plain key and value", "alice:admin\n", map[string]string{"alice": "admin"}},
	{"empty value", "200:\n", map[string]string{"200": ""}},
	{"empty key", ":v\n", map[string]string{"": "v"}},
	{"value keeps further colons", "dave:user:x\n", map[string]string{"dave": "user:x"}},
	{"line without colon is skipped", "carol\nbob:1\n", map[string]string{"bob": "1"}},
	{"empty lines are skipped", "\n\n\na:1\n\n", map[string]string{"a": "1"}},
	{"duplicate key: first wins", "k:first\nk:second\n", map[string]string{"k": "first"}},
	{"leading space kept in key", " k:v\n", map[string]string{" k": "v"}},
	{"trailing space kept in value", "k: v \n", map[string]string{"k": " v "}},
	{"no comments", "#x:y\n", map[string]string{"#x": "y"}},
	{"CRLF", "a:1\r\nb:2\r\n", map[string]string{"a": "1", "b": "2"}},
	{"text after a lone CR is dropped", "a:1\rjunk\nb:2\n", map[string]string{"a": "1", "b": "2"}},
	{"CR before the colon hides it", "a\r:1\n", map[string]string{}},
	{"NUL ends the line", "a:1\x00rest\nb\x00:2\n", map[string]string{"a": "1"}},
	{"last line without newline", "a:1\nb:2", map[string]string{"a": "1", "b": "2"}},
	{"quoted key with colon", "\"quoted:key\":v\n", map[string]string{"quoted:key": "v"}},
	{"quoted key, text before the quote ignored", "x\"a\":b\n", map[string]string{"a": "b"}},
	{"quoted key, text before the value colon ignored", "\"a\"zz:b\n", map[string]string{"a": "b"}},
	{"quoted key without closing quote is skipped", "\"abc:d\nok:1\n", map[string]string{"ok": "1"}},
	{"quoted key without a colon after it is skipped", "\"a:b\"\n", map[string]string{}},
	{"quoted key with empty value", "\"a:b\":\n", map[string]string{"a:b": ""}},
	{"quote after the first colon leaves the key unquoted", "a:\"b\"\n", map[string]string{"a": "b"}},
	{"quote without colon is an ordinary skipped line", "\"abc\"\n", map[string]string{}},
	{"quoted value", "k:\"v:w\"\n", map[string]string{"k": "v:w"}},
	{"quoted value: text around the quotes dropped", "k:pre\"mid\"post\"x\n", map[string]string{"k": "mid"}},
	{"quoted value without closing quote is skipped", "k:\"open\nok:1\n", map[string]string{"ok": "1"}},
	{"empty quoted value", "k:\"\"\n", map[string]string{"k": ""}},
	{"both quoted", "\"a:b\":\"c:d\"\n", map[string]string{"a:b": "c:d"}},
	{"keys are case-sensitive", "Key:1\nkey:2\n", map[string]string{"Key": "1", "key": "2"}},
	{"dotted address prefix", "10.0.0.:net\n", map[string]string{"10.0.0.": "net"}},
	{"tab is not trimmed", "\tk\t:\tv\t\n", map[string]string{"\tk\t": "\tv\t"}},
	{"empty input", "", map[string]string{}},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Parse(strings.NewReader(tc.input), "test")
			if err != nil {
				t.Fatal(err)
			}
			if got := entries(l); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q) = %q; want %q", tc.input, got, tc.want)
			}
			if l.Len() != len(tc.want) {
				t.Fatalf("Len() = %d; want %d", l.Len(), len(tc.want))
			}
		})
	}
}

func TestParseLongLines(t *testing.T) {
	long := strings.Repeat("a", maxChunk-2)
	tests := []struct {
		name  string
		input string
		want  map[string]string
	}{
		{"line shorter than a chunk", "k:" + long[:100] + "\nz:1\n", map[string]string{"k": long[:100], "z": "1"}},
		{"overflow is a line of its own", "k:" + long + "TAIL:x\n", map[string]string{"k": long, "TAIL": "x"}},
		{"overflow without colon is skipped", "k:" + long + "tail\nz:1\n", map[string]string{"k": long, "z": "1"}},
		{"newline right after a full chunk", "k:" + long + "\nafter:1\n", map[string]string{"k": long, "after": "1"}},
		{"colon beyond the chunk starts a new line", long + "xx:v\n", map[string]string{"": "v"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Parse(strings.NewReader(tc.input), "long")
			if err != nil {
				t.Fatal(err)
			}
			if got := entries(l); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %d entries %v; want %v", len(got), keys(got), keys(tc.want))
			}
		})
	}
}

func TestLookup(t *testing.T) {
	l := mustParse(t, "alice:admin\n\"a:b\":quoted\nempty:\n")
	tests := []struct {
		name, key, value string
		ok               bool
	}{
		{"present", "alice", "admin", true},
		{"case-sensitive", "Alice", "", false},
		{"prefix is not a match", "ali", "", false},
		{"quoted key", "a:b", "quoted", true},
		{"empty value is still present", "empty", "", true},
		{"absent", "bob", "", false},
		{"empty key absent", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := l.Lookup([]byte(tc.key))
			if ok != tc.ok || string(v) != tc.value {
				t.Fatalf("Lookup(%q) = %q, %v; want %q, %v", tc.key, v, ok, tc.value, tc.ok)
			}
		})
	}
}

func TestLookupValueCannotClobberNeighbour(t *testing.T) {
	l := mustParse(t, "a:1\nb:2\n")
	v, _ := l.Lookup([]byte("a"))
	_ = append(v, 'X', 'X', 'X')
	if got, _ := l.Lookup([]byte("b")); string(got) != "2" {
		t.Fatalf("appending to a value changed another: b = %q", got)
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	l := mustParse(t, "alice:admin\n10.0.0.:net\n")
	key := []byte("alice")
	addr := []byte("10.0.0.7")
	match := func(b []byte) bool { return len(b) > 0 }
	allocs := testing.AllocsPerRun(100, func() {
		l.Lookup(key)
		l.Check(MatchKey, key, nil)
		l.Check(MatchKeyValue, key, match)
		l.Check(AddressMatchKey, addr, nil)
		l.Check(AddressMatchKeyValue, addr, match)
	})
	if allocs != 0 {
		t.Fatalf("lookups allocate %.1f times per run; want 0", allocs)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseReadError(t *testing.T) {
	_, err := Parse(failingReader{}, "broken-list")
	if err == nil || !strings.Contains(err.Error(), "broken-list") || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v; want one naming the list and the cause", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "list")
	if err := os.WriteFile(path, []byte("k:v\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := l.Lookup([]byte("k")); !ok || string(v) != "v" || l.Name() != path {
		t.Fatalf("Load: Lookup(k) = %q, %v, name %q", v, ok, l.Name())
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Load(missing) err = %v; want one naming the file", err)
	}
}

// TestStockLists loads every list shipped with the Wazuh 4.14.7 ruleset.
func TestStockLists(t *testing.T) {
	dir := filepath.Join(sharedcorpus.Dir(t), "corpus/wazuh/ruleset/lists")
	tests := []struct {
		file    string
		minLen  int
		present map[string]string
		absent  []string
	}{
		{"amazon/aws-eventnames", 300, map[string]string{
			"TEMPLATE":            "# AWS Cloudtrail event names - https://www.gorillastack.com/news/important-aws-cloudtrail-security-events-tracking used as reference",
			"AttachLoadBalancers": "Autoscaling",
			"DetachLoadBalancers": "Autoscaling",
			"RunInstances":        "EC2",
			"ConsoleLogin":        "Access",
			"ListUsers":           "Legacy Wazuh CDB",
		}, []string{"DescribeInstances", "GetObject", "attachloadbalancers", "RunInstances:EC2"}},
		{"amazon/aws-sources", 1, map[string]string{
			"TEMPLATE": "# Filtering by Cloudtrail sources is no longer used.",
		}, nil},
		{"audit-keys", 5, map[string]string{"audit-wazuh-w": "write", "audit-wazuh-r": "read"}, nil},
		{"security-eventchannel", 100, map[string]string{"200": "", "201": ""}, nil},
		{"malicious-ioc/malicious-ip", 100, map[string]string{"196.251.85.62": ""}, nil},
		{"malicious-ioc/malicious-domains", 100, map[string]string{"netflix-clone-two-opal.vercel.app": ""}, nil},
		{"malicious-ioc/malware-hashes", 100, map[string]string{
			"2fe6a7ae63c878bd84d7b829349b309e7c84194ddbb6a779816f5b84cd8ad45d": "DarkComet",
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			l, err := Load(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if l.Len() < tc.minLen {
				t.Errorf("Len() = %d; want at least %d", l.Len(), tc.minLen)
			}
			for k, want := range tc.present {
				if v, ok := l.Lookup([]byte(k)); !ok || string(v) != want {
					t.Errorf("Lookup(%q) = %q, %v; want %q", k, v, ok, want)
				}
			}
			for _, k := range tc.absent {
				if _, ok := l.Lookup([]byte(k)); ok {
					t.Errorf("Lookup(%q) found a key that is not in the list", k)
				}
			}
		})
	}
	// Every regular file under lists/ must load; this catches a list added upstream
	// that the table above does not know about yet.
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		l, err := Load(path)
		if err != nil {
			return err
		}
		if l.Len() == 0 {
			t.Errorf("%s: no entries", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustParse(t testing.TB, text string) *List {
	t.Helper()
	l, err := Parse(strings.NewReader(text), "test")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func entries(l *List) map[string]string {
	out := make(map[string]string, len(l.values))
	for k, v := range l.values {
		out[k] = string(v)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		if len(k) > 20 {
			k = k[:20] + "…"
		}
		out = append(out, k)
	}
	return out
}

// TestConcurrentUse exercises one list from many goroutines; run with -race it fails
// if a lookup ever writes shared state.
func TestConcurrentUse(t *testing.T) {
	l := mustParse(t, "alice:admin\n10.0.0.:net\n")
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func() {
			ok := true
			for i := 0; i < 1000; i++ {
				ok = ok && l.Check(MatchKey, []byte("alice"), nil) && l.Check(AddressMatchKey, []byte("10.0.0.9"), nil)
			}
			done <- ok
		}()
	}
	for g := 0; g < 8; g++ {
		if !<-done {
			t.Error("a concurrent lookup failed")
		}
	}
}
