// Package wazuhxml loads Wazuh 4.x rule, decoder and CDB-list files unmodified and turns
// them into the definitions the rules engine compiles.
//
// Wazuh does not read its files with a standard XML parser: entities are not decoded,
// a backslash before '<' keeps the '<' as text, element text is kept verbatim and
// <var> definitions are expanded as $NAME in later text. This file implements that
// dialect; ruleset-specific meaning lives in rules.go and decoders.go.
package wazuhxml

import (
	"fmt"
	"strings"
)

// maxElementText is the largest element text Wazuh's reader accepts.
const maxElementText = 20480

// Node is one element of a Wazuh XML file.
type Node struct {
	Name     string
	Attrs    []Attr
	Text     string
	Children []*Node
	Line     int
}

// Attr is one attribute of an element, in document order.
type Attr struct {
	Name, Value string
}

// Attr returns the value of the attribute called name (exact, case-sensitive, as
// Wazuh compares the attribute names that matter) and whether it is present.
func (n *Node) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// SyntaxError is a malformed-XML error with its position.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

type xmlParser struct {
	file string
	src  string
	pos  int
	line int
}

// ParseXML parses a Wazuh XML document into its top-level elements and expands <var>
// definitions the way Wazuh does. The <var> elements themselves are removed.
func ParseXML(file string, src []byte) ([]*Node, error) {
	p := &xmlParser{file: file, src: string(src), line: 1}
	var roots []*Node
	for {
		if err := p.skipMisc(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) {
			break
		}
		if p.src[p.pos] != '<' {
			// Stray text between top-level elements is ignored by Wazuh's reader only
			// when it is whitespace; anything else is a syntax error.
			return nil, p.errorf("unexpected text %q outside of an element", p.snippet())
		}
		n, err := p.element()
		if err != nil {
			return nil, err
		}
		roots = append(roots, n)
	}
	return expandVars(file, roots)
}

func (p *xmlParser) errorf(format string, args ...any) error {
	return &SyntaxError{File: p.file, Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

func (p *xmlParser) snippet() string {
	end := min(p.pos+20, len(p.src))
	return p.src[p.pos:end]
}

func (p *xmlParser) advance(n int) {
	for i := 0; i < n && p.pos < len(p.src); i++ {
		if p.src[p.pos] == '\n' {
			p.line++
		}
		p.pos++
	}
}

// skipMisc skips whitespace, comments and <?...?> prologs between elements.
func (p *xmlParser) skipMisc() error {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.advance(1)
		case strings.HasPrefix(p.src[p.pos:], "<!--"):
			if err := p.skipUntil("-->", 4); err != nil {
				return err
			}
		case strings.HasPrefix(p.src[p.pos:], "<!"):
			if err := p.skipUntil("!>", 2); err != nil {
				// "<! ... >" without the closing "!>" is also tolerated as a declaration.
				return err
			}
		case strings.HasPrefix(p.src[p.pos:], "<?"):
			if err := p.skipUntil("?>", 2); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

func (p *xmlParser) skipUntil(end string, openLen int) error {
	startLine := p.line
	i := strings.Index(p.src[p.pos+openLen:], end)
	if i < 0 {
		p.line = startLine
		return p.errorf("unterminated comment or declaration")
	}
	p.advance(openLen + i + len(end))
	return nil
}

func isNameByte(c byte) bool {
	return c > ' ' && c != '>' && c != '/' && c != '=' && c != '<' && c != '"' && c != '\''
}

// element parses one element starting at '<'.
func (p *xmlParser) element() (*Node, error) {
	n := &Node{Line: p.line}
	p.advance(1)
	start := p.pos
	for p.pos < len(p.src) && isNameByte(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return nil, p.errorf("missing element name")
	}
	n.Name = p.src[start:p.pos]
	selfClosed, err := p.attributes(n)
	if err != nil {
		return nil, err
	}
	if selfClosed {
		return n, nil
	}
	return n, p.content(n)
}

func (p *xmlParser) skipSpace() {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return
		}
		p.advance(1)
	}
}

// attributes parses attributes up to '>' or '/>' and reports a self-closing tag.
func (p *xmlParser) attributes(n *Node) (bool, error) {
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return false, p.errorf("unterminated start tag <%s>", n.Name)
		}
		switch c := p.src[p.pos]; {
		case c == '>':
			p.advance(1)
			return false, nil
		case c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '>':
			p.advance(2)
			return true, nil
		case !isNameByte(c):
			return false, p.errorf("bad character %q in start tag <%s>", c, n.Name)
		}
		start := p.pos
		for p.pos < len(p.src) && isNameByte(p.src[p.pos]) {
			p.pos++
		}
		name := p.src[start:p.pos]
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '=' {
			return false, p.errorf("attribute %q of <%s> has no value", name, n.Name)
		}
		p.advance(1)
		p.skipSpace()
		if p.pos >= len(p.src) || (p.src[p.pos] != '"' && p.src[p.pos] != '\'') {
			return false, p.errorf("attribute %q of <%s> is not quoted", name, n.Name)
		}
		q := p.src[p.pos]
		end := strings.IndexByte(p.src[p.pos+1:], q)
		if end < 0 {
			return false, p.errorf("unterminated value of attribute %q", name)
		}
		value := p.src[p.pos+1 : p.pos+1+end]
		p.advance(end + 2)
		if _, dup := n.Attr(name); dup {
			return false, p.errorf("duplicate attribute %q in <%s>", name, n.Name)
		}
		n.Attrs = append(n.Attrs, Attr{Name: name, Value: value})
	}
}

