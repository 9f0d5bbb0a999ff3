package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/ruletest"
)

// printErrors prints each error of a joined error on its own line.
func printErrors(w io.Writer, err error) int {
	n := 0
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		n++
		fmt.Fprintf(w, "error: %v\n", e)
	}
	walk(err)
	return n
}

func cmdRulesCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("q", false, "do not list warnings")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	rs, err := loadRules(fs.Args(), rules.Options{ManagerName: managerName()}, io.Discard, false)
	if err != nil {
		n := printErrors(stderr, err)
		fmt.Fprintf(stderr, "skywatch rules check: %d errors\n", n)
		return exitFailure
	}
	if !*quiet {
		for _, w := range rs.Warnings {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
	}
	fmt.Fprintf(stdout, "ok: %d rules, %d decoders, %d warnings\n",
		len(rs.All), len(rs.DecodersPname)+len(rs.DecodersNoPname), len(rs.Warnings))
	return exitOK
}

func cmdRulesTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var paths multiFlag
	fs.Var(&paths, "rules", "rules, decoders and lists: file, folder or 'builtin' (repeatable)")
	verbose := fs.Bool("v", false, "list every case")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	var tests []string
	builtinTests := false
	for _, a := range fs.Args() {
		if a == wazuhxml.BuiltinName {
			builtinTests = true // the embedded ruleset's own tests
			continue
		}
		tests = append(tests, a)
	}
	if builtinTests && len(paths) == 0 {
		paths = append(paths, wazuhxml.BuiltinName)
	}
	rulePaths := append([]string(nil), paths...)
	// A Wazuh ruleset folder carries its tests and the extra rules they need.
	for _, p := range paths {
		if st, err := os.Stat(filepath.Join(p, "tests")); err == nil && st.IsDir() {
			if len(fs.Args()) == 0 {
				tests = append(tests, filepath.Join(p, "tests"))
			}
			if st, err := os.Stat(filepath.Join(p, "tests", "ruleset")); err == nil && st.IsDir() {
				rulePaths = append(rulePaths, filepath.Join(p, "tests", "ruleset"))
			}
		}
	}
	if len(tests) == 0 && !builtinTests {
		fmt.Fprintln(stderr, "skywatch rules test: no test files given (a file, a folder, or 'builtin')")
		return exitUsage
	}
	opt := rules.Options{ManagerName: managerName()}
	if len(rulePaths) > len(paths) {
		// Wazuh's runner (runtests.py) feeds the Windows event-channel cases as JSON
		// after editing the event-channel base rule; do the same for its test suite.
		opt.EventChannelAsJSON = true
	}
	rs, err := loadRules(rulePaths, opt, stderr, false)
	if err != nil {
		n := printErrors(stderr, err)
		fmt.Fprintf(stderr, "skywatch rules test: %d errors loading rules\n", n)
		return exitFailure
	}
	var files []string
	if len(tests) > 0 {
		files, err = ruletest.FindFiles(tests)
	}
	if err != nil {
		fmt.Fprintf(stderr, "skywatch rules test: %v\n", err)
		return exitFailure
	}
	total, failed := 0, 0
	report := func(res []ruletest.CaseResult) {
		for _, c := range res {
			total++
			if c.Passed {
				if *verbose {
					fmt.Fprintf(stdout, "ok   %s\n", c.Name)
				}
				continue
			}
			failed++
			fmt.Fprintf(stdout, "FAIL %s\n     %s\n", c.Name, strings.ReplaceAll(c.Detail, "\n", "\n     "))
		}
	}
	if builtinTests {
		res, err := builtinSuites(rs)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			failed++
		}
		report(res)
	}
	for _, f := range files {
		res, err := ruletest.RunFile(rs, f)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			failed++
			continue
		}
		report(res)
	}
	fmt.Fprintf(stdout, "%d/%d cases passed\n", total-failed, total)
	if failed > 0 {
		return exitFailure
	}
	return exitOK
}

// builtinSuites runs the tests embedded with the builtin ruleset.
func builtinSuites(rs *rules.Ruleset) ([]ruletest.CaseResult, error) {
	fsys := ruleset.FS()
	names, err := ruletest.SuiteFiles(fsys, "tests")
	if err != nil {
		return nil, err
	}
	var out []ruletest.CaseResult
	for _, n := range names {
		res, err := ruletest.RunSuiteFS(rs, fsys, n, "builtin:"+n)
		if err != nil {
			return out, err
		}
		for _, r := range res {
			out = append(out, r.CaseResult)
		}
	}
	return out, nil
}
