package wregex

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Wazuh compiles PCRE2 patterns without UTF mode, so patterns and subjects
// are byte strings: "." is one byte, classes are sets of bytes 0-255, and case
// folding is ASCII-only. Go's engines work on runes, so both the pattern and
// the subject are moved into a "mapped" alphabet in which every byte is one
// rune: bytes below 0x80 stand for themselves and a byte b >= 0x80 becomes
// the private-use rune 0xE000+b. Private-use runes have no case mapping and
// belong to no \w, \d or \s class in either engine, so the engines' Unicode
// rules cannot leak in. The rewrite below also replaces the escapes whose
// PCRE2 meaning differs from Go's or .NET's (\s includes VT, \v and \h are
// classes, \Q...\E, POSIX classes, \x and octal escapes above 0x7F).

const highBase = 0xE000

func mapRune(b byte) rune {
	if b < utf8.RuneSelf {
		return rune(b)
	}
	return highBase + rune(b)
}

type pcreRewriter struct {
	src      string
	out      strings.Builder
	utf      bool // (*UTF): pattern and subject are UTF-8, no byte mapping
	dollar   bool // the pattern has a "$" anchor
	groups   int  // capture groups opened so far (for \N disambiguation)
	extended bool // an (?x) flag was seen: skip "#" comments verbatim
}

// rewriteResult is the outcome of rewritePCRE.
type rewriteResult struct {
	pattern string // for the Go engines
	dollar  bool   // has a "$" anchor
	utf     bool   // (*UTF) mode: no byte mapping, subjects must be UTF-8
}

// rewritePCRE translates a PCRE2 pattern into an equivalent one over the
// mapped alphabet that Go's regexp and regexp2 accept with the same meaning.
func rewritePCRE(src string) (rewriteResult, error) {
	w := &pcreRewriter{src: src}
	if err := w.run(); err != nil {
		return rewriteResult{}, err
	}
	return rewriteResult{w.out.String(), w.dollar, w.utf}, nil
}

// startVerbs consumes the option-setting verbs PCRE2 accepts at the very
// start of a pattern and returns the number of bytes used.
func (w *pcreRewriter) startVerbs() (int, error) {
	s := w.src
	i := 0
	for strings.HasPrefix(s[i:], "(*") {
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			break
		}
		name := s[i+2 : i+j]
		switch {
		case name == "UTF":
			w.utf = true
		case name == "LF", name == "NO_AUTO_POSSESS", name == "NO_DOTSTAR_ANCHOR",
			name == "NO_JIT", name == "NO_START_OPT", strings.HasPrefix(name, "LIMIT_"):
			// No effect on which text matches.
		default:
			return 0, &CompileError{"pcre2", CodeUnsupported, i, fmt.Sprintf("start-of-pattern verb (*%s) is not supported", name)}
		}
		i += j + 1
	}
	if w.utf && !utf8.ValidString(s) {
		return 0, w.errorf(0, "UTF-8 error in pattern")
	}
	return i, nil
}

func (w *pcreRewriter) errorf(off int, format string, args ...any) error {
	return &CompileError{"pcre2", CodePCRESyntax, off, fmt.Sprintf(format, args...)}
}

func (w *pcreRewriter) run() error {
	s := w.src
	start, err := w.startVerbs()
	if err != nil {
		return err
	}
	for i := start; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			n, err := w.escape(i)
			if err != nil {
				return err
			}
			i += n
		case c == '[':
			n, err := w.class(i)
			if err != nil {
				return err
			}
			i += n
		case c == '$':
			w.dollar = true
			w.out.WriteByte('$')
			i++
		case c == '(':
			i += w.group(i)
		case c == '#' && w.extended:
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				j = len(s) - i
			}
			w.out.WriteString(s[i : i+j])
			i += j
		default:
			w.writeByte(c)
			i++
		}
	}
	return nil
}

// writeByte copies one pattern byte, mapping high bytes unless in UTF mode
// (where they are part of UTF-8 sequences the engines read natively).
func (w *pcreRewriter) writeByte(c byte) {
	if w.utf {
		w.out.WriteByte(c)
		return
	}
	w.out.WriteRune(mapRune(c))
}

