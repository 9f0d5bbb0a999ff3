package wregex

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPCRECaptures(t *testing.T) {
	tests := []struct {
		name, pat, in string
		want          []string // nil: no match
		last          int
	}{
		{"unset groups before the last set one are empty", `^(a)?(b)?(c)(d)?(e)?`, "bce", strs("", "b", "c", "", "e"), 2},
		{"trailing unset groups are dropped", `^(a)?(b)?(c)(d)?(e)?`, "c", strs("", "", "c"), 0},
		{"no groups", `b+`, "abbc", strs(), 2},
		{"leftmost greedy", `(\d+)`, "ab123c45", strs("123"), 4},
		{"dollar before final newline", `(c)$`, "abc\n", strs("c"), 2},
		{"dollar at end", `(c)$`, "abc", strs("c"), 2},
		{"non-ASCII subject offsets", `(b)`, "\xc3\xa9 b", strs("b"), 3},
		{"non-ASCII subject with final newline", `(b)$`, "\xc3\xa9 b\n", strs("b"), 3},
		{"dot is one byte", `^(.)(.)`, "\xc3\xa9", strs("\xc3", "\xa9"), 1},
		{"posix class", `([[:digit:]]+)`, "ab12", strs("12"), 3},
		{"named groups keep order", `(?P<x>a)(b)(?<y>c)`, "abc", strs("a", "b", "c"), 2},
		{"backtracking engine groups", `(?=.*x)(a)(b)?`, "a x", strs("a"), 0},
		{"empty match at start", `^`, "abc", strs(), -1},
		{"no match", `zz`, "abc", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CompilePCRE(tc.pat)
			if err != nil {
				t.Fatal(err)
			}
			caps, last, ok := p.Captures([]byte(tc.in), nil)
			if ok != (tc.want != nil) {
				t.Fatalf("Captures(%q, %q) ok = %v", tc.pat, tc.in, ok)
			}
			if p.MatchString(tc.in) != ok {
				t.Errorf("MatchString disagrees with Captures")
			}
			if !ok {
				return
			}
			got := make([]string, len(caps))
			for i, c := range caps {
				got[i] = string(c)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) || last != tc.last {
				t.Errorf("Captures(%q, %q) = %q last %d; want %q last %d", tc.pat, tc.in, got, last, tc.want, tc.last)
			}
		})
	}
}

func TestPCREMatch(t *testing.T) {
	tests := []struct {
		name, pat, in string
		want          bool
	}{
		{"case-sensitive by default", `abc`, "ABC", false},
		{"inline case-insensitive", `(?i)abc`, "xABCx", true},
		{"s includes VT", `^\s$`, "\v", true},
		{"S excludes VT", `^\S$`, "\v", false},
		{"s in class includes VT", `^[\s]$`, "\v", true},
		{"dot excludes newline", `a.c`, "a\nc", false},
		{"dollar before final newline only", `a$`, "a\nb", false},
		{"multiline dollar", `(?m)a$`, "a\nb", true},
		{"two bytes for one UTF-8 char", `^..$`, "\xc3\xa9", true},
		{"one dot is not a UTF-8 char", `^.$`, "\xc3\xa9", false},
		{"hex escape above 0x7f", `caf\xe9`, "caf\xe9", true},
		{"byte range class", `^[\x80-\xff]+$`, "\xc3\xa9", true},
		{"negated byte class", `^[^a]+$`, "\xff\xfe", true},
		{"no case folding above ASCII", `(?i)\xc9`, "\xe9", false},
		{"raw high byte in pattern", "\xe9", "caf\xe9", true},
		{"h matches tab", `a\hb`, "a\tb", true},
		{"h matches 0xA0 byte", `a\hb`, "a\xa0b", true},
		{"v class", `a\vb`, "a\x85b", true},
		{"quoted text", `\Qa.b\E`, "a.b", true},
		{"quoted text miss", `\Qa.b\E`, "axb", false},
		{"negative lookahead empty", `^(?!^$|^-$).*`, "", false},
		{"negative lookahead dash", `^(?!^$|^-$).*`, "-", false},
		{"negative lookahead text", `^(?!^$|^-$).*`, "x", true},
		{"back reference", `(a)\1`, "xaa", true},
		{"octal escape", `\101`, "A", true},
		{"control escape", `\cA`, "\x01", true},
		{"comment group", `a(?#note)b`, "ab", true},
		{"possessive", `a++b`, "aab", true},
		{"Z anchor", `a\Z`, "a\n", true},
		{"NUL ends subject", `b`, "a\x00b", false},
		{"NUL ends pattern", "a\x00zz", "a", true},
		{"UTF mode code point", `(*UTF)\N{U+202E}`, "a\u202eb", true},
		{"UTF mode invalid subject", `(*UTF)\N{U+202E}`, "\xff\u202e", false},
		{"UTF mode dot is a code point", `(*UTF)^.$`, "\u00e9", true},
		{"ruleset pattern", `(?i)(DisableRealtimeMonitoring|drtm)\s+(\$true|1)`, "Set-MpPreference -drtm $true", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CompilePCRE(tc.pat)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.MatchString(tc.in); got != tc.want {
				t.Errorf("Match(%q, %q) = %v, want %v (mapped %q)", tc.pat, tc.in, got, tc.want, p.mapped)
			}
		})
	}
}

