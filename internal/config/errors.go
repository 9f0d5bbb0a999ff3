package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Error is one configuration problem at a position in a file. Load, Parse,
// Validate and the component Decode methods return an Error, or several joined
// with errors.Join, so callers can print each on its own line.
type Error struct {
	// File is the configuration file's name as given to Load or Parse.
	File string
	// Line is the 1-based line of the problem, or 0 when it is not known.
	Line int
	// Msg describes the problem.
	Msg string
}

// Error formats the problem as "file:line: msg", leaving out what is unknown.
func (e *Error) Error() string {
	switch {
	case e.File == "" && e.Line == 0:
		return e.Msg
	case e.Line == 0:
		return e.File + ": " + e.Msg
	default:
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
}

// FieldError is what a component's Validate method returns for a bad field. Field
// is the YAML key as written in the component's section, with dots for nesting
// and [i] for list items ("bucket", "tls.ca_file", "topics[2]"); the config
// package turns it into the line of that key. Return several with errors.Join.
type FieldError struct {
	Field string
	Msg   string
}

// Error formats the problem as "field: msg".
func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// errorList collects positioned errors for one file.
type errorList struct {
	file string
	errs []*Error
}

func (l *errorList) addf(line int, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// addYAML records an error returned by the yaml package. Its type errors carry
// "line N: " prefixes, which become positions; prefix (may be empty) is put in
// front of each message to say which section the error is in.
func (l *errorList) addYAML(err error, prefix string, fallbackLine int) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, msg := range te.Errors {
			line, rest := splitYAMLLine(msg)
			if line == 0 {
				line = fallbackLine
			}
			l.addf(line, "%s%s", prefix, rest)
		}
		return
	}
	line, rest := splitYAMLLine(err.Error())
	if line == 0 {
		line = fallbackLine
	}
	l.addf(line, "%s%s", prefix, rest)
}

// addSyntax records an error from parsing the YAML text. For problems found by
// the yaml parser (as opposed to its scanner) the yaml package reports a 0-based
// line, and none at all for the first line; this corrects both. A problem found
// at the end of the text is reported on its last line (lastLine).
func (l *errorList) addSyntax(err error, lastLine int) {
	line, msg := splitYAMLLine(err.Error())
	if parserProblem(msg) {
		line++
	}
	line = min(line, lastLine)
	l.addf(line, "%s", msg)
}

// parserProblem reports the messages of yaml.v3's parser (parserc.go).
func parserProblem(msg string) bool {
	switch msg {
	case "did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"did not find expected '-' indicator", "did not find expected <document start>",
		"did not find expected <stream-start>", "did not find expected key",
		"did not find expected node content", "found duplicate %TAG directive",
		"found duplicate %YAML directive", "found incompatible YAML document",
		"found undefined tag handle":
		return true
	}
	return false
}

// err returns the collected errors sorted by line (stable, so errors on one line
// keep the order they were found in), or nil.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

var yamlLineRE = regexp.MustCompile(`(?s)^(?:yaml: )?(?:line (\d+): )?(.*)$`)

// splitYAMLLine takes "yaml: line 3: msg" or "line 3: msg" apart.
func splitYAMLLine(msg string) (int, string) {
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, msg
	}
	line, _ := strconv.Atoi(m[1]) // empty group means no line: 0
	return line, m[2]
}

// flatten unwraps errors.Join trees into a flat list.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
