package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/skywatch-dev/skywatch/internal/app"
	"github.com/skywatch-dev/skywatch/internal/config"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (required)")
	once := fs.Bool("once", false, "process everything pending in every source, then exit")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file (for performance work)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: skywatch run --config FILE [--once]")
		return exitUsage
	}
	logger, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "skywatch run: %v\n", err)
		return exitUsage
	}
	load := func() (*config.Config, error) {
		cfg, err := config.Load(*cfgPath)
		if err == nil {
			err = cfg.Validate()
		}
		return cfg, err
	}
	cfg, err := load()
	if err != nil {
		n := printErrors(stderr, err)
		fmt.Fprintf(stderr, "skywatch run: %d configuration errors\n", n)
		return exitFailure
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "skywatch run: %v\n", err)
			return exitFailure
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*once {
		return serve(ctx, load, logger, stderr)
	}
	sum, err := app.Run(ctx, cfg, app.Options{Once: true, Logger: logger, Version: version})
	printSummary(stdout, sum)
	if err != nil {
		n := printErrors(stderr, err)
		fmt.Fprintf(stderr, "skywatch run: %d errors\n", n)
		return exitFailure
	}
	return exitOK
}

// serve runs the service until SIGTERM/SIGINT; SIGHUP reloads configuration and
// rules.
func serve(ctx context.Context, load func() (*config.Config, error), logger *slog.Logger, stderr io.Writer) int {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default: // a reload is already pending
			}
		}
	}()
	err := app.Serve(ctx, app.ServeOptions{Options: app.Options{Logger: logger, Version: version}, Load: load, Reload: reload})
	if err != nil {
		n := printErrors(stderr, err)
		fmt.Fprintf(stderr, "skywatch run: %d errors\n", n)
		return exitFailure
	}
	return exitOK
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("bad --log-format %q (text or json)", format)
}

// printSummary prints what a run did: events, alerts by level, top rules.
func printSummary(w io.Writer, s app.Summary) {
	secs := s.Duration.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(s.Events) / secs
	}
	fmt.Fprintf(w, "events read: %d in %.2fs (%.0f events/s)\n", s.Events, secs, rate)
	for name, st := range s.Sources {
		fmt.Fprintf(w, "  source %s: %d files/objects, %d events, %d errors, %d already done\n",
			name, st.Units, st.Events, st.Errors, st.Skipped)
	}
	fmt.Fprintf(w, "alerts: %d\n", s.Alerts)
	var levels []string
	for lvl := len(s.ByLevel) - 1; lvl >= 0; lvl-- {
		if n := s.ByLevel[lvl]; n > 0 {
			levels = append(levels, fmt.Sprintf("level %d: %d", lvl, n))
		}
	}
	if len(levels) > 0 {
		fmt.Fprintf(w, "  by level: %s\n", strings.Join(levels, ", "))
	}
	if len(s.TopRules) > 0 {
		fmt.Fprintln(w, "top rules:")
		for i, r := range s.TopRules {
			if i == 10 {
				break
			}
			fmt.Fprintf(w, "  %6d  rule %-7s level %-2d %s\n", r.Count, r.ID, r.Level, r.Description)
		}
	}
	if s.JSONErrors > 0 || s.FieldsDropped > 0 {
		fmt.Fprintf(w, "malformed JSON events: %d, fields over the per-event limit: %d\n", s.JSONErrors, s.FieldsDropped)
	}
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
