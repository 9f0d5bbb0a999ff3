// Package ruletest reads and runs Wazuh ruleset tests.
package ruletest

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// INICase is one test case of a Wazuh ruleset-test .ini file: one section, with every
// section of the same name merged into it.
type INICase struct {
	// File is the file name given to ParseINI.
	File string
	// Name is the section name, exactly as written between the brackets.
	Name string
	// Line is the 1-based line of the case's first section header.
	Line int
	// Logs are the non-empty log lines in the order the runner feeds them: grouped by
	// option key in order of the key's first appearance, each key's lines in file
	// order. For a file that does not interleave repeated keys this is file order.
	Logs []INILog
	// Rule, Alert and Decoder are the expected rule id, level and decoder name. A
	// repeated option yields its values joined by "\n", as Wazuh's runner sees them
	// (such a case can only pass as a "fail" case).
	Rule, Alert, Decoder string
}

// INILog is one physical log line of a case.
type INILog struct {
	// Key is the option name, lower-cased: "log 1 pass".
	Key string
	// N is the label between "log " and the trailing pass/fail: "1".
	N string
	// Pass is false for keys ending in "fail" (the result must differ from the
	// expected one) and true otherwise, as Wazuh's runner decides.
	Pass bool
	// Text is the line as submitted to the engine.
	Text string
	// Line is the 1-based line of the file the text came from.
	Line int
}

// Sessions splits the case's log lines into engine sessions: the lines of one key go,
// in order, to one fresh session, and only the last line's result is judged. The
// returned slices share memory with c.Logs.
func (c INICase) Sessions() [][]INILog {
	var out [][]INILog
	for start := 0; start < len(c.Logs); {
		end := start + 1
		for end < len(c.Logs) && c.Logs[end].Key == c.Logs[start].Key {
			end++
		}
		out = append(out, c.Logs[start:end:end])
		start = end
	}
	return out
}

// ParseINI reads a ruleset-test file the way Wazuh's runner (runtests.py) does: with
// Python's configparser in raw, non-strict mode, except that a repeated option inside
// a section (or in a repeated section) adds its lines to the earlier value instead of
// replacing it. Concretely:
//
//   - lines end at "\n", "\r\n" or "\r"; the input must be valid UTF-8;
//   - a line whose first non-blank character is '#' or ';' is a comment;
//   - "[name]" starts a section (the name runs to the last ']'); a [DEFAULT] section
//     supplies options to every case, which a case's own option of the same name
//     replaces;
//   - "key = value" or "key: value" sets an option: the key is lower-cased and both
//     are trimmed of surrounding white space;
//   - a line indented deeper than its option line continues the value, and a blank
//     line inside a value adds an empty line to it (empty lines are never sent to
//     the engine);
//   - options whose key starts with "log " are log entries, each one session.
//
// Every case must have rule, alert and decoder options; Wazuh's runner aborts on a
// file where one is missing. Errors name file:line.
func ParseINI(r io.Reader, file string) ([]INICase, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("ruletest: read %s: %w", file, err)
	}
	p := iniParser{file: file, sections: map[string]*iniSection{}}
	if err := p.parse(string(data)); err != nil {
		return nil, err
	}
	return p.cases()
}

// iniValue is one option's value before configparser joins it: one piece per line,
// empty pieces standing for blank lines inside the value.
type iniValue struct {
	pieces []iniPiece
}

type iniPiece struct {
	text string
	line int
}

type iniSection struct {
	name   string
	line   int
	keys   []string // in order of first appearance
	values map[string]*iniValue
}

func newSection(name string, line int) *iniSection {
	return &iniSection{name: name, line: line, values: map[string]*iniValue{}}
}

type iniParser struct {
	file     string
	order    []*iniSection // sections in order of first appearance, DEFAULT excluded
	sections map[string]*iniSection
	defaults *iniSection
}

func (p *iniParser) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("ruletest: parse %s:%d: %s", p.file, line, fmt.Sprintf(format, args...))
}

// parse mirrors configparser's line loop; see ParseINI for the rules.
func (p *iniParser) parse(text string) error {
	var (
		cur    *iniSection
		opt    *iniValue // the option that continuation lines extend, nil after a header
		indent int       // indentation of the last option or header line
	)
	for lineNo := 1; text != ""; lineNo++ {
		var line string
		line, text = nextLine(text)
		if !utf8.ValidString(line) {
			return p.errorf(lineNo, "invalid UTF-8")
		}
		value := pyStrip(line)
		if value == "" {
			// configparser keeps blank lines inside a value; comment lines are dropped.
			if cur != nil && opt != nil {
				opt.pieces = append(opt.pieces, iniPiece{"", lineNo})
			}
			continue
		}
		if value[0] == '#' || value[0] == ';' {
			continue
		}
		lineIndent := indentOf(line)
		if cur != nil && opt != nil && lineIndent > indent {
			opt.pieces = append(opt.pieces, iniPiece{value, lineNo})
			continue
		}
		indent = lineIndent
		if name, ok := sectionHeader(value); ok {
			cur = p.section(name, lineNo)
			opt = nil
			continue
		}
		if cur == nil {
			return p.errorf(lineNo, "line before the first section header: %q", value)
		}
		d := strings.IndexAny(value, "=:")
		if d < 0 {
			return p.errorf(lineNo, "neither a section header nor a key = value line: %q", value)
		}
		key := pyRstrip(value[:d])
		if key == "" {
			return p.errorf(lineNo, "option without a name: %q", value)
		}
		key = pyLower(key)
		opt = cur.values[key]
		if opt == nil {
			opt = &iniValue{}
			cur.values[key] = opt
			cur.keys = append(cur.keys, key)
		}
		opt.pieces = append(opt.pieces, iniPiece{pyStrip(value[d+1:]), lineNo})
	}
	return nil
}

