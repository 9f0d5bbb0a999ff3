package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxSecretFile caps what ${file:...} reads, so a reference to a device or a huge
// file fails clearly instead of exhausting memory.
const maxSecretFile = 1 << 20

// expander replaces ${...} references in scalar values.
type expander struct {
	lookupEnv func(string) (string, bool)
	baseDir   string // for relative ${file:...} paths; "" means the working directory
	errs      *errorList
}

// walk expands every value scalar under n. Mapping keys are left alone: they name
// settings and must be checkable before anything is substituted. Aliases are not
// followed, so an anchored value is expanded once, where it is defined.
func (x *expander) walk(n *yaml.Node) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			x.walk(c)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			x.walk(n.Content[i])
		}
	case yaml.ScalarNode:
		x.scalar(n)
	}
}

func (x *expander) scalar(n *yaml.Node) {
	if !strings.Contains(n.Value, "$") {
		return
	}
	out, err := x.expand(n.Value)
	if err != nil {
		x.errs.addf(n.Line, "%v", err)
		return
	}
	if out == n.Value {
		return
	}
	n.Value = out
	// A plain scalar's type is inferred from its text, so it must be inferred
	// again from the substituted text: "${PORT}" may stand for a number. Texts that
	// would read as null stay strings, so a secret "null" is not lost.
	if n.Style&(yaml.TaggedStyle|yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		n.Tag = ""
		switch out {
		case "~", "null", "Null", "NULL":
			n.Tag = "!!str"
		}
	}
}

// expand substitutes the references in s.
func (x *expander) expand(s string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated %q in %q", "${", s[i:])
			}
			val, err := x.reference(s[i+2 : i+2+end])
			if err != nil {
				return "", err
			}
			b.WriteString(val)
			s = s[i+2+end+1:]
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

// reference resolves the text between "${" and "}".
func (x *expander) reference(ref string) (string, error) {
	if path, ok := strings.CutPrefix(ref, "file:"); ok {
		return x.readSecret(path)
	}
	name, def, hasDef := strings.Cut(ref, ":-")
	if !validEnvName(name) {
		return "", fmt.Errorf("invalid reference ${%s}: want ${NAME}, ${NAME:-default} or ${file:/path}", ref)
	}
	if strings.Contains(def, "${") {
		return "", fmt.Errorf("invalid reference ${%s}: nested references are not supported", ref)
	}
	val, ok := x.lookupEnv(name)
	if ok && val != "" {
		return val, nil
	}
	if hasDef {
		return def, nil
	}
	if ok {
		return "", nil
	}
	return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// readSecret returns a file's contents without trailing line breaks. Only regular
// files are read: a FIFO or device would block or never end.
func (x *expander) readSecret(path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("invalid reference ${file:}: empty path")
	}
	if !filepath.IsAbs(path) && x.baseDir != "" {
		path = filepath.Join(x.baseDir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("read secret file %s: not a regular file", path)
	}
	// A secret any local user can read or change is not a secret: refuse it, as
	// ssh does for keys, and say how to fix it.
	if perm := st.Mode().Perm(); perm&0o006 != 0 {
		return "", fmt.Errorf("read secret file %s: mode %04o lets every user read or change it; run chmod 600 (or 640 with a dedicated group) on it", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("read secret file %s: larger than %d bytes", path, maxSecretFile)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}
