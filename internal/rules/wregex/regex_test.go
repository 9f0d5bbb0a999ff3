package wregex

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// regexCase is one OS_Regex expectation. want == nil means "no match";
// caps == nil means "do not check captures" (use []string{} for "none").
type regexCase struct {
	name string
	pat  string
	in   string
	want *bool
	caps []string
	last *int // return position, when checked
}

func yes() *bool                { b := true; return &b }
func no() *bool                 { b := false; return &b }
func at(i int) *int             { return &i }
func strs(s ...string) []string { return append([]string{}, s...) }

// spec16 holds every example of wazuh-engine-semantics.md §1.6, plus the
// return-position example that follows the table.
var spec16 = []regexCase{
	{"any byte dot eats b", `(\w+)\.(\w+)`, "abc.def", yes(), strs("a", "c"), nil},
	{"S plus hands over early", `(\S+)\.(\S+)`, "abc.def.ghi", yes(), strs("a", "c.def.ghi"), nil},
	{"lazy repeat before class", `(\w+)\d`, "abc123", yes(), strs("abc"), nil},
	{"adjacent groups never match", `(\w+)(\d+)`, "abc123", no(), nil, nil},
	{"adjacent literal groups", `(a)(b)`, "ab", no(), nil, nil},
	{"adjacent groups match literal paren", `(a)(b)`, "a(b", yes(), nil, nil},
	{"empty group on text", `()`, "abc", no(), nil, nil},
	{"empty group on paren", `()`, "(", yes(), nil, nil},
	{"plus after literal is literal no", `a+`, "aaa", no(), nil, nil},
	{"plus after literal is literal yes", `a+`, "a+", yes(), nil, nil},
	{"dot consumes last digit", `\d+\.`, "12", yes(), nil, nil},
	{"lazy digits before any byte", `(\d+)\.`, "12a", yes(), strs("1"), nil},
	{"final repeat is greedy", `(\.+)`, "1b1A:ba.. ", yes(), strs("1b1A:ba.. "), nil},
	{"star lazy before literal", `(\.*)x`, "axbx", yes(), strs("a"), nil},
	{"star with end anchor", `(\.*)x$`, "axbx", yes(), strs("axb"), nil},
	{"two stars anchored", `^(\.*) (\.*)$`, "ab cd ef", yes(), strs("ab", "cd ef"), nil},
	{"resume points", `^\.+ (\w+)$`, "abc def ghi", yes(), strs("ghi"), nil},
	{"many sequential resumes", `(a\w+b)c`, "aXbXbXbXbXbXbXbc", yes(), strs("aXbXbXbXbXbXbXb"), nil},
	{"at sign is word", `(\S+)@(\S+)`, "user@host@x", yes(), strs("user", "host@x"), nil},
	{"sshd style", `user (\S+) from (\S+)`, "user root from 1.2.3.4 port 22", yes(), strs("root", "1.2.3.4"), nil},
	{"dot literal between classes", `(\d+.\d+.\d+.\d+)`, "v1.2.3 and 10.1.2.3", yes(), strs("10.1.2.3"), nil},
	{"unclosed group gives no captures", `x(\d*)`, "x", yes(), strs(), nil},
	{"empty capture", `x(\d*)y`, "xy", yes(), strs(""), nil},
	{"s is space only", `\s`, "a\tb", no(), nil, nil},
	{"p excludes slash", `\p`, "/", no(), nil, nil},
	{"p excludes underscore", `\p`, "_", no(), nil, nil},
	{"p excludes at", `\p`, "@", no(), nil, nil},
	{"p excludes tilde", `\p`, "~", no(), nil, nil},
	{"w includes dash", `\w`, "-", yes(), nil, nil},
	{"W excludes dash", `\W`, "-", no(), nil, nil},
	{"literals ignore case", `ABC`, "xabcx", yes(), nil, nil},
	{"dollar alone on text", `$`, "abc", no(), nil, nil},
	{"dollar alone on empty", `$`, "", yes(), nil, at(0)},
	{"s star dollar", `\s*$`, "a22", no(), nil, nil},
	{"anchored s star empty", `^\s*$`, "", yes(), nil, nil},
	{"anchored s star spaces", `^\s*$`, "   ", yes(), nil, nil},
	{"anchored s star text", `^\s*$`, " x", no(), nil, nil},
	{"trailing space breaks S dollar", `(\S+)$`, "trailing space ", no(), nil, nil},
	{"return position at trailing repeat", `^(\S+) (\S+)`, "1.2.3.4 bob host1", yes(), strs("1.2.3.4", "bob"), at(8)},
}

