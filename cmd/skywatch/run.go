package main

import (
	"fmt"
	"io"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	_ = stdout
	fmt.Fprintf(stderr, "skywatch run: %v\n", errNotImplemented)
	return exitFailure
}
