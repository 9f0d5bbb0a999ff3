package ruletest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
)

// CaseResult is the verdict on one test case (one log line judged).
type CaseResult struct {
	// Name locates the case: file:line and the case title.
	Name string
	// File and Line locate the judged log line.
	File   string
	Line   int
	Passed bool
	// Detail says what was expected and what came out, for failures.
	Detail string
	// Got is the (rule, level, decoder) triple the engine produced.
	Got Triple
}

// Triple is what Wazuh's runner compares: rule id, level and decoder name, each ""
// when absent.
type Triple struct {
	Rule, Level, Decoder string
}

// FindFiles expands files and folders into the test files they hold, sorted.
func FindFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("find rule tests: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && d.Name() == "ruleset" {
				return filepath.SkipDir
			}
			if !d.IsDir() && isTestFile(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find rule tests in %s: %w", p, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

func isTestFile(p string) bool {
	return strings.HasSuffix(p, ".ini") || isSuite(p)
}

// RunFile runs the cases of one test file (Wazuh .ini or skywatch YAML) against a
// fresh engine state per session or case.
func RunFile(rs *rules.Ruleset, path string) ([]CaseResult, error) {
	if isSuite(path) {
		res, err := RunSuiteFS(rs, os.DirFS(filepath.Dir(path)), filepath.Base(path), path)
		if err != nil {
			return nil, err
		}
		out := make([]CaseResult, len(res))
		for i := range res {
			out[i] = res[i].CaseResult
		}
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("run rule tests: %w", err)
	}
	defer f.Close()
	cases, err := ParseINI(f, path)
	if err != nil {
		return nil, err
	}
	var out []CaseResult
	for _, c := range cases {
		for _, session := range c.Sessions() {
			out = append(out, runSession(rs, c, session))
		}
	}
	return out, nil
}

// runSession feeds a session's lines to one fresh engine and judges the last line.
func runSession(rs *rules.Ruleset, c INICase, logs []INILog) CaseResult {
	eng := rules.NewEngine(rs, rules.EngineOptions{Logtest: true})
	m := eng.NewMatcher()
	var got Triple
	now := time.Now()
	for i, l := range logs {
		ev := event.Event{
			Log: []byte(l.Text), Location: "stdin", AgentID: event.LocalAgentID,
			Received: now, Origin: event.Origin{Source: "ruletest", Unit: c.File, Offset: int64(l.Line)},
		}
		res := m.Process(&ev)
		if i == len(logs)-1 {
			got = triple(m, res)
		}
	}
	last := logs[len(logs)-1]
	want := Triple{Rule: c.Rule, Level: c.Alert, Decoder: c.Decoder}
	// Wazuh's runner asks wazuh-logtest -U, which reports a match only when some
	// decoder and some rule matched, and the triple is the expected one.
	match := got.Rule != "" && got.Decoder != "" && got == want
	r := CaseResult{
		Name:   fmt.Sprintf("%s:%d [%s] %s", c.File, last.Line, c.Name, last.Key),
		File:   c.File,
		Line:   last.Line,
		Passed: match == last.Pass,
		Got:    got,
	}
	if !r.Passed {
		verb := "expected"
		if !last.Pass {
			verb = "expected anything but"
		}
		r.Detail = fmt.Sprintf("%s rule=%s level=%s decoder=%s, got rule=%s level=%s decoder=%s\nlog: %s",
			verb, want.Rule, want.Level, want.Decoder, got.Rule, got.Level, got.Decoder, last.Text)
	}
	return r
}

func triple(m *rules.Matcher, res rules.Result) Triple {
	var t Triple
	if res.Rule != nil {
		t.Rule = strconv.Itoa(res.Rule.ID)
		t.Level = strconv.Itoa(res.Rule.Level)
	}
	t.Decoder = m.Decoded().Decoder
	return t
}
