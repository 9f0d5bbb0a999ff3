package wregex

// Class identifiers of the OS_Regex escapes. The numbering is internal to this
// package; it only has to be stable between the compiler and the matchers.
const (
	clsDigit     uint8 = iota + 1 // \d
	clsWord                       // \w
	clsSpace                      // \s
	clsPunct                      // \p
	clsLParen                     // \(
	clsRParen                     // \)
	clsBackslash                  // \\
	clsNonDigit                   // \D
	clsNonWord                    // \W
	clsNonSpace                   // \S
	clsAny                        // \.
	clsTab                        // \t
	clsDollar                     // \$
	clsPipe                       // \|
	clsLess                       // \<
	numClasses
)

// escapeClass maps the byte after a backslash to its class, or 0 when the
// escape is not part of the OS_Regex syntax (a compile error).
func escapeClass(c byte) uint8 {
	switch c {
	case 'd':
		return clsDigit
	case 'w':
		return clsWord
	case 's':
		return clsSpace
	case 'p':
		return clsPunct
	case '(':
		return clsLParen
	case ')':
		return clsRParen
	case '\\':
		return clsBackslash
	case 'D':
		return clsNonDigit
	case 'W':
		return clsNonWord
	case 'S':
		return clsNonSpace
	case '.':
		return clsAny
	case 't':
		return clsTab
	case '$':
		return clsDollar
	case '|':
		return clsPipe
	case '<':
		return clsLess
	}
	return 0
}

// classEscape is the inverse of escapeClass, used to print patterns.
func classEscape(c uint8) byte {
	for _, b := range []byte(`dwsp()\DWS.t$|<`) {
		if escapeClass(b) == c {
			return b
		}
	}
	return '?'
}

// classHas reports whether class c accepts byte b. It is written as plain
// comparisons so that it can serve as the specification for classTable.
func classHas(c uint8, b byte) bool {
	isDigit := b >= '0' && b <= '9'
	isWord := isDigit || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
		b == '-' || b == '@' || b == '_'
	switch c {
	case clsDigit:
		return isDigit
	case clsWord:
		return isWord
	case clsSpace:
		return b == ' '
	case clsPunct:
		return (b >= 0x21 && b <= 0x2E) || (b >= 0x3A && b <= 0x3F) ||
			b == '[' || b == ']' || b == '{' || b == '|' || b == '}'
	case clsLParen:
		return b == '('
	case clsRParen:
		return b == ')'
	case clsBackslash:
		return b == '\\'
	case clsNonDigit:
		return !isDigit
	case clsNonWord:
		return !isWord
	case clsNonSpace:
		return b != ' '
	case clsAny:
		return true
	case clsTab:
		return b == '\t'
	case clsDollar:
		return b == '$'
	case clsPipe:
		return b == '|'
	case clsLess:
		return b == '<'
	}
	return false
}

// byteSet is a 256-bit membership table.
type byteSet [4]uint64

func (s *byteSet) has(b byte) bool { return s[b>>6]&(1<<(b&63)) != 0 }
func (s *byteSet) add(b byte)      { s[b>>6] |= 1 << (b & 63) }

// classSets holds one byteSet per class. It is computed once from classHas and
// never modified afterwards.
var classSets = func() (t [numClasses]byteSet) {
	for c := uint8(1); c < numClasses; c++ {
		for b := 0; b < 256; b++ {
			if classHas(c, byte(b)) {
				t[c].add(byte(b))
			}
		}
	}
	return t
}()

// lower folds ASCII A-Z to a-z and leaves every other byte alone, which is the
// only case folding Wazuh performs.
func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

// cstring returns s up to (not including) its first NUL byte: Wazuh passes
// patterns and inputs around as C strings.
func cstring(s []byte) []byte {
	for i, b := range s {
		if b == 0 {
			return s[:i]
		}
	}
	return s
}

func cstringS(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}
