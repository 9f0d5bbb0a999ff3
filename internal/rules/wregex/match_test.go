package wregex

import (
	"errors"
	"strings"
	"testing"
)

// refOSMatch is a plain transcription of §2 used to check Match: strip "!",
// split at every "|", classify each alternative, compare ignoring ASCII case.
func refOSMatch(pattern, s string) bool {
	pattern, s = cstringS(pattern), cstringS(s)
	neg := strings.HasPrefix(pattern, "!")
	pattern = strings.TrimPrefix(pattern, "!")
	fold := func(x string) string {
		b := []byte(x)
		for i := range b {
			b[i] = lower(b[i])
		}
		return string(b)
	}
	ls := fold(s)
	hit := false
	for _, a := range strings.Split(fold(pattern), "|") {
		switch {
		case len(a) >= 2 && a[0] == '^' && a[len(a)-1] == '$':
			hit = hit || ls == a[1:len(a)-1]
		case a == "":
			hit = true
		case a[len(a)-1] == '$':
			hit = hit || strings.HasSuffix(ls, a[:len(a)-1])
		case a[0] == '^':
			hit = hit || strings.HasPrefix(ls, a[1:])
		default:
			hit = hit || strings.Contains(ls, a)
		}
	}
	return hit != neg
}

func TestMatchSpecExamples(t *testing.T) {
	tests := []struct {
		name, pat, in string
		want          bool
	}{
		{"substring", "abc", "xABCx", true},
		{"substring miss", "abd", "xabcx", false},
		{"negated hit", "!abc", "xabcx", false},
		{"negated miss", "!abc", "xyz", true},
		{"negation covers all alternatives", "!a|b", "b", false},
		{"alternatives", "foo|bar", "a bar", true},
		{"exact", "^abc$", "ABC", true},
		{"exact longer input", "^abc$", "abcd", false},
		{"prefix", "^abc", "abcdef", true},
		{"prefix miss", "^abc", "xabc", false},
		{"suffix", "abc$", "xxABC", true},
		{"suffix miss", "abc$", "abcx", false},
		{"empty middle alternative", "a||b", "zzz", true},
		{"empty last alternative", "a|", "zzz", true},
		{"empty pattern", "", "anything", true},
		{"negated empty", "!", "anything", false},
		{"caret alone", "^", "x", true},
		{"dollar alone", "$", "x", true},
		{"caret dollar on empty", "^$", "", true},
		{"caret dollar on text", "^$", "x", false},
		{"caret in middle literal", "a^b", "a^b", true},
		{"dollar in middle literal", "a$b", "xa$bx", true},
		{"no escapes", `\d`, `a\d`, true},
		{"backslash digit not a class", `\d`, "1", false},
		{"dot literal", "a.c", "abc", false},
		{"star literal", "a*", "a*", true},
		{"escaped less stays two bytes", `\<b`, "<b", false},
		{"port 22 matches 2222", "22", "2222", true},
		{"id 4624 matches 14624", "4624", "14624", true},
		{"user bob matches BOBBY", "bob", "BOBBY", true},
		{"NUL ends input", "cd", "ab\x00cd", false},
		{"NUL ends input for suffix", "ab$", "ab\x00cd", true},
		{"no folding above ASCII", "\xc3\xa9", "\xc3\x89", false},
		{"exact needs equal length", "^ab$", "a", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := CompileMatch(tc.pat)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.MatchString(tc.in); got != tc.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tc.pat, tc.in, got, tc.want)
			}
			if got := refOSMatch(tc.pat, tc.in); got != tc.want {
				t.Errorf("refOSMatch(%q, %q) = %v, want %v", tc.pat, tc.in, got, tc.want)
			}
		})
	}
}

func TestMatchTooLong(t *testing.T) {
	_, err := CompileMatch(strings.Repeat("a", MaxPatternLen+1))
	var ce *CompileError
	if !errors.As(err, &ce) || ce.Code != CodeTooLong || !strings.HasPrefix(err.Error(), "compile match ") {
		t.Fatalf("error = %v, want code %d", err, CodeTooLong)
	}
	m, err := CompileMatch(strings.Repeat("a", MaxPatternLen))
	if err != nil || m.String() != strings.Repeat("a", MaxPatternLen) {
		t.Fatalf("max-length pattern: %v", err)
	}
}

func TestWordMatch(t *testing.T) {
	tests := []struct {
		name, pat, in string
		want          bool
	}{
		{"substring", "sshd", "syslog,sshd,", true},
		{"case-insensitive", "SSHD", "syslog,sshd,", true},
		{"alternatives", "pam|sshd", "sshd,", true},
		{"prefix", "^sys", "syslog,", true},
		{"prefix miss", "^log", "syslog,", false},
		{"dollar is literal", "log$", "syslog", false},
		{"dollar literal hit", "a$", "xa$b", true},
		{"empty pattern", "", "x", false},
		{"empty input", "a", "", false},
		{"caret alone", "^", "", true},
		{"empty last alternative matches all", "zz|", "x", true},
		// An empty non-final alternative looks for "|" plus the next
		// alternative's raw text; that is only visible when the next one
		// is a "^" prefix test.
		{"empty alternative quirk", "|^b|c", "a|^b", true},
		{"same without empty alternative", "^b|c", "a|^b", false},
		{"empty alternative quirk needs a further bar", "|^b", "a|^b", false},
		{"NUL ends input", "b", "a\x00b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := WordMatch(tc.pat, tc.in); got != tc.want {
				t.Errorf("WordMatch(%q, %q) = %v, want %v", tc.pat, tc.in, got, tc.want)
			}
		})
	}
}

func FuzzCompileMatch(f *testing.F) {
	for _, s := range []string{"abc", "!a|b", "^abc$", "a||b", "^", "$", "^$", `\<`, "x$|^y"} {
		f.Add(s, "xABCy")
	}
	f.Fuzz(func(t *testing.T, pat, in string) {
		m, err := CompileMatch(pat)
		if err != nil {
			if len(cstringS(pat)) <= MaxPatternLen {
				t.Fatalf("CompileMatch(%q): %v", pat, err)
			}
			return
		}
		want := refOSMatch(pat, in)
		if got := m.MatchString(in); got != want {
			t.Fatalf("Match(%q, %q) = %v, reference %v", pat, in, got, want)
		}

		WordMatch(pat, in) // must not panic
	})
}
