package app

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/pipeline"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/store"
)

// generation is one configuration running: its rules, engine, sources, outputs
// and pipeline. A reload replaces the whole generation, so nothing of the old
// configuration lingers in the new one.
type generation struct {
	cfg     *config.Config
	rs      *rules.Ruleset
	eng     *rules.Engine
	state   *checkpoint.Store
	outputs []pipeline.Output
	sources []source.Source
	scheds  []*scheduled // service mode only, one per source
	p       *pipeline.Pipeline
	started time.Time
	// store is the alert store of the first store output, for the API.
	store *store.Store
	// ownStores are closed with the generation (run --once); in service mode the
	// service's stores outlive generations.
	ownStores *stores
	// stopping is closed when the generation is asked to stop.
	stopping chan struct{}
	stopOnce sync.Once
}

// signalStop tells components that wait (a full spool) to give up.
func (g *generation) signalStop() { g.stopOnce.Do(func() { close(g.stopping) }) }

// ruleProfileEvery is how often (one event in this many, per worker) the engine
// times each rule it tries, for the per-rule cost metrics.
const ruleProfileEvery = 1000

// prepare loads the rules, opens the checkpoint store and builds every component
// of cfg. On error everything opened is closed again.
func prepare(cfg *config.Config, opt Options, service bool, shared *stores) (*generation, error) {
	rs, err := LoadRules(cfg)
	if err != nil {
		return nil, err
	}
	if n := len(rs.Warnings); n > 0 {
		opt.Logger.Warn("ruleset loaded with warnings", "warnings", n, "hint", "skywatch rules check lists them")
	}
	state, err := checkpoint.Open(filepath.Join(cfg.DataDir, "state.db"))
	if err != nil {
		return nil, err
	}
	g := &generation{cfg: cfg, rs: rs, state: state, started: time.Now(), stopping: make(chan struct{})}
	if shared == nil {
		g.ownStores = newStores()
		shared = g.ownStores
	}
	env := Env{State: state, Logger: opt.Logger, ManagerName: cfg.ManagerName,
		MaxEventB: int(cfg.Engine.MaxEventBytes), Now: opt.Now, Once: !service, DataDir: cfg.DataDir,
		Shutdown: g.stopping, Version: opt.Version,
		OpenStore: func(path string, so store.Options) (*store.Store, error) {
			st, err := shared.get(path, so)
			if err == nil && g.store == nil {
				g.store = st
			}
			return st, err
		}}
	g.outputs, g.sources, err = build(cfg, env)
	if err != nil {
		g.close(opt)
		return nil, err
	}
	profile := 0
	if service {
		profile = ruleProfileEvery
	}
	g.eng = rules.NewEngine(rs, rules.EngineOptions{Now: opt.Now, ProfileEvery: profile})
	g.p = pipeline.New(pipeline.Config{Workers: cfg.Engine.Workers, Logger: opt.Logger}, detector{g.eng}, g.outputs)
	if service {
		var sem chan struct{}
		if n := cfg.Service.MaxConcurrentPasses; n > 0 {
			sem = make(chan struct{}, n)
		}
		for _, s := range g.sources {
			g.scheds = append(g.scheds, schedule(s, sem, opt.Logger))
		}
	}
	return g, nil
}

// run runs the pipeline until ctx ends (service) or every source is done (once).
func (g *generation) run(ctx context.Context) error {
	srcs := g.sources
	if g.scheds != nil {
		srcs = make([]source.Source, len(g.scheds))
		for i, s := range g.scheds {
			srcs[i] = s
		}
	}
	stop := context.AfterFunc(ctx, g.signalStop)
	defer stop()
	err := g.p.Run(ctx, srcs)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// close closes the sources that hold clients, the outputs and the checkpoint
// store.
func (g *generation) close(opt Options) {
	for _, src := range g.sources {
		if c, ok := src.(io.Closer); ok {
			if err := c.Close(); err != nil {
				opt.Logger.Error("close source", "source", src.Name(), "err", err)
			}
		}
	}
	for _, o := range g.outputs {
		if err := o.Sink.Close(); err != nil {
			opt.Logger.Error("close output", "output", o.Name, "err", err)
		}
	}
	if err := g.state.Close(); err != nil {
		opt.Logger.Error("close checkpoint store", "err", err)
	}
	if g.ownStores != nil {
		if err := g.ownStores.closeAll(); err != nil {
			opt.Logger.Error("close alert store", "err", err)
		}
	}
}