// content parses text and children up to the matching end tag.
func (p *xmlParser) content(n *Node) error {
	var text strings.Builder
	pending := false // the previous byte is a backslash not yet paired with another
	for {
		if p.pos >= len(p.src) {
			return &SyntaxError{File: p.file, Line: n.Line, Msg: fmt.Sprintf("element <%s> is not closed", n.Name)}
		}
		c := p.src[p.pos]
		if c == '\\' {
			if pending {
				// The second of a "\\" pair never escapes a following '<'.
				pending = false
				text.WriteByte(c)
				p.advance(1)
				continue
			}
			if p.pos+1 < len(p.src) && p.src[p.pos+1] == '<' {
				// Wazuh keeps both bytes: patterns then see "\<", which OS_Regex reads as '<'.
				text.WriteString(`\<`)
				p.advance(2)
				continue
			}
			pending = true
			text.WriteByte(c)
			p.advance(1)
			continue
		}
		pending = false
		if c != '<' {
			text.WriteByte(c)
			p.advance(1)
			continue
		}
		rest := p.src[p.pos:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			if err := p.skipUntil("-->", 4); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "</"):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return p.errorf("unterminated end tag in <%s>", n.Name)
			}
			if name := strings.TrimSpace(rest[2:end]); name != n.Name {
				return p.errorf("end tag </%s> does not match <%s> opened on line %d", name, n.Name, n.Line)
			}
			p.advance(end + 1)
			if len(n.Children) == 0 {
				if text.Len() >= maxElementText {
					return &SyntaxError{File: p.file, Line: n.Line, Msg: fmt.Sprintf("text of <%s> is longer than %d bytes", n.Name, maxElementText)}
				}
				n.Text = text.String()
			}
			return nil
		default:
			child, err := p.element()
			if err != nil {
				return err
			}
			n.Children = append(n.Children, child)
		}
	}
}

// expandVars applies <var name="N">value</var> definitions to the rest of the file, as
// Wazuh's reader does, and drops the <var> elements.
func expandVars(file string, roots []*Node) ([]*Node, error) {
	var names, values []string
	hasVars := false
	for _, n := range roots {
		if n.Name == "var" {
			hasVars = true
		}
	}
	out := roots[:0]
	var firstErr error
	var apply func(n *Node)
	apply = func(n *Node) {
		if firstErr != nil {
			return
		}
		var err error
		for i := range n.Attrs {
			if n.Attrs[i].Value, err = substitute(n.Attrs[i].Value, names, values, hasVars); err != nil {
				firstErr = &SyntaxError{File: file, Line: n.Line, Msg: err.Error()}
				return
			}
		}
		if n.Text, err = substitute(n.Text, names, values, hasVars); err != nil {
			firstErr = &SyntaxError{File: file, Line: n.Line, Msg: err.Error()}
			return
		}
		for _, c := range n.Children {
			apply(c)
		}
	}
	for _, n := range roots {
		if n.Name == "var" {
			name, ok := n.Attr("name")
			if !ok {
				return nil, &SyntaxError{File: file, Line: n.Line, Msg: "<var> without a name attribute"}
			}
			v, err := substitute(n.Text, names, values, hasVars)
			if err != nil {
				return nil, &SyntaxError{File: file, Line: n.Line, Msg: err.Error()}
			}
			names = append(names, name)
			values = append(values, v)
			continue
		}
		apply(n)
		if firstErr != nil {
			return nil, firstErr
		}
		out = append(out, n)
	}
	return out, nil
}

func isVarEnd(c byte) bool {
	return c == '$' || c == '.' || c == '|' || c == ',' || c == ' '
}

// substitute replaces $NAME references. Short strings are left alone, as in Wazuh.
func substitute(s string, names, values []string, strict bool) (string, error) {
	if len(s) <= 2 || strings.IndexByte(s, '$') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) || s[i+1] == '(' {
			b.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		for j < len(s) && !isVarEnd(s[j]) {
			j++
		}
		name := s[i+1 : j]
		found := false
		for k := len(names) - 1; k >= 0; k-- {
			if strings.EqualFold(names[k], name) {
				b.WriteString(values[k])
				found = true
				break
			}
		}
		if !found {
			if strict && name != "" {
				return "", fmt.Errorf("unknown variable $%s", name)
			}
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String(), nil
}
