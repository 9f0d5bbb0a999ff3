package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
)

// loadRules loads --rules paths ("builtin" when none are given) and prints the
// loader's warnings once, to stderr.
func loadRules(paths []string, opt rules.Options, stderr io.Writer, verbose bool) (*rules.Ruleset, error) {
	if len(paths) == 0 {
		paths = []string{wazuhxml.BuiltinName}
	}
	rs, err := wazuhxml.Load(paths, opt, ruleset.FS())
	if err != nil {
		return nil, err
	}
	if verbose {
		for _, w := range rs.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
	} else if n := len(rs.Warnings); n > 0 {
		fmt.Fprintf(stderr, "skywatch: %d ruleset warnings (run 'skywatch rules check' to list them)\n", n)
	}
	return rs, nil
}

func managerName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "skywatch"
}

func cmdLogtest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("logtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var paths multiFlag
	fs.Var(&paths, "rules", "rules, decoders and lists: file, folder or 'builtin' (repeatable)")
	location := fs.String("location", "stdin", "the events' location, as Wazuh's -l (e.g. Wazuh-AWS)")
	asJSON := fs.Bool("json", false, "print one JSON object per input line")
	verbose := fs.Bool("v", false, "print decoded fields and the rules tried")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	opt := rules.Options{ManagerName: managerName()}
	rs, err := loadRules(paths, opt, stderr, *verbose)
	if err != nil {
		fmt.Fprintf(stderr, "skywatch logtest: %v\n", err)
		return exitFailure
	}
	eng := rules.NewEngine(rs, rules.EngineOptions{Logtest: true})
	m := eng.NewMatcher()
	m.KeepAllFields()
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	in := bufio.NewReaderSize(stdin, 64<<10)
	var buf []byte
	for n := int64(1); ; n++ {
		line, err := readLine(in)
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "skywatch logtest: read stdin: %v\n", err)
			return exitFailure
		}
		if line == nil && errors.Is(err, io.EOF) {
			return exitOK
		}
		ev := event.Event{
			Log: line, Location: *location, AgentID: event.LocalAgentID,
			AgentName: opt.ManagerName, Received: time.Now(),
			Origin: event.Origin{Source: "logtest", Unit: "stdin", Offset: n},
		}
		if *verbose {
			m.Trace = func(r *rules.Rule, ok bool) {
				if ok {
					fmt.Fprintf(out, "  rule %d matched\n", r.ID)
				} else if *verbose {
					fmt.Fprintf(out, "  trying rule %d ... no\n", r.ID)
				}
			}
		}
		res := m.Process(&ev)
		a := m.Alert(res)
		if *asJSON {
			buf = append(buf[:0], `{"output":`...)
			buf = a.AppendJSON(buf)
			buf = append(buf, `,"alert":`...)
			if res.Alert {
				buf = append(buf, "true}\n"...)
			} else {
				buf = append(buf, "false}\n"...)
			}
			out.Write(buf)
		} else {
			printHuman(out, m, res, a, *verbose)
		}
		if errors.Is(err, io.EOF) {
			return exitOK
		}
	}
}

// readLine returns the next line without its line ending, however long it is.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	if len(line) == 0 {
		return nil, err
	}
	line = trimEOL(line)
	if err != nil && !errors.Is(err, io.EOF) {
		return line, err
	}
	return line, err
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
