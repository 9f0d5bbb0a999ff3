package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/pipeline"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Options control one Run.
type Options struct {
	// Once processes what every source has pending, then returns.
	Once   bool
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Version is skywatch's version, for outputs that report it.
	Version string
}

// RuleCount is how many alerts one rule raised.
type RuleCount struct {
	ID          string
	Level       int
	Description string
	Count       int64
}

// Summary is what a run did.
type Summary struct {
	Events        int64
	Alerts        int64
	ByLevel       [17]int64
	TopRules      []RuleCount
	Duration      time.Duration
	Sources       map[string]source.Stats
	FieldsDropped int64
	JSONErrors    int64
	RuleWarnings  int
}

// LoadRules loads the configured ruleset with the engine options.
func LoadRules(cfg *config.Config) (*rules.Ruleset, error) {
	opt := rules.Options{
		LogAlertLevel: cfg.Engine.LogAlertLevel,
		MemorySize:    cfg.Engine.MemorySize,
		MaxFields:     cfg.Engine.MaxFields,
		ManagerName:   cfg.ManagerName,
	}
	return wazuhxml.Load(cfg.Rules, opt, ruleset.FS())
}

// Run builds everything the configuration describes and runs it once: until every
// source has read what is pending (queue sources drain), or ctx ends.
func Run(ctx context.Context, cfg *config.Config, opt Options) (Summary, error) {
	start := time.Now()
	opt = opt.withDefaults()
	var sum Summary
	g, err := prepare(cfg, opt, false, nil)
	if err != nil {
		return sum, err
	}
	defer g.close(opt)
	stopProgress := startProgress(ctx, opt.Logger, cfg.Service.ProgressInterval.Std(), g)
	runErr := g.run(ctx)
	stopProgress()
	sum = summarize(g.p.Stats().Snapshot(), g.rs, g.eng, g.sources)
	sum.RuleWarnings = len(g.rs.Warnings)
	sum.Duration = time.Since(start)
	return sum, runErr
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// build constructs every output and source, reporting all configuration errors.
func build(cfg *config.Config, env Env) ([]pipeline.Output, []source.Source, error) {
	var errs []error
	var outputs []pipeline.Output
	for _, oc := range cfg.Outputs {
		f, ok := outputTypes[oc.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("%s:%d: %s: unknown output type %q (known: %v)", oc.File, oc.Line, oc.Label(), oc.Type, OutputTypes()))
			continue
		}
		o, err := f(oc, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		outputs = append(outputs, o)
	}
	var sources []source.Source
	for _, sc := range cfg.Sources {
		f, ok := sourceTypes[sc.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("%s:%d: %s: unknown source type %q (known: %v)", sc.File, sc.Line, sc.Label(), sc.Type, SourceTypes()))
			continue
		}
		s, err := f(sc, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sources = append(sources, s)
	}
	return outputs, sources, errors.Join(errs...)
}

func summarize(snap pipeline.Snapshot, rs *rules.Ruleset, eng *rules.Engine, sources []source.Source) Summary {
	s := Summary{Events: snap.Events, Alerts: snap.Alerts, ByLevel: snap.ByLevel, Sources: map[string]source.Stats{}}
	st := eng.Stats()
	s.FieldsDropped, s.JSONErrors = st.FieldsDropped, st.JSONErrors
	for id, n := range snap.ByRule {
		rc := RuleCount{ID: id, Count: n}
		var rid int
		if _, err := fmt.Sscan(id, &rid); err == nil {
			if r, ok := rs.ByID[rid]; ok {
				rc.Level, rc.Description = r.Level, r.DescText
			}
		}
		s.TopRules = append(s.TopRules, rc)
	}
	sort.Slice(s.TopRules, func(i, j int) bool {
		if s.TopRules[i].Count != s.TopRules[j].Count {
			return s.TopRules[i].Count > s.TopRules[j].Count
		}
		return s.TopRules[i].ID < s.TopRules[j].ID
	})
	for _, src := range sources {
		if r, ok := src.(source.StatsReporter); ok {
			s.Sources[src.Name()] = r.Stats()
		}
	}
	return s
}
