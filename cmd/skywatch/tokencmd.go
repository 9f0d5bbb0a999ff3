package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/skywatch-dev/skywatch/internal/api"
	"github.com/skywatch-dev/skywatch/internal/app"
	"github.com/skywatch-dev/skywatch/internal/config"
)

// cmdToken manages API tokens: create prints only the new token on stdout, so a
// script can capture it; the tokens file keeps only hashes.
func cmdToken(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (required): its data_dir and api.tokens_file say where tokens are kept")
	role := fs.String("role", "", "admin or read (create)")
	name := fs.String("name", "", "a label for the token (create)")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if *cfgPath == "" {
		fmt.Fprint(stderr, tokenUsage)
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		printErrors(stderr, err)
		return exitFailure
	}
	path, err := app.TokensPath(cfg)
	if err != nil {
		printErrors(stderr, err)
		return exitFailure
	}
	switch args[0] {
	case "create":
		r, err := api.ParseRole(*role)
		if err != nil || fs.NArg() > 0 {
			fmt.Fprintf(stderr, "skywatch token create: --role admin or --role read is required\n")
			return exitUsage
		}
		tok, info, err := api.CreateToken(path, r, *name)
		if err != nil {
			fmt.Fprintf(stderr, "skywatch token create: %v\n", err)
			return exitFailure
		}
		fmt.Fprintln(stdout, tok)
		fmt.Fprintf(stderr, "created %s token %s in %s; it is shown only now\n", info.Role, info.ID, path)
		return exitOK
	case "list":
		toks, err := api.ListTokens(path)
		if err != nil {
			fmt.Fprintf(stderr, "skywatch token list: %v\n", err)
			return exitFailure
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tNAME\tCREATED")
		for _, t := range toks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Name, t.Created.UTC().Format(time.RFC3339))
		}
		tw.Flush()
		return exitOK
	case "revoke":
		if fs.NArg() != 1 {
			fmt.Fprint(stderr, tokenUsage)
			return exitUsage
		}
		if err := api.RevokeToken(path, fs.Arg(0)); err != nil {
			if errors.Is(err, api.ErrTokenNotFound) {
				fmt.Fprintf(stderr, "skywatch token revoke: no token %s\n", fs.Arg(0))
			} else {
				fmt.Fprintf(stderr, "skywatch token revoke: %v\n", err)
			}
			return exitFailure
		}
		fmt.Fprintf(stderr, "revoked %s\n", fs.Arg(0))
		return exitOK
	}
	fmt.Fprint(stderr, tokenUsage)
	return exitUsage
}

const tokenUsage = `usage:
  skywatch token create --config FILE --role admin|read [--name NAME]   prints the new token
  skywatch token list   --config FILE
  skywatch token revoke --config FILE ID
`
