// Command skywatch watches cloud accounts for security threats with Wazuh-compatible
// rules. See the README for the command line.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: skywatch <command> [flags]

commands:
  run --config FILE [--once]       run the service (or one pass with --once)
  logtest [--rules P]... [--location L] [--json] [-v]
                                   match events read from stdin, one per line
  rules check [PATH]...            load rules, decoders and lists; report every error
  rules test [--rules P]... [PATH]...
                                   run rule test cases (.ini and skywatch YAML)
  lists import [--csv] [--column C] [--value-column C] [--value V] -o OUT FEED...
                                   turn address feeds into a CDB list
  token create|list|revoke --config FILE ...
                                   manage API tokens (create prints only the token)
  version                          print the version
`

// run dispatches a command line; it is main without the process exit, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "logtest":
		return cmdLogtest(args[1:], stdin, stdout, stderr)
	case "rules":
		if len(args) < 2 {
			fmt.Fprint(stderr, usage)
			return exitUsage
		}
		switch args[1] {
		case "check":
			return cmdRulesCheck(args[2:], stdout, stderr)
		case "test":
			return cmdRulesTest(args[2:], stdout, stderr)
		}
	case "lists":
		if len(args) >= 2 && args[1] == "import" {
			return cmdListsImport(args[2:], stdin, stdout, stderr)
		}
	case "token":
		return cmdToken(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "skywatch %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "skywatch: unknown command %q\n\n%s", strings.Join(args, " "), usage)
	return exitUsage
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}
