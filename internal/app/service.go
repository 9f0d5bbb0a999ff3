package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/skywatch-dev/skywatch/internal/api"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/dashboard"
)

// ServeOptions control the service.
type ServeOptions struct {
	Options
	// Load reads and validates the configuration file; it is called at start and
	// on every reload.
	Load func() (*config.Config, error)
	// Reload receives a value for each reload request (SIGHUP).
	Reload <-chan struct{}
	// Listening, when set, is called with the HTTP listener's address once it is
	// open (tests use it to learn the port).
	Listening func(addr string)
}

// service is the running daemon: the current generation, the HTTP listener and
// the metrics registry, which outlive reloads.
type service struct {
	opt     ServeOptions
	log     *slog.Logger
	cur     atomic.Pointer[generation]
	ready   atomic.Bool
	metrics *metrics
	reg     *prometheus.Registry
	stores  *stores
	api     *api.Server
}

// Serve runs skywatch as a service until ctx ends: every source on its schedule,
// the HTTP listener (metrics, health, API) when api.listen is set, and a reload
// of configuration and rules on each Reload signal. An invalid new configuration
// is reported and the running one kept. Stopping is graceful and bounded by
// service.shutdown_timeout.
func Serve(ctx context.Context, opt ServeOptions) error {
	opt.Options = opt.Options.withDefaults()
	cfg, err := opt.Load()
	if err != nil {
		return err
	}
	sv := &service{opt: opt, log: opt.Logger, reg: prometheus.NewRegistry(), stores: newStores()}
	defer func() {
		if err := sv.stores.closeAll(); err != nil {
			sv.log.Error("close alert store", "err", err)
		}
	}()
	sv.metrics = &metrics{gen: sv.cur.Load, ready: sv.ready.Load, now: time.Now}
	sv.reg.MustRegister(sv.metrics, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	g, err := prepare(cfg, opt.Options, true, sv.stores)
	if err != nil {
		return err
	}
	stopHTTP, err := sv.startHTTP(cfg)
	if err != nil {
		g.close(opt.Options)
		return err
	}
	defer stopHTTP()
	for {
		next, err := sv.runGeneration(ctx, g)
		if next == nil {
			return err
		}
		g = next
	}
}

// runGeneration runs g until ctx ends (it returns nil, the stop error) or a reload
// succeeds (it returns the next generation, already prepared).
func (sv *service) runGeneration(ctx context.Context, g *generation) (*generation, error) {
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	sv.cur.Store(g)
	sv.ready.Store(true)
	stopProgress := startProgress(runCtx, sv.log, g.cfg.Service.ProgressInterval.Std(), g)
	go func() { done <- g.run(runCtx) }()
	sv.log.Info("service running", "sources", len(g.sources), "outputs", len(g.outputs), "rules", len(g.rs.All))
	stop := func() error {
		sv.ready.Store(false)
		cancel()
		stopProgress()
		return sv.waitStopped(g, done)
	}
	for {
		select {
		case <-ctx.Done():
			sv.log.Info("stopping: finishing work in flight", "timeout", g.cfg.Service.ShutdownTimeout.String())
			return nil, stop()
		case err := <-done:
			// The pipeline only ends on its own on a fatal error: start the same
			// configuration again after a pause rather than exit and lose the API.
			sv.ready.Store(false)
			cancel()
			stopProgress()
			g.close(sv.opt.Options)
			sv.log.Error("pipeline stopped; restarting it", "err", err, "in", restartDelay)
			select {
			case <-ctx.Done():
				return nil, nil
			case <-time.After(restartDelay):
			}
			ng, perr := prepare(g.cfg, sv.opt.Options, true, sv.stores)
			if perr != nil {
				return nil, fmt.Errorf("restart after pipeline failure: %w", perr)
			}
			return ng, nil
		case <-sv.opt.Reload:
			cfg, err := sv.check()
			if err != nil {
				sv.metrics.reloadFailures.Add(1)
				sv.log.Error("reload refused; the running configuration stays", "err", err)
				continue
			}
			if cfg.API.Listen != g.cfg.API.Listen {
				sv.log.Warn("api.listen changed; it takes effect at the next restart", "listening", g.cfg.API.Listen)
			}
			if err := stop(); err != nil {
				sv.log.Error("reload: old configuration did not stop cleanly", "err", err)
			}
			ng, err := prepare(cfg, sv.opt.Options, true, sv.stores)
			if err != nil {
				sv.metrics.reloadFailures.Add(1)
				sv.log.Error("reload failed while starting the new configuration; going back to the old one", "err", err)
				ng, err = prepare(g.cfg, sv.opt.Options, true, sv.stores)
				if err != nil {
					return nil, fmt.Errorf("reload: restart the old configuration: %w", err)
				}
				return ng, nil
			}
			sv.metrics.reloads.Add(1)
			if sv.api != nil {
				if err := sv.api.Reload(); err != nil {
					sv.log.Error("reload: api tokens", "err", err)
				}
			}
			sv.log.Info("configuration reloaded")
			return ng, nil
		}
	}
}

// check loads the new configuration and its rules without touching the running
// generation, so a broken file or rule is refused before anything stops.
func (sv *service) check() (*config.Config, error) {
	cfg, err := sv.opt.Load()
	if err != nil {
		return nil, err
	}
	if cfg.API.Listen != "" {
		if _, err := APIConfig(cfg); err != nil {
			return nil, err
		}
	}
	if _, err := LoadRules(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// waitStopped waits for g's pipeline to finish its work in flight, at most the
// shutdown timeout, then closes g.
func (sv *service) waitStopped(g *generation, done <-chan error) error {
	timeout := g.cfg.Service.ShutdownTimeout.Std()
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	select {
	case err := <-done:
		g.close(sv.opt.Options)
		return err
	case <-timer:
		// Closing outputs under a running pipeline would race with its writes;
		// what was not acknowledged is read again on the next start.
		return fmt.Errorf("stop: work in flight not finished after %s; unacknowledged data will be read again on the next start", timeout)
	}
}

// startHTTP serves the API, metrics and health checks on api.listen, if set.
func (sv *service) startHTTP(cfg *config.Config) (stop func(), err error) {
	if cfg.API.Listen == "" {
		return func() {}, nil
	}
	apiCfg, err := APIConfig(cfg)
	if err != nil {
		return nil, err
	}
	b := &apiBackend{sv: sv}
	srv, err := api.New(apiCfg, api.Options{DataDir: cfg.DataDir, Alerts: b, Rules: b, Sources: b, Logtester: b, Logger: sv.log})
	if err != nil {
		return nil, err
	}
	sv.api = srv
	for pattern, h := range sv.handlers() {
		srv.Handle(pattern, h)
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	if sv.opt.Listening != nil {
		sv.opt.Listening(srv.Addr().String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Run(ctx); err != nil {
			sv.log.Error("api server stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// handlers are /metrics, /healthz and /readyz, and the dashboard at / and
// /ui/. They carry no secrets and take no input, so they need no token (the
// dashboard's pages hold no data: they call the API with the user's token);
// bind api.listen to a private address.
func (sv *service) handlers() map[string]http.Handler {
	ui := dashboard.Handler()
	return map[string]http.Handler{
		"GET /{$}":       ui,
		dashboard.Prefix: ui,
		"GET /metrics":   promhttp.HandlerFor(sv.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(sv.log.Handler(), slog.LevelError)}),
		"GET /healthz": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ok")
		}),
		"GET /readyz": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if !sv.ready.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, "not ready: starting, reloading or stopping")
				return
			}
			fmt.Fprintln(w, "ready")
		}),
	}
}
