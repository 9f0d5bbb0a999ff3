package ruletest

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseINI checks that ParseINI never panics, that its errors name the file, and
// that a successful parse is self-consistent: log lines are non-empty, single-line,
// stripped text from a real line of the input, and Sessions partitions Logs.
func FuzzParseINI(f *testing.F) {
	for _, tc := range iniCases {
		f.Add([]byte(tc.input))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := ParseINI(bytes.NewReader(data), "fuzz.ini")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.ini:") {
				t.Fatalf("error does not name file:line: %v", err)
			}
			return
		}
		lines := 1 + bytes.Count(data, []byte{'\n'}) + bytes.Count(data, []byte{'\r'})
		names := map[string]bool{}
		for _, c := range cases {
			if names[c.Name] {
				t.Fatalf("section %q returned twice", c.Name)
			}
			names[c.Name] = true
			if c.Name == "" || c.Name == "DEFAULT" || c.Line < 1 || c.Line > lines {
				t.Fatalf("bad case header %q at line %d", c.Name, c.Line)
			}
			var flat []INILog
			for _, s := range c.Sessions() {
				if len(s) == 0 {
					t.Fatal("empty session")
				}
				for _, l := range s {
					if l.Key != s[0].Key {
						t.Fatalf("session mixes keys %q and %q", s[0].Key, l.Key)
					}
				}
				flat = append(flat, s...)
			}
			if len(flat) != len(c.Logs) {
				t.Fatalf("sessions hold %d lines; Logs has %d", len(flat), len(c.Logs))
			}
			for i, l := range c.Logs {
				if flat[i] != l {
					t.Fatalf("sessions reorder Logs at %d", i)
				}
				if l.Text == "" || strings.ContainsAny(l.Text, "\r\n") || pyStrip(l.Text) != l.Text || !utf8.ValidString(l.Text) {
					t.Fatalf("bad log text %q", l.Text)
				}
				if !strings.HasPrefix(l.Key, "log ") || pyLower(l.Key) != l.Key {
					t.Fatalf("bad log key %q", l.Key)
				}
				if l.Line < 1 || l.Line > lines || !bytes.Contains(data, []byte(l.Text)) {
					t.Fatalf("log %q at line %d is not from the input", l.Text, l.Line)
				}
			}
		}
	})
}
