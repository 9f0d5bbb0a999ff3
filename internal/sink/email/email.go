// Package email is the e-mail output: it gathers alerts into digests, one
// message per batch window or batch size, and sends them over SMTP with
// STARTTLS or implicit TLS and PLAIN or LOGIN authentication.
//
// Alerts wait for their digest in a spool file that Flush fsyncs, so the
// pipeline can acknowledge them before the message goes out; see README.md for
// configuration and delivery semantics.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// ErrClosed is returned by calls after Close.
var ErrClosed = errors.New("email sink is closed")

// ErrSpoolFull is returned by Write when max_pending alerts already wait: the
// SMTP server has been unreachable for long, and the pipeline should hold back
// rather than the spool grow without bound.
var ErrSpoolFull = errors.New("email sink: spool full, SMTP server unreachable or too slow")

// ErrBadRecord is returned by Write for an alert that is not one valid JSON object.
var ErrBadRecord = errors.New("alert is not a single line of valid JSON")

// defaultRetry spaces the attempts at a digest the server did not take.
var defaultRetry = retry.Policy{Initial: 5 * time.Second, Max: 5 * time.Minute}

// Options are the collaborators a Sink uses besides its configuration.
type Options struct {
	// Name is the output's name, used for the default spool and dead-letter
	// file names (required).
	Name string
	// DataDir is skywatch's data_dir, under which those files go by default.
	DataDir string
	// Logger receives delivery problems; nil discards them.
	Logger *slog.Logger
	// Now is the clock for batching and message dates; nil means time.Now.
	Now func() time.Time
	// Retry spaces the attempts at a digest (default 5s doubling up to 5m,
	// for as long as the sink is open).
	Retry retry.Policy
}

// Stats are the sink's counters since New.
type Stats struct {
	// Accepted counts alerts taken into the spool by Write.
	Accepted int64
	// Sent counts alerts in digests the server accepted.
	Sent int64
	// Messages counts digests the server accepted.
	Messages int64
	// Retries counts failed attempts at a digest that were tried again.
	Retries int64
	// Failed counts alerts moved to the dead-letter file after the server
	// refused their digest for good.
	Failed int64
	// RefusedRecipients counts recipients the server refused for good while
	// taking the digest for others.
	RefusedRecipients int64
	// Dropped counts alerts given up on without a trace; it stays 0.
	Dropped int64
	// Buffered is the number of alerts waiting in the spool.
	Buffered int64
}

type counters struct {
	accepted, sent, messages, retries, failed, refused, dropped, buffered atomic.Int64
}

// Sink sends alerts as e-mail digests. Write, Flush and Close are called by
// the pipeline's delivery loop; a goroutine of the sink's own sends the
// digests. Stats may be called from any goroutine.
type Sink struct {
	cfg            Config
	name           string
	deadLetterPath string
	from           *mail.Address
	to             []*mail.Address
	mailer         *mailer
	log            *slog.Logger
	now            func() time.Time
	retry          retry.Policy

	mu      sync.Mutex
	spool   *spool
	pending []*waiting // oldest first; Write appends, the sender takes from the front
	ids     map[string]bool
	urgent  bool // a pending alert is at or above immediate_level
	closed  bool

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	stats  counters
}

var _ sink.Sink = (*Sink)(nil)

