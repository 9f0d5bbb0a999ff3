// Package storesink is the "store" output: it puts alerts into skywatch's
// embedded alert store (internal/store), where the REST API searches them.
package storesink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/store"
)

// MaxBatch is the most alerts one store transaction takes. Write inserts early
// when this many are buffered, so memory stays bounded between flushes.
const MaxBatch = 1000

// ErrBadRecord is returned (marked permanent, so the pipeline does not retry it)
// for a record that is not an alert the store can read.
var ErrBadRecord = errors.New("record is not an alert the store can read")

// ErrClosed is returned by calls after Close.
var ErrClosed = errors.New("store sink is closed")

// Stats are the sink's counters since it was created.
type Stats struct {
	Accepted   int64 // records taken by Write
	Stored     int64 // alerts inserted into the store
	Duplicates int64 // alerts already stored (replays), skipped
	Rejected   int64 // records refused with ErrBadRecord
	Failed     int64 // failed inserts (the alerts stay buffered and are retried)
	Buffered   int64 // alerts waiting for the next insert
	Dropped    int64 // alerts lost; always 0, here for symmetry with other sinks
}

// Sink writes alerts to a store. It is meant for one goroutine (the pipeline's
// writer); Stats may be called from any.
type Sink struct {
	st    *store.Store
	owned bool // Close closes st

	mu     sync.Mutex
	buf    []store.Alert
	closed bool

	accepted, stored, duplicates, rejected, failed, buffered atomic.Int64
}

// New returns a sink writing to st, an open store that others (the REST API)
// may share. Close does not close st. cfg is validated; its retention and size
// are the store's business (Config.StoreOptions), its filter the pipeline's.
func New(st *store.Store, cfg Config) (*Sink, error) {
	if st == nil {
		return nil, errors.New("store sink: no store")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("store sink: %w", err)
	}
	return &Sink{st: st}, nil
}

// Open opens (creating if needed) the store at cfg.Path with the configured
// retention and size, and returns a sink that owns it: Close closes the store.
// Use New instead when the store is shared.
func Open(cfg Config, logger *slog.Logger) (*Sink, error) {
	if cfg.Path == "" {
		return nil, config.FieldError{Field: "path", Msg: "not resolved: set it to <data_dir>/" + DefaultFile}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("store sink: %w", err)
	}
	opt := cfg.StoreOptions()
	opt.Logger = logger
	st, err := store.Open(string(cfg.Path), opt)
	if err != nil {
		return nil, err
	}
	return &Sink{st: st, owned: true}, nil
}

// Store returns the store the sink writes to.
func (s *Sink) Store() *store.Store { return s.st }

// Write summarises and buffers the alerts; it first inserts full batches of
// MaxBatch from the buffer. Either every record is taken or none is: a record that
// is not a readable alert fails the call with ErrBadRecord (permanent).
func (s *Sink) Write(ctx context.Context, recs []sink.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	// Drain before taking more, so that a failed insert leaves the buffer as it
	// was and the pipeline's retry of this Write does not buffer twice.
	for len(s.buf) >= MaxBatch {
		if err := s.insertLocked(ctx); err != nil {
			return err
		}
	}
	now := time.Now()
	add := make([]store.Alert, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		sum, err := alert.Summarize(r.JSON)
		if err != nil {
			s.rejected.Add(1)
			return retry.Permanent(fmt.Errorf("store sink: alert %q: %w: %v", r.ID, ErrBadRecord, err))
		}
		if sum.ID == "" {
			sum.ID = r.ID
		}
		if sum.ID == "" {
			s.rejected.Add(1)
			return retry.Permanent(fmt.Errorf("store sink: alert without id: %w", ErrBadRecord))
		}
		if sum.Timestamp.IsZero() {
			sum.Timestamp = now // unreadable timestamp: file it under its arrival
		}
		// Record.JSON points into an arena the pipeline reuses.
		add = append(add, store.Alert{JSON: bytes.Clone(r.JSON), Summary: sum})
	}
	s.buf = append(s.buf, add...)
	s.accepted.Add(int64(len(add)))
	s.buffered.Store(int64(len(s.buf)))
	return nil
}

// Flush inserts every buffered alert, MaxBatch per transaction; when it returns
// nil they are durable. On error the alerts not yet inserted stay buffered for
// the next Flush (inserting is idempotent, so a partial success is harmless).
func (s *Sink) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	for len(s.buf) > 0 {
		if err := s.insertLocked(ctx); err != nil {
			return err
		}
	}
	return nil
}

// insertLocked inserts up to MaxBatch alerts from the head of the buffer.
func (s *Sink) insertLocked(ctx context.Context) error {
	n := min(len(s.buf), MaxBatch)
	added, err := s.st.InsertCount(ctx, s.buf[:n])
	if err != nil {
		s.failed.Add(1)
		return fmt.Errorf("store sink: %w", err)
	}
	s.stored.Add(int64(added))
	s.duplicates.Add(int64(n - added))
	clear(s.buf[:n]) // let the JSON copies go
	s.buf = s.buf[n:]
	if len(s.buf) == 0 {
		s.buf = nil
	}
	s.buffered.Store(int64(len(s.buf)))
	return nil
}

// Close flushes and, when the sink opened the store itself, closes it. Later
// calls return nil.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	var err error
	for len(s.buf) > 0 && err == nil {
		err = s.insertLocked(context.Background())
	}
	s.closed = true
	if s.owned {
		err = errors.Join(err, s.st.Close())
	}
	return err
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Accepted:   s.accepted.Load(),
		Stored:     s.stored.Load(),
		Duplicates: s.duplicates.Load(),
		Rejected:   s.rejected.Load(),
		Failed:     s.failed.Load(),
		Buffered:   s.buffered.Load(),
	}
}
