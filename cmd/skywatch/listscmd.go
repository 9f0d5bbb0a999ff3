package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/skywatch-dev/skywatch/internal/rules/cdb"
)

// cmdListsImport turns threat-intelligence address feeds into a CDB list that
// <list lookup="address_match_key"> rules can use.
func cmdListsImport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lists import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opt cdb.ImportOptions
	fs.BoolVar(&opt.CSV, "csv", false, "read the feeds as CSV")
	fs.StringVar(&opt.Column, "column", "", "CSV column of the address: 1-based number or header name (default 1)")
	fs.StringVar(&opt.ValueColumn, "value-column", "", "CSV column whose text becomes each entry's value")
	fs.StringVar(&opt.Value, "value", "", `value of every entry without --value-column (default "imported")`)
	out := fs.String("o", "", "list file to write (required; replaced atomically)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *out == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: skywatch lists import [--csv] [--column C] [--value-column C] [--value V] -o OUT FEED...  (FEED '-' is stdin)")
		return exitUsage
	}
	var list bytes.Buffer
	var total cdb.ImportReport
	for _, name := range fs.Args() {
		in := stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(stderr, "skywatch lists import: %v\n", err)
				return exitFailure
			}
			defer f.Close()
			in = f
		}
		// Feeds are imported one by one and concatenated: the list format keeps
		// the first value of a repeated key, so earlier feeds win.
		rep, err := cdb.ImportAddresses(in, name, &list, opt)
		if err != nil {
			fmt.Fprintf(stderr, "skywatch lists import: %v\n", err)
			return exitFailure
		}
		total.Entries += rep.Entries
		total.Expanded += rep.Expanded
		total.Skipped = append(total.Skipped, rep.Skipped...)
	}
	for _, s := range total.Skipped {
		fmt.Fprintf(stderr, "skipped %s\n", s)
	}
	if err := writeAtomic(*out, list.Bytes()); err != nil {
		fmt.Fprintf(stderr, "skywatch lists import: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "wrote %s: %d keys (%d ranges expanded), %d lines skipped\n",
		*out, total.Entries, total.Expanded, len(total.Skipped))
	return exitOK
}

// writeAtomic replaces path with data so a running service reloading the list
// never reads half a file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