// section returns the section to add options to, creating it on first sight.
func (p *iniParser) section(name string, line int) *iniSection {
	if s := p.sections[name]; s != nil {
		return s
	}
	if name == "DEFAULT" {
		if p.defaults == nil {
			p.defaults = newSection(name, line)
		}
		return p.defaults
	}
	s := newSection(name, line)
	p.sections[name] = s
	p.order = append(p.order, s)
	return s
}

// cases turns the parsed sections into test cases, resolving DEFAULT the way
// configparser's get and items do.
func (p *iniParser) cases() ([]INICase, error) {
	out := make([]INICase, 0, len(p.order))
	for _, s := range p.order {
		c := INICase{File: p.file, Name: s.name, Line: s.line}
		for _, want := range []struct {
			key string
			dst *string
		}{{"rule", &c.Rule}, {"alert", &c.Alert}, {"decoder", &c.Decoder}} {
			v := p.lookup(s, want.key)
			if v == nil {
				return nil, p.errorf(s.line, "section [%s] has no %q option", s.name, want.key)
			}
			*want.dst = v.joined()
		}
		for _, key := range p.itemKeys(s) {
			if !strings.HasPrefix(key, "log ") {
				continue
			}
			n, pass := logLabel(key)
			for _, piece := range p.lookup(s, key).pieces {
				if piece.text != "" {
					c.Logs = append(c.Logs, INILog{Key: key, N: n, Pass: pass, Text: piece.text, Line: piece.line})
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func (p *iniParser) lookup(s *iniSection, key string) *iniValue {
	if v := s.values[key]; v != nil {
		return v
	}
	if p.defaults != nil {
		return p.defaults.values[key]
	}
	return nil
}

// itemKeys lists a section's keys as configparser's items() does: DEFAULT's keys
// first, then the section's own keys that DEFAULT lacks.
func (p *iniParser) itemKeys(s *iniSection) []string {
	if p.defaults == nil {
		return s.keys
	}
	keys := append([]string(nil), p.defaults.keys...)
	for _, k := range s.keys {
		if p.defaults.values[k] == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// joined is the value configparser hands out: pieces joined by newlines, trailing
// white space removed.
func (v *iniValue) joined() string {
	parts := make([]string, len(v.pieces))
	for i, piece := range v.pieces {
		parts[i] = piece.text
	}
	return pyRstrip(strings.Join(parts, "\n"))
}

// logLabel splits a "log N pass" key into its label and verdict. Wazuh's runner only
// looks at the key's ending: "fail" inverts the verdict, anything else is a pass.
func logLabel(key string) (n string, pass bool) {
	rest := key[len("log "):]
	pass = true
	switch {
	case strings.HasSuffix(rest, "pass"):
		rest = rest[:len(rest)-len("pass")]
	case strings.HasSuffix(rest, "fail"):
		rest = rest[:len(rest)-len("fail")]
		pass = false
	}
	return strings.TrimSpace(rest), pass
}

// nextLine splits off the first line, recognising "\n", "\r\n" and "\r" as Python's
// universal-newline mode does. The terminator is dropped.
func nextLine(text string) (line, rest string) {
	i := strings.IndexAny(text, "\r\n")
	if i < 0 {
		return text, ""
	}
	if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
		return text[:i], text[i+2:]
	}
	return text[:i], text[i+1:]
}

// sectionHeader reports whether a stripped line is a section header and returns its
// name: everything between the leading '[' and the last ']', at least one character;
// text after that ']' is ignored, as configparser's pattern allows.
func sectionHeader(value string) (string, bool) {
	if value[0] != '[' {
		return "", false
	}
	end := strings.LastIndexByte(value, ']')
	if end < 2 {
		return "", false
	}
	return value[1:end], true
}

// indentOf counts the leading white-space characters (not bytes) of a line, which is
// how configparser compares indentation.
func indentOf(line string) int {
	n := 0
	for _, r := range line {
		if !pyIsSpace(r) {
			break
		}
		n++
	}
	return n
}

// pyIsSpace is Python's str.isspace for one character: Unicode white space plus the
// ASCII information separators U+001C..U+001F, which Go's unicode.IsSpace excludes.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func pyStrip(s string) string  { return strings.TrimFunc(s, pyIsSpace) }
func pyRstrip(s string) string { return strings.TrimRightFunc(s, pyIsSpace) }

// pyLower lower-cases like Python's str.lower as far as it matters for option names:
// Go's mapping plus Python's two-character result for U+0130. Python's context
// sensitive final sigma is not reproduced.
func pyLower(s string) string {
	if strings.ContainsRune(s, 'İ') {
		s = strings.ReplaceAll(s, "İ", "i\u0307")
	}
	return strings.ToLower(s)
}