// extraCases cover §1.2 case handling, NUL handling, return positions and
// behaviours cross-checked against the expectations in Wazuh's own
// os_regex unit tests.
var extraCases = []regexCase{
	{"upper literal folds", `USER`, "the user", yes(), nil, at(7)},
	{"input upper folds", `user`, "THE USER", yes(), nil, nil},
	{"classes test raw bytes", `^\w+$`, "ABC-def_1@", yes(), nil, at(0)},
	{"non-ascii not folded", "\xc3\x89t\xc3\xa9", "\xc3\xa9t\xc3\xa9", no(), nil, nil},
	{"NUL ends input", `abc`, "ab\x00c", no(), nil, nil},
	{"NUL ends input for $", `ab$`, "ab\x00cd", yes(), nil, at(1)},
	{"NUL ends pattern", "ab\x00zz", "xab", yes(), nil, nil},
	{"escaped dollar is literal", `a\$`, "a$", yes(), nil, nil},
	{"caret in middle is literal", `a^b`, "a^b", yes(), nil, nil},
	{"double caret", `^^a`, "^a", yes(), nil, nil},
	{"alternation first wins", `zz|(b)`, "abc", yes(), strs("b"), nil},
	{"alternation later", `^x|c$`, "abc", yes(), nil, at(2)},
	{"star skipped gives -1", `\d*`, "a", yes(), nil, at(-1)},
	{"tail rule returns rejecting byte", `\d+`, "a12b", yes(), nil, at(3)},
	{"w plus s one", `\w+\s1`, "w 123", yes(), strs(), at(2)},
	{"fixed classes rescan", `\w\w\s\S\S\S\S\S`, "hi waz hi wazu.", yes(), nil, at(14)},
	{"fixed classes too short", `\w\w\s\S\S\S\S\S`, "hi waz", no(), nil, nil},
	{"fixed groups", `\w(\w\s\S)\S(\S\S\S)`, "hi wazuh", yes(), strs("i w", "zuh"), at(7)},
	{"group then p dollar", `(\w\w\s\S\S\S\S\S)\p$`, "hi waz hi wazuh.", yes(), strs("hi wazuh"), at(15)},
	{"star then plus groups", `(\w*)\d*(\s+)`, "wazuh123 ", yes(), strs("wazuh", " "), at(8)},
	{"star plus one", `(\w*)\s+`, "wazuh ", yes(), strs("wazuh"), at(5)},
	{"anchored star plus", `^(\w*\s+)$`, "w ", yes(), strs("w "), at(1)},
	{"anchored plus space end fails", `^(\w+ )$`, "wazuh -", no(), nil, nil},
	{"literal groups", `(hi) (wazuh)`, "hi wazuh", yes(), strs("hi", "wazuh"), at(7)},
}

func runRegexCase(t *testing.T, c regexCase) {
	t.Helper()
	r, err := CompileRegex(c.pat)
	if err != nil {
		t.Fatalf("CompileRegex(%q): %v", c.pat, err)
	}
	in := []byte(c.in)
	caps, last, ok := r.Captures(in, nil)
	if ok != *c.want {
		t.Fatalf("Captures(%q, %q) ok = %v, want %v", c.pat, c.in, ok, *c.want)
	}
	if r.MatchString(c.in) != *c.want && r.totalMarks == 0 {
		t.Errorf("MatchString(%q, %q) = %v, want %v", c.pat, c.in, !*c.want, *c.want)
	}
	if ok && c.caps != nil {
		got := make([]string, len(caps))
		for i, cp := range caps {
			got[i] = string(cp)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.caps) || len(got) != len(c.caps) {
			t.Errorf("captures of %q on %q = %q, want %q", c.pat, c.in, got, c.caps)
		}
	}
	if ok && c.last != nil && last != *c.last {
		t.Errorf("return position of %q on %q = %d, want %d", c.pat, c.in, last, *c.last)
	}
	// The reference must agree with the stated expectation too.
	wl, _, wok := refExec(r.alts, r.totalMarks, in, true)
	if wok != *c.want || (wok && c.last != nil && wl != *c.last) {
		t.Errorf("reference: %q on %q = %d,%v", c.pat, c.in, wl, wok)
	}
	if d := diffOne(r, in); d != "" {
		t.Error(d)
	}
}