// group copies the opening of a group, normalising the few spellings the
// engines disagree on, and counts capture groups.
func (w *pcreRewriter) group(i int) int {
	s := w.src[i:]
	switch {
	case strings.HasPrefix(s, "(?#"):
		// A comment: drop it (Go does not know the syntax).
		if j := strings.IndexByte(s, ')'); j >= 0 {
			return j + 1
		}
		w.out.WriteString(s) // unterminated: let the engine report it
		return len(s)
	case strings.HasPrefix(s, "(?P<"):
		w.groups++
		w.out.WriteString("(?<")
		return 4
	case strings.HasPrefix(s, "(?P="):
		if j := strings.IndexByte(s, ')'); j > 4 {
			w.out.WriteString(`\k<` + s[4:j] + ">")
			return j + 1
		}
	case strings.HasPrefix(s, "(?<") && len(s) > 3 && s[3] != '=' && s[3] != '!',
		strings.HasPrefix(s, "(?'"):
		w.groups++
	case strings.HasPrefix(s, "(?"):
		// Inline flags such as (?i) or (?x-i:...).
		j := 2
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] == '-' || s[j] == '^') {
			j++
		}
		if j < len(s) && (s[j] == ')' || s[j] == ':') {
			on := s[2:j]
			if k := strings.IndexByte(on, '-'); k >= 0 {
				if strings.IndexByte(on[k:], 'x') >= 0 {
					w.extended = false
				}
				on = on[:k]
			}
			if strings.IndexByte(on, 'x') >= 0 {
				w.extended = true
			}
		}
	case strings.HasPrefix(s, "(*"):
		// Verbs like (*UTF) are copied; the engines reject them.
	default:
		w.groups++
	}
	w.out.WriteByte('(')
	return 1
}

// emitChar writes a single character value as a literal outside a class.
func (w *pcreRewriter) emitChar(v int) {
	switch {
	case v >= 0x80 && w.utf:
		w.out.WriteRune(rune(v))
	case v >= 0x80:
		w.out.WriteRune(highBase + rune(v))
	case v >= '0' && v <= '9', v >= 'a' && v <= 'z', v >= 'A' && v <= 'Z':
		w.out.WriteByte(byte(v))
	default:
		fmt.Fprintf(&w.out, `\x%02X`, v)
	}
}

const (
	pcreSpace    = "\t\n\v\f\r "
	vspaceASCII  = `\n\x0B\f\r`
	knownEscapes = "aAbBcCdDeEfgGhHkKnNopPQrRsStvVwWxXzZ"
)

// escape handles a backslash sequence outside a class starting at i and
// returns how many pattern bytes it used.
func (w *pcreRewriter) escape(i int) (int, error) {
	s := w.src
	if i+1 >= len(s) {
		return 0, w.errorf(i, `\ at end of pattern`)
	}
	d := s[i+1]
	switch d {
	case 'Q':
		j := strings.Index(s[i+2:], `\E`)
		end, next := len(s), len(s)
		if j >= 0 {
			end, next = i+2+j, i+2+j+2
		}
		for k := i + 2; k < end; k++ {
			w.emitChar(int(s[k]))
		}
		return next - i, nil
	case 'E':
		return 2, nil
	case 'h', 'H', 'v', 'V':
		if w.utf {
			w.out.WriteString(utfSpaceClass(d))
			return 2, nil
		}
		fallthrough
	case 's', 'S':
		set := escapeSet(d)
		neg := d == 'S' || d == 'H' || d == 'V'
		w.writeSet(set, neg)
		return 2, nil
	case 'R':
		w.out.WriteString(`(?:\r\n|[` + vspaceASCII + string(mapRune(0x85)) + `])`)
		return 2, nil
	case 'N':
		if i+2 < len(s) && s[i+2] == '{' {
			j := strings.IndexByte(s[i:], '}')
			if !w.utf || j < 0 || !strings.HasPrefix(s[i+3:], "U+") {
				return 0, w.errorf(i, `\N{U+hhh} is only supported in UTF mode`)
			}
			v, err := strconv.ParseUint(s[i+5:i+j], 16, 32)
			if err != nil || v > utf8.MaxRune {
				return 0, w.errorf(i, `invalid \N{U+hhh} escape`)
			}
			w.emitChar(int(v))
			return j + 1, nil
		}
		w.out.WriteString(`[^\n]`)
		return 2, nil
	case 'x', 'o', '0', 'c', 'a', 'e':
		v, n, err := w.charEscape(i, false)
		if err != nil {
			return 0, err
		}
		w.emitChar(v)
		return n, nil
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		num, _ := strconv.Atoi(s[i+1 : j])
		if num < 10 || d == '8' || d == '9' || num <= w.groups {
			// A back reference; Go rejects it, so regexp2 will run it.
			fmt.Fprintf(&w.out, `\k<%d>`, num)
			return j - i, nil
		}
		v, n, err := w.charEscape(i, false)
		if err != nil {
			return 0, err
		}
		w.emitChar(v)
		return n, nil
	}
	if d >= utf8.RuneSelf {
		w.writeByte(d)
		return 2, nil
	}
	if isAlnum(d) && strings.IndexByte(knownEscapes, d) < 0 {
		return 0, w.errorf(i, "unrecognized character follows \\: %q", s[i:i+2])
	}
	w.out.WriteString(s[i : i+2])
	return 2, nil
}
