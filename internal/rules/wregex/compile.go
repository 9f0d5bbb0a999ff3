package wregex

import (
	"fmt"
	"strconv"
)

// MaxPatternLen is the longest pattern Wazuh's OS_Regex and OS_Match accept.
const MaxPatternLen = 20480

// Error codes reported in CompileError.Code. The OS_Regex/OS_Match ones (3, 6,
// 7) are the numbers Wazuh's os_regex library stores in its error field, so
// log messages can be compared; the PCRE2 ones are this package's own.
const (
	CodeTooLong     = 3   // pattern longer than MaxPatternLen
	CodeBadEscape   = 6   // unknown escape such as \n or a trailing backslash
	CodeBadGroup    = 7   // nested, unbalanced or alternated group
	CodePCRESyntax  = 100 // PCRE2 syntax error (or a construct the engines reject)
	CodeUnsupported = 101 // valid PCRE2 this package knowingly does not implement
)

// CompileError describes why a pattern was rejected.
type CompileError struct {
	Dialect string // "osregex", "osmatch" or "pcre2"
	Code    int    // one of the Code* constants
	Offset  int    // byte offset in the pattern where the problem was found, -1 if unknown
	Msg     string // what is wrong
}

// Error implements error.
func (e *CompileError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%s: %s (code %d)", e.Dialect, e.Msg, e.Code)
	}
	return fmt.Sprintf("%s: %s at offset %d (code %d)", e.Dialect, e.Msg, e.Offset, e.Code)
}

// shortQuote quotes a pattern for an error message, eliding the middle of
// very long ones.
func shortQuote(s string) string {
	const max = 80
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max-20]) + "…" + strconv.Quote(s[len(s)-16:])
}

// Byte-level program encoding shared by the reference matcher and the
// compiler: a class element is escByte followed by the class id, a group
// marker (both "(" and ")") is markByte, everything else is a lower-cased
// literal byte. A quantifier is simply a '+' or '*' byte right after a class
// element; the end of the slice plays the role of the C string terminator.
const (
	escByte  = '\\'
	markByte = '('
)

// regexAlt is one top-level alternative of an OS_Regex pattern.
type regexAlt struct {
	prog   []byte // byte-level program (see escByte)
	markAt []int  // markAt[pos] = marker number for a markByte at pos, else -1
	nmark  int
	begin  bool // pattern started with ^
	end    bool // pattern ended with an unescaped $
}

// parseRegex compiles an OS_Regex pattern into its alternatives. totalMarks
// counts the ")" bytes of the whole pattern: Wazuh only records group
// positions when it is non-zero.
func parseRegex(pattern string) (alts []regexAlt, totalMarks int, err error) {
	pat := cstringS(pattern)
	if len(pat) > MaxPatternLen {
		return nil, 0, &CompileError{"osregex", CodeTooLong, MaxPatternLen,
			fmt.Sprintf("pattern is %d bytes, longer than %d", len(pat), MaxPatternLen)}
	}
	buf := make([]byte, 0, len(pat))
	var splits []int // indexes in buf of alternative separators
	depth := 0
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if c == '\\' {
			var next byte
			if i+1 < len(pat) {
				next = pat[i+1]
			}
			cls := escapeClass(next)
			if cls == 0 {
				msg := "trailing backslash"
				if i+1 < len(pat) {
					msg = fmt.Sprintf("invalid escape %q", pat[i:i+2])
				}
				return nil, 0, &CompileError{"osregex", CodeBadEscape, i, msg}
			}
			buf = append(buf, escByte, cls)
			i++
			continue
		}
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			totalMarks++
			c = markByte
		}
		if depth != 0 && depth != 1 {
			msg := "nested group"
			if depth < 0 {
				msg = `unbalanced ")"`
			}
			return nil, 0, &CompileError{"osregex", CodeBadGroup, i, msg}
		}
		if c == '|' {
			if depth != 0 {
				return nil, 0, &CompileError{"osregex", CodeBadGroup, i, `"|" inside a group`}
			}
			splits = append(splits, len(buf))
		}
		buf = append(buf, lower(c))
	}
	if depth != 0 {
		return nil, 0, &CompileError{"osregex", CodeBadGroup, len(pat), `unclosed "("`}
	}
	start := 0
	for k := 0; k <= len(splits); k++ {
		stop := len(buf)
		if k < len(splits) {
			stop = splits[k]
		}
		alts = append(alts, makeRegexAlt(buf[start:stop]))
		start = stop + 1
	}
	return alts, totalMarks, nil
}

func makeRegexAlt(b []byte) regexAlt {
	var a regexAlt
	if len(b) > 0 && b[0] == '^' {
		a.begin = true
		b = b[1:]
	}
	// A class id is never '$', so an escaped "\$" at the end is not seen here.
	if len(b) > 0 && b[len(b)-1] == '$' {
		a.end = true
		b = b[:len(b)-1]
	}
	a.prog = append([]byte(nil), b...)
	a.markAt = make([]int, len(a.prog))
	for i := 0; i < len(a.prog); i++ {
		a.markAt[i] = -1
		switch a.prog[i] {
		case escByte:
			i++
			if i < len(a.prog) {
				a.markAt[i] = -1
			}
		case markByte:
			a.markAt[i] = a.nmark
			a.nmark++
		}
	}
	return a
}

// String renders the alternative back into OS_Regex syntax (lower-cased);
// used in test failure messages.
func (a *regexAlt) String() string {
	var out []byte
	if a.begin {
		out = append(out, '^')
	}
	for i := 0; i < len(a.prog); i++ {
		switch c := a.prog[i]; c {
		case escByte:
			i++
			out = append(out, '\\', classEscape(a.prog[i]))
		case markByte:
			if a.markAt[i]%2 == 0 {
				out = append(out, '(')
			} else {
				out = append(out, ')')
			}
		default:
			out = append(out, c)
		}
	}
	if a.end {
		out = append(out, '$')
	}
	return string(out)
}