func TestRegexSpecExamples(t *testing.T) {
	for _, c := range spec16 {
		t.Run(c.name, func(t *testing.T) { runRegexCase(t, c) })
	}
}

func TestRegexExtraCases(t *testing.T) {
	for _, c := range extraCases {
		t.Run(c.name, func(t *testing.T) { runRegexCase(t, c) })
	}
}

func TestRegexCompileErrors(t *testing.T) {
	tests := []struct {
		name, pat string
		code, off int
		msg       string
	}{
		{"newline escape", `\n`, CodeBadEscape, 0, `invalid escape "\\n"`},
		{"newline escape after text", `ab\n`, CodeBadEscape, 2, `invalid escape "\\n"`},
		{"greater escape", `\>`, CodeBadEscape, 0, `invalid escape "\\>"`},
		{"trailing backslash", `abc\`, CodeBadEscape, 3, "trailing backslash"},
		{"alternation in group", `x(a|b)`, CodeBadGroup, 3, `"|" inside a group`},
		{"nested group", `((a))`, CodeBadGroup, 1, "nested group"},
		{"unbalanced close", `a)`, CodeBadGroup, 1, `unbalanced ")"`},
		{"unclosed open", `(a`, CodeBadGroup, 2, `unclosed "("`},
		{"too long", strings.Repeat("a", MaxPatternLen+1), CodeTooLong, MaxPatternLen, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileRegex(tc.pat)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("CompileRegex(%q) error = %v, want *CompileError", tc.pat, err)
			}
			if ce.Code != tc.code || ce.Offset != tc.off || !strings.Contains(err.Error(), tc.msg) ||
				!strings.HasPrefix(err.Error(), "compile regex ") {
				t.Errorf("error = %q (code %d, offset %d); want code %d offset %d containing %q",
					err, ce.Code, ce.Offset, tc.code, tc.off, tc.msg)
			}
		})
	}
	for _, ok := range []string{"", "^", "$", "^$", strings.Repeat("a", MaxPatternLen), `\(\)\\\$\|\<\t\.`, `a|b|`} {
		if _, err := CompileRegex(ok); err != nil {
			t.Errorf("CompileRegex(%q) = %v, want success", ok, err)
		}
	}
}

func TestRegexCaptureModeDiffers(t *testing.T) {
	// With groups present the end-of-input test first skips \X* elements,
	// so this pattern matches "a" in capture mode but not in plain mode.
	r, err := CompileRegex(`(a\d*\w*)`)
	if err != nil {
		t.Fatal(err)
	}
	if r.MatchString("a") {
		t.Error(`Match("a") = true, want false`)
	}
	caps, _, ok := r.Captures([]byte("a"), nil)
	if !ok || len(caps) != 1 || string(caps[0]) != "a" {
		t.Errorf(`Captures("a") = %q, %v; want ["a"], true`, caps, ok)
	}
}

func TestRegexAPI(t *testing.T) {
	r, err := CompileRegex(`^(\S+) (\S+)|(x)`)
	if err != nil {
		t.Fatal(err)
	}
	if r.String() != `^(\S+) (\S+)|(x)` || r.NumCaptures() != 2 {
		t.Errorf("String() = %q, NumCaptures() = %d", r.String(), r.NumCaptures())
	}
	dst := make([][]byte, 0, 4)
	caps, _, ok := r.Captures([]byte("a b"), dst)
	if !ok || len(caps) != 2 || &caps[:1][0] != &dst[:1][0] {
		t.Errorf("Captures did not reuse dst: %q %v", caps, ok)
	}
	if last, ok := r.Exec([]byte("zzx")); !ok || last != 2 {
		t.Errorf("Exec = %d, %v; want 2, true", last, ok)
	}
	if n, _ := CompileRegex("abc"); n.NumCaptures() != 0 {
		t.Error("NumCaptures of group-less pattern != 0")
	}
}