func TestPCRECompileErrors(t *testing.T) {
	for _, pat := range []string{`(`, `[a`, `a{2,1}`, `\q`, `\x{100}`, `(*FOO)a`, `x**`, `\`, `[z-a]`, `[\d-z]`, `[[.a.]]`, `\N{U+41}`} {
		t.Run(pat, func(t *testing.T) {
			_, err := CompilePCRE(pat)
			var ce *CompileError
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "compile pcre2 ") {
				t.Fatalf("CompilePCRE(%q) error = %v, want a wrapped *CompileError", pat, err)
			}
		})
	}
}

func FuzzPCRE(f *testing.F) {
	for _, s := range []string{`^(a)?(b)?(c)(d)?(e)?`, `(?i)a\s+$`, `[[:alpha:]\d-]+`, `(?=a)\w`, `\x{ff}.\Q*\E`, `(*UTF)\N{U+202E}`, `a{2,1000}`, `(a|b)*\1`} {
		f.Add(s, []byte("abc\xe9 d\n"))
	}
	f.Fuzz(func(t *testing.T, pat string, in []byte) {
		p, err := CompilePCRE(pat)
		if err != nil {
			return
		}
		ok := p.Match(in)
		caps, last, cok := p.Captures(in, nil)
		if ok != cok {
			t.Fatalf("Match = %v but Captures ok = %v for %q on %q", ok, cok, pat, in)
		}
		if cok && (last < -1 || last >= len(in)) {
			t.Fatalf("return position %d out of range for %q on %q", last, pat, in)
		}
		for _, c := range caps {
			if len(c) > len(in) {
				t.Fatalf("capture longer than input")
			}
		}
	})
}

// TestConcurrentUse exercises the shared scratch pools from several
// goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	p, err := CompilePCRE(`(?=.*abc)(\w+)\s(\d+)$`)
	if err != nil {
		t.Fatal(err)
	}
	q, err := CompilePCRE(`(\w+) (\d+)$`)
	if err != nil {
		t.Fatal(err)
	}
	r, err := CompileRegex(`(\w+) (\d+)$`)
	if err != nil {
		t.Fatal(err)
	}
	in := []byte("caf\xe9 abc 123\n")
	done := make(chan string)
	for g := range 4 {
		go func() {
			for range 200 {
				c1, _, ok1 := p.Captures(in, nil)
				c2, _, ok2 := q.Captures(in[:len(in)-1], nil)
				c3, _, ok3 := r.Captures(in[:len(in)-1], nil)
				if !ok1 || !ok2 || !ok3 || string(c1[1]) != "123" || string(c2[0]) != "abc" || string(c3[1]) != "123" {
					done <- fmt.Sprintf("goroutine %d: %q %q %q", g, c1, c2, c3)
					return
				}
			}
			done <- ""
		}()
	}
	for range 4 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}
