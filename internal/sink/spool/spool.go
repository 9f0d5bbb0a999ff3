// Package spool is a durable disk buffer in front of a remote output. Write and
// Flush append alerts to segment files and fsync them, so the pipeline can
// acknowledge its sources while the remote is down or slow; a goroutine delivers
// the spooled alerts to the output in order, retrying forever, and deletes
// segments once delivered. When the spool holds max_bytes of undelivered alerts,
// Write waits for delivery to free space: back-pressure reaches the sources,
// which pause; nothing is dropped.
//
// See README.md for configuration, disk layout and delivery semantics.
package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// Errors the spool returns; they are wrapped with the output's name.
var (
	// ErrClosed is returned by calls after Close.
	ErrClosed = errors.New("spool is closed")
	// ErrFull is returned by a Write that gave up waiting for space: the
	// block timeout passed, the context ended or the service is stopping.
	ErrFull = errors.New("spool is full")
	// ErrTooLarge is returned by Write for an alert that could never fit.
	ErrTooLarge = errors.New("alert too large for the spool")
)

// writeChunk is how much Write gathers in memory before a write system call.
const writeChunk = 1 << 20

// closeGrace is how long Close waits for delivery to stop once cancelled; an
// output that ignores its context is then left running and not closed.
const closeGrace = 2 * time.Second

// Options are the collaborators a Spool uses besides its configuration.
type Options struct {
	// Name is the output's name, used in logs and errors.
	Name string
	// Logger receives delivery problems (rate limited) and recovery findings;
	// nil discards them.
	Logger *slog.Logger
	// Shutdown, when closed, makes a Write that waits for space give up at
	// once with ErrFull, so that stopping the service is not held up by a
	// full spool whose output is down. Nil means never.
	Shutdown <-chan struct{}
}

// Spool is a sink.Sink that keeps alerts on disk until its inner sink has
// flushed them. Write, Flush and Close are meant for one goroutine (the
// pipeline's delivery loop), as for every sink; Stats may be called from any.
type Spool struct {
	cfg      Config
	inner    sink.Sink
	name     string
	dir      string
	log      *slog.Logger
	shutdown <-chan struct{}
	lock     *os.File

	// Writer state, owned by the goroutine calling Write, Flush and Close.
	wmu    sync.Mutex
	w      *os.File // the active segment, opened for appending
	wseg   *segment
	wsize  int64  // bytes written to w
	wsync  int64  // bytes of w known to be on disk
	wbuf   []byte // records appended but not yet written to w
	sticky error  // a failure after which the segment can no longer be trusted
	closed bool
	// fullLogged is when a full spool was last logged.
	fullLogged time.Time

	closing   chan struct{} // closed when Close starts: wakes a waiting Write
	closeOnce sync.Once

	// Shared with the deliverer.
	mu           sync.Mutex
	segs         []*segment // oldest first; the last one is the active one
	buffered     int64      // bytes after the delivery cursor, written or not
	bufferedRecs int64
	draining     bool
	dataCh       chan struct{} // closed and replaced when more becomes durable
	spaceCh      chan struct{} // closed and replaced when delivery frees space

	start  cursor // where delivery starts, from recovery
	cancel context.CancelFunc
	done   chan struct{} // closed when the deliverer returns

	headAt    atomic.Int64 // append time of the oldest record the deliverer holds (0: none)
	pendingAt atomic.Int64 // append time of the first record not yet flushed (0: none)
	full      atomic.Bool
	c         counters
}

// segment is one segment file as the writer and the deliverer share it.
type segment struct {
	seq     uint64
	durable int64 // bytes fsynced: the deliverer reads up to here
	sealed  bool  // nothing more will be appended
	corrupt bool  // delivery skipped damaged bytes in it
}

var _ sink.Sink = (*Spool)(nil)

// New opens (or creates) the spool in cfg.Dir, recovers what a previous run left
// there (see README.md), and starts delivering to inner. The spool owns inner
// from then on and closes it in Close; when New fails, inner is left to the
// caller.
func New(inner sink.Sink, cfg Config, opt Options) (*Spool, error) {
	name := opt.Name
	if name == "" {
		name = "output"
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("spool %s: %w", name, err)
	}
	if cfg.Dir == "" {
		return nil, fmt.Errorf("spool %s: no directory configured", name)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Spool{
		cfg:      cfg,
		inner:    inner,
		name:     name,
		dir:      filepath.Clean(string(cfg.Dir)),
		log:      opt.Logger.With("output", name, "spool", filepath.Clean(string(cfg.Dir))),
		shutdown: opt.Shutdown,
		closing:  make(chan struct{}),
		dataCh:   make(chan struct{}),
		spaceCh:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool %s: create %s: %w", name, s.dir, err)
	}
	lock, err := lockDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", name, err)
	}
	s.lock = lock
	if err := s.recover(); err != nil {
		_ = s.lock.Close()
		return nil, fmt.Errorf("spool %s: recover %s: %w", name, s.dir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.deliver(ctx)
	return s, nil
}

// Close stops accepting alerts, flushes, lets delivery go on for up to
// drain_timeout, then stops it and closes the inner sink. What is not
// delivered stays on disk and is delivered after the next start.
func (s *Spool) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	s.wmu.Lock()
	if s.closed {
		s.wmu.Unlock()
		return fmt.Errorf("spool %s: %w", s.name, ErrClosed)
	}
	s.closed = true
	var errs []error
	if s.sticky == nil {
		if err := s.syncActive(); err != nil {
			errs = append(errs, err)
		}
	}
	s.wmu.Unlock()

	s.mu.Lock()
	s.draining = true
	s.notifyData()
	s.mu.Unlock()
	stopped := true
	drain := time.NewTimer(s.cfg.DrainTimeout.Std())
	select {
	case <-s.done:
	case <-drain.C:
		s.cancel()
		grace := time.NewTimer(closeGrace)
		select {
		case <-s.done:
		case <-grace.C:
			stopped = false
		}
		grace.Stop()
	}
	drain.Stop()
	s.cancel()

	if stopped {
		if err := s.inner.Close(); err != nil {
			errs = append(errs, fmt.Errorf("spool %s: close output: %w", s.name, err))
		}
	} else {
		errs = append(errs, fmt.Errorf("spool %s: the output did not return within %s of being cancelled; it was left open", s.name, closeGrace))
	}
	if err := s.w.Close(); err != nil && s.sticky == nil {
		errs = append(errs, fmt.Errorf("spool %s: close %s: %w", s.name, s.w.Name(), err))
	}
	st := s.Stats()
	if st.BufferedRecords > 0 {
		s.log.Info("spool closed with undelivered alerts; they are delivered after the next start",
			"records", st.BufferedRecords, "bytes", st.BufferedBytes)
	}
	if err := s.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("spool %s: release lock: %w", s.name, err))
	}
	return errors.Join(errs...)
}

// retryPolicy is the backoff between delivery attempts: forever.
func (s *Spool) retryPolicy() retry.Policy {
	return retry.Policy{Initial: s.cfg.RetryInitial.Std(), Max: s.cfg.RetryMax.Std()}
}
