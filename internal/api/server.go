// Package api is skywatch's REST API: alert search and statistics over the alert
// store, the loaded rules, the sources' status and logtest, under /api/v1/, with
// bearer tokens of two roles (read, admin) kept hashed in a tokens file. The
// service mounts its own unauthenticated handlers (metrics, health) on the same
// listener with Server.Handle.
package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options are the server's collaborators. A nil one turns its routes into 503
// answers ("not available"): the store is nil when no store output is configured.
// Pass nil interfaces, not typed nil pointers.
type Options struct {
	// DataDir is where the tokens file is when tokens_file is not set.
	DataDir string
	// Alerts answers the /alerts routes (*store.Store implements it).
	Alerts AlertStore
	// Rules lists the loaded rules.
	Rules RuleCatalog
	// Sources reports the sources' status.
	Sources SourceStatus
	// Logtester runs events through the loaded rules.
	Logtester Logtester
	// Logger receives the request log and problems; slog.Default when nil.
	Logger *slog.Logger
	// Now is the clock of the logtest rate limit; time.Now when nil.
	Now func() time.Time
}

// Server is the API's HTTP server.
type Server struct {
	cfg      Config
	opt      Options
	log      *slog.Logger
	auth     *authenticator
	root     *http.ServeMux // /api/ and what Handle mounts
	api      *http.ServeMux
	routes   []route
	limiter  *rateLimiter
	tlsCfg   *tls.Config
	cors     map[string]bool
	httpSrv  *http.Server
	mu       sync.Mutex
	ln       net.Listener
	runCalls int
}

// route is one API operation. Its path is in http.ServeMux syntax, which is also
// OpenAPI's path template syntax.
type route struct {
	method, path string
	role         Role
	maxBody      int64
	h            http.HandlerFunc
}

// New checks cfg, loads the tokens file and the TLS key pair, and builds the
// routes. It does not listen yet: see Start and Run.
func New(cfg Config, opt Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{
		cfg: cfg, opt: opt, log: opt.Logger,
		root: http.NewServeMux(), api: http.NewServeMux(),
		limiter: newRateLimiter(cfg.LogtestRate, cfg.LogtestBurst, opt.Now),
		cors:    map[string]bool{},
	}
	for _, o := range cfg.CORSOrigins {
		s.cors[o] = true
	}
	tokens := cfg.TokensPath(opt.DataDir)
	auth, err := newAuthenticator(tokens, s.log)
	if err != nil {
		return nil, fmt.Errorf("api: tokens file: %w", err)
	}
	s.auth = auth
	if cfg.TLS() {
		pair, err := tls.LoadX509KeyPair(string(cfg.CertFile), string(cfg.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("api: load TLS key pair %s, %s: %w", cfg.CertFile, cfg.KeyFile, err)
		}
		s.tlsCfg = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	s.routes = s.buildRoutes()
	s.mount()
	s.httpSrv = &http.Server{
		Handler:           s.root,
		TLSConfig:         s.tlsCfg,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout.Std(),
		ReadTimeout:       cfg.ReadTimeout.Std(),
		WriteTimeout:      cfg.WriteTimeout.Std(),
		IdleTimeout:       cfg.IdleTimeout.Std(),
		MaxHeaderBytes:    int(cfg.MaxHeaderBytes),
		// TLS handshake failures and the like: noise from scanners, kept at debug.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if n := auth.count(); n == 0 {
		s.log.Warn("api: no API tokens yet: every request is refused with 401; create one with "+
			"'skywatch token create --config <your config file> --role read' (or --role admin)", "file", tokens)
	}
	if !cfg.TLS() && !loopback(cfg.Listen) {
		s.log.Warn("api: serving plain HTTP on a non-loopback address: tokens cross the network in clear; set cert_file and key_file",
			"listen", cfg.Listen)
	}
	return s, nil
}

// loopback reports whether listen names a loopback host only.
func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Handle mounts h at pattern on the API's listener without authentication, for
// the service's /metrics, /healthz and /readyz. Patterns under /api/ are refused
// (it panics, as http.ServeMux does for a bad pattern): they would bypass the
// tokens. It may be called before or while the server runs.
func (s *Server) Handle(pattern string, h http.Handler) {
	path := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		path = strings.TrimLeft(p, " ")
	}
	if i := strings.IndexByte(path, '/'); i > 0 {
		path = path[i:] // a host-qualified pattern
	}
	if path == "/" || path == "/api" || strings.HasPrefix(path, "/api/") {
		panic(fmt.Sprintf("api: Handle(%q): pattern overlaps the authenticated API", pattern))
	}
	s.root.Handle(pattern, h)
}

// RouteInfo describes one API operation.
type RouteInfo struct {
	Method string
	// Path is the path template, such as /api/v1/alerts/{id}.
	Path string
	// Role is the least role a token needs.
	Role Role
}

// Routes lists the API's operations, for documentation and tests.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, rt := range s.routes {
		out[i] = RouteInfo{Method: rt.method, Path: rt.path, Role: rt.role}
	}
	return out
}

// Reload re-reads the tokens file now (for SIGHUP); the server also notices a
// changed file by itself at the next request.
func (s *Server) Reload() error { return s.auth.Reload() }

// Start binds the listen address, so that a port already in use is reported
// before the service goes on.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address (useful with port 0), or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Run serves until ctx is cancelled (calling Start first if needed), then stops
// accepting connections and gives requests in progress shutdown_timeout to
// finish. It returns nil after a clean stop. A Server runs once.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.runCalls++
	first, ln := s.runCalls == 1, s.ln
	s.mu.Unlock()
	if !first {
		return errors.New("api: Run called twice")
	}
	scheme := "http"
	if s.tlsCfg != nil {
		scheme = "https"
	}
	s.log.Info("api: serving", "addr", scheme+"://"+ln.Addr().String()+"/api/v1/")
	errc := make(chan error, 1)
	go func() {
		if s.tlsCfg != nil {
			errc <- s.httpSrv.ServeTLS(ln, "", "")
		} else {
			errc <- s.httpSrv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout.Std())
	defer cancel()
	err := s.httpSrv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = s.httpSrv.Close()
		return fmt.Errorf("api: shutdown: %w", err)
	}
	return nil
}
