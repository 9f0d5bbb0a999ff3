package ruletest

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
)

// SuiteResult is a case's verdict plus what it exercised, for coverage checks.
type SuiteResult struct {
	CaseResult
	// Rule and NotRule are the case's expectations (0 when not set).
	Rule, NotRule int
}

// RunSuite runs every case of a skywatch rule-test suite.
func RunSuite(rs *rules.Ruleset, s *Suite) []SuiteResult {
	out := make([]SuiteResult, 0, len(s.Cases))
	for _, c := range s.Cases {
		out = append(out, runCase(rs, s.File, c))
	}
	return out
}

func runCase(rs *rules.Ruleset, file string, c Case) SuiteResult {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	eng := rules.NewEngine(rs, rules.EngineOptions{Now: func() time.Time { return clock }})
	m := eng.NewMatcher()
	var res rules.Result
	for i, ev := range c.Events {
		clock = now.Add(time.Duration(i*c.SecondsBetween) * time.Second)
		e := event.Event{Log: ev, Location: c.Location, AgentID: event.LocalAgentID, Received: clock,
			Origin: event.Origin{Source: "ruletest", Unit: file, Offset: int64(c.Line)}}
		res = m.Process(&e)
	}
	r := SuiteResult{Rule: c.Rule, NotRule: c.NotRule}
	r.Name = fmt.Sprintf("%s:%d %s", file, c.Line, c.Name)
	r.File, r.Line = file, c.Line
	r.Got = triple(m, res)
	var problems []string
	got := 0
	if res.Rule != nil {
		got = res.Rule.ID
	}
	if c.Rule != 0 && got != c.Rule {
		problems = append(problems, fmt.Sprintf("rule %d, want %d", got, c.Rule))
	}
	if c.NotRule != 0 && got == c.NotRule {
		problems = append(problems, fmt.Sprintf("rule %d fired, it must not", got))
	}
	if c.Level != nil && (res.Rule == nil || res.Rule.Level != *c.Level) {
		problems = append(problems, fmt.Sprintf("level %s, want %d", r.Got.Level, *c.Level))
	}
	if c.Alert != nil && res.Alert != *c.Alert {
		problems = append(problems, fmt.Sprintf("alert %v, want %v", res.Alert, *c.Alert))
	}
	if res.Rule != nil && (c.Description != "" || len(c.Mitre) > 0) {
		a := m.Alert(res)
		if c.Description != "" && a.Rule.Description != c.Description {
			problems = append(problems, fmt.Sprintf("description %q, want %q", a.Rule.Description, c.Description))
		}
		if len(c.Mitre) > 0 {
			var ids []string
			if a.Rule.Mitre != nil {
				ids = a.Rule.Mitre.ID
			}
			if !slices.Equal(sorted(ids), sorted(c.Mitre)) {
				problems = append(problems, fmt.Sprintf("mitre %v, want %v", ids, c.Mitre))
			}
		}
	}
	r.Passed = len(problems) == 0
	if !r.Passed {
		last := c.Events[len(c.Events)-1]
		if len(last) > 300 {
			last = append(last[:300:300], "..."...)
		}
		r.Detail = strings.Join(problems, "; ") + "\nevent: " + string(last)
	}
	return r
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// RunSuiteFS parses and runs the suite file name in fsys.
func RunSuiteFS(rs *rules.Ruleset, fsys fs.FS, name, display string) ([]SuiteResult, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read rule tests: %w", err)
	}
	s, err := ParseSuite(bytes.NewReader(data), display)
	if err != nil {
		return nil, err
	}
	return RunSuite(rs, s), nil
}

// SuiteFiles lists the suite files (.yaml, .yml) under dir in fsys, sorted.
func SuiteFiles(fsys fs.FS, dir string) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isSuite(p) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func isSuite(p string) bool {
	ext := path.Ext(p)
	return ext == ".yaml" || ext == ".yml"
}

// Coverage reports, per rule id, how many cases make it fire and how many are near
// misses that must not fire it.
type Coverage struct {
	Fires, NearMisses map[int]int
}

// CoverageOf tallies suite results.
func CoverageOf(results []SuiteResult) Coverage {
	c := Coverage{Fires: map[int]int{}, NearMisses: map[int]int{}}
	for _, r := range results {
		if r.Rule != 0 {
			c.Fires[r.Rule]++
		}
		if r.NotRule != 0 {
			c.NearMisses[r.NotRule]++
		}
	}
	return c
}
