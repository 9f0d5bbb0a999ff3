package wregex

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// xmlElement is one leaf element of a ruleset file, text taken verbatim (the
// Wazuh XML reader decodes no entities).
type xmlElement struct {
	file, tag, typ, text string
}

var (
	xmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	xmlLeaf    = regexp.MustCompile(`<(\w+)((?:\s+[\w.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*>((?:[^<\\]|\\[\s\S])*)</(\w+)\s*>`)
	xmlType    = regexp.MustCompile(`\stype\s*=\s*["']([^"']*)["']`)
	xmlVarDef  = regexp.MustCompile(`<var\s+name\s*=\s*"([^"]+)"\s*>([^<]*)</var>`)
)

// corpusElements extracts the leaf elements of every rule and decoder file,
// with <var> substitution applied the way the Wazuh XML reader does it
// ($NAME ends at "$ . | , space" or the end of the text).
func corpusElements(t *testing.T) []xmlElement {
	rs := sharedcorpus.Path(t, "corpus", "wazuh", "ruleset")
	var files []string
	for _, sub := range []string{"rules", "decoders"} {
		m, err := filepath.Glob(filepath.Join(rs, sub, "*.xml"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) < 100 {
		t.Fatalf("found only %d ruleset files under %s", len(files), rs)
	}
	var out []xmlElement
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := xmlComment.ReplaceAllString(string(b), "")
		vars := map[string]string{}
		for _, m := range xmlVarDef.FindAllStringSubmatch(text, -1) {
			vars[strings.ToLower(m[1])] = m[2]
		}
		for _, m := range xmlLeaf.FindAllStringSubmatch(text, -1) {
			if m[1] != m[4] || m[1] == "var" {
				continue
			}
			typ := ""
			if tm := xmlType.FindStringSubmatch(m[2]); tm != nil {
				typ = strings.ToLower(tm[1])
			}
			out = append(out, xmlElement{filepath.Base(f), strings.ToLower(m[1]), typ, expandVars(m[3], vars)})
		}
	}
	return out
}

func expandVars(s string, vars map[string]string) string {
	if len(vars) == 0 || !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		for j < len(s) && !strings.ContainsRune("$.|, ", rune(s[j])) {
			j++
		}
		if v, ok := vars[strings.ToLower(s[i+1:j])]; ok && j > i+1 {
			b.WriteString(v)
			i = j - 1
			continue
		}
		b.WriteByte('$')
	}
	return b.String()
}

// osRegexDefault lists the elements whose default type is OS_Regex.
var osRegexDefault = map[string]bool{"regex": true, "prematch": true, "field": true, "if_matched_regex": true}

func TestCorpusPatternsCompile(t *testing.T) {
	elems := corpusElements(t)
	var nRegex, nPCRE, nMatch int
	for _, e := range elems {
		switch {
		case e.typ == "pcre2":
			nPCRE++
			if _, err := CompilePCRE(e.text); err != nil {
				t.Errorf("%s <%s type=pcre2>: %v", e.file, e.tag, err)
			}
		case e.typ == "osregex" || (e.typ != "osmatch" && osRegexDefault[e.tag]):
			nRegex++
			// Every stock pattern compiles in Wazuh 4.14.7 (a compile
			// error would stop analysisd), so none may fail here.
			if _, err := CompileRegex(e.text); err != nil {
				t.Errorf("%s <%s>: %v", e.file, e.tag, err)
			}
		case e.typ == "osmatch" || e.tag == "match":
			nMatch++
			if _, err := CompileMatch(e.text); err != nil {
				t.Errorf("%s <%s>: %v", e.file, e.tag, err)
			}
		}
	}
	t.Logf("checked %d OS_Regex, %d PCRE2 and %d OS_Match patterns", nRegex, nPCRE, nMatch)
	if nRegex < 1000 || nPCRE < 400 {
		t.Fatalf("extraction found too few patterns (%d OS_Regex, %d PCRE2); the extractor is broken", nRegex, nPCRE)
	}
}

// corpusLogs returns sample log lines from the ruleset's test cases, taking
// every step-th one so the sample spans all log sources.
func corpusLogs(t *testing.T, want int) [][]byte {
	rs := sharedcorpus.Path(t, "corpus", "wazuh", "ruleset")
	files, err := filepath.Glob(filepath.Join(rs, "tests", "*.ini"))
	if err != nil || len(files) == 0 {
		t.Skipf("SKIP: no ruleset test cases under %s", rs)
	}
	sort.Strings(files)
	var all [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if _, ev, ok := strings.Cut(line, " = "); ok && strings.HasPrefix(line, "log ") {
				all = append(all, []byte(ev))
			}
		}
	}
	if len(all) < want {
		return all
	}
	step := len(all) / want
	var out [][]byte
	for i := 0; i < len(all) && len(out) < want; i += step {
		out = append(out, all[i])
	}
	return out
}

// TestCorpusDifferential runs every stock OS_Regex pattern over real log
// lines through both the fast matchers and the reference.
func TestCorpusDifferential(t *testing.T) {
	elems := corpusElements(t)
	n := 120
	if testing.Short() {
		n = 15
	}
	logs := corpusLogs(t, n)
	seen := map[string]bool{}
	matched := 0
	for _, e := range elems {
		if !(e.typ == "osregex" || (e.typ != "osmatch" && e.typ != "pcre2" && osRegexDefault[e.tag])) || seen[e.text] {
			continue
		}
		seen[e.text] = true
		r, err := CompileRegex(e.text)
		if err != nil {
			continue
		}
		for _, l := range logs {
			if d := diffOne(r, l); d != "" {
				t.Fatalf("%s: %s", e.file, d)
			}
			if r.Match(l) {
				matched++
			}
		}
	}
	t.Logf("%d distinct patterns x %d log lines, %d matches", len(seen), len(logs), matched)
	if matched == 0 {
		t.Fatal("no pattern matched any log line; the sample is broken")
	}
}

// TestCorpusPCRE runs every stock PCRE2 pattern over real log lines and
// checks Match, Captures and the prefilter agree.
func TestCorpusPCRE(t *testing.T) {
	elems := corpusElements(t)
	logs := corpusLogs(t, 60)
	hits := 0
	for _, e := range elems {
		if e.typ != "pcre2" {
			continue
		}
		p, err := CompilePCRE(e.text)
		if err != nil {
			t.Fatalf("%s: %v", e.file, err)
		}
		bare := &PCRE{src: p.src, mapped: p.mapped, utf: p.utf, std: p.std, bt: p.bt, ngroups: p.ngroups}
		for _, l := range logs {
			ok := p.Match(l)
			_, _, cok := p.Captures(l, nil)
			if ok != cok || ok != bare.Match(l) {
				t.Fatalf("%s: %q on %q: Match %v, Captures %v, without prefilter %v", e.file, e.text, l, ok, cok, bare.Match(l))
			}
			if ok {
				hits++
			}
		}
	}
	if hits == 0 {
		t.Fatal("no PCRE2 pattern matched any log line; the sample is broken")
	}
}