// New validates cfg, opens the spool (taking up the alerts a previous run left
// unsent) and starts the sender.
func New(cfg Config, opts Options) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("email sink: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Retry == (retry.Policy{}) {
		opts.Retry = defaultRetry
	}
	opts.Retry.Attempts = 0 // until sent, refused, or Close
	spoolPath, deadPath := string(cfg.SpoolPath), string(cfg.DeadLetterPath)
	if spoolPath == "" || deadPath == "" {
		if opts.DataDir == "" || opts.Name == "" {
			return nil, errors.New("email sink: spool_path and dead_letter_path need data_dir and the output name")
		}
		file := safeName(opts.Name) + ".jsonl"
		if spoolPath == "" {
			spoolPath = filepath.Join(opts.DataDir, "outbox", file)
		}
		if deadPath == "" {
			deadPath = filepath.Join(opts.DataDir, "dead-letter", file)
		}
	}
	m, err := newMailer(&cfg)
	if err != nil {
		return nil, fmt.Errorf("email sink: %w", err)
	}
	s := &Sink{
		cfg: cfg, name: opts.Name, deadLetterPath: deadPath, mailer: m,
		log: opts.Logger.With("output", opts.Name), now: opts.Now, retry: opts.Retry,
		ids: map[string]bool{}, wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	s.from, _ = mail.ParseAddress(cfg.From) // validated
	for _, t := range cfg.To {
		a, _ := mail.ParseAddress(t)
		s.to = append(s.to, a)
	}
	sp, left, err := openSpool(spoolPath)
	if err != nil {
		return nil, fmt.Errorf("email sink: %w", err)
	}
	s.spool = sp
	for _, e := range left {
		s.queue(e)
	}
	if len(left) > 0 {
		s.log.Info("email: alerts left unsent by the previous run will be sent", "alerts", len(left))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(ctx)
	return s, nil
}

func newMailer(cfg *Config) (*mailer, error) {
	helo := cfg.HeloName
	if helo == "" {
		if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n\t") {
			helo = h
		} else {
			helo = "localhost"
		}
	}
	password := cfg.Password
	m := &mailer{
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.port())), host: cfg.Host, tlsMode: cfg.TLS,
		helo: helo, username: cfg.Username, password: password.Reveal, auth: cfg.Auth, timeout: cfg.Timeout.Std(),
	}
	if cfg.TLS != TLSNone {
		m.tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName}
		if m.tlsConf.ServerName == "" {
			m.tlsConf.ServerName = cfg.Host
		}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(string(cfg.CAFile))
			if err != nil {
				return nil, fmt.Errorf("read ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", cfg.CAFile)
			}
			m.tlsConf.RootCAs = pool
		}
	}
	return m, nil
}

// safeName keeps an output name usable as a file name.
func safeName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name)
}

// queue adds a spooled alert to pending; the caller holds mu or owns s.
func (s *Sink) queue(e spoolEntry) {
	sum, err := alert.Summarize(e.Alert)
	if err != nil {
		sum = alert.Summary{ID: e.ID, Level: e.Level}
	}
	s.pending = append(s.pending, &waiting{spoolEntry: e, sum: sum})
	s.ids[e.ID] = true
	if s.cfg.ImmediateLevel > 0 && e.Level >= s.cfg.ImmediateLevel {
		s.urgent = true
	}
	s.stats.buffered.Store(int64(len(s.pending)))
}

// Write spools the alerts; they reach the disk at Flush and the server with
// their digest. An alert already waiting (same id) is not spooled twice.
// Either the whole batch is taken or, on error, none of it.
func (s *Sink) Write(ctx context.Context, alerts []sink.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range alerts {
		if !json.Valid(alerts[i].JSON) || bytes.IndexByte(alerts[i].JSON, '\n') >= 0 {
			return fmt.Errorf("email sink: alert %q: %w", alerts[i].ID, ErrBadRecord)
		}
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.spool.syncErr != nil:
		return s.spool.syncErr
	case len(s.pending)+len(alerts) > s.cfg.MaxPending:
		return fmt.Errorf("%w (%d alerts waiting, max_pending %d)", ErrSpoolFull, len(s.pending), s.cfg.MaxPending)
	}
	for i := range alerts {
		r := &alerts[i]
		s.stats.accepted.Add(1)
		if s.ids[r.ID] {
			continue
		}
		e := spoolEntry{ID: r.ID, Level: r.Level, Added: now, Alert: json.RawMessage(append([]byte(nil), r.JSON...))}
		s.spool.appendEntry(&e)
		s.queue(e)
	}
	s.poke()
	return nil
}

// Flush makes every alert written so far durable in the spool (written and
// fsynced). It does not wait for digests to be sent: from here on the spool
// answers for the alerts, across restarts.
func (s *Sink) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.spool.sync(); err != nil {
		return fmt.Errorf("email sink: %w", err)
	}
	return nil
}

// Close stops the sender, makes one last attempt at each digest still waiting
// (all of them, whatever their window), and syncs the spool. What could not be
// sent stays in the spool for the next start.
func (s *Sink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	for {
		batch := s.take(true)
		if batch == nil {
			break
		}
		d, err := buildDigest(&s.cfg, s.from, s.to, batch, s.now())
		if err == nil {
			err = s.attempt(context.Background(), batch, d)
		}
		if err != nil {
			s.log.Warn("email: alerts left in the spool for the next start", "alerts", s.stats.buffered.Load(), "error", err)
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spool.close()
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Accepted: s.stats.accepted.Load(), Sent: s.stats.sent.Load(), Messages: s.stats.messages.Load(),
		Retries: s.stats.retries.Load(), Failed: s.stats.failed.Load(), RefusedRecipients: s.stats.refused.Load(),
		Dropped: s.stats.dropped.Load(), Buffered: s.stats.buffered.Load(),
	}
}

// poke wakes the sender without blocking.
func (s *Sink) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
