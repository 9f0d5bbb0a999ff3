// Package opensearch is the opensearch and elasticsearch outputs: it indexes
// alerts through the _bulk API, one document per alert with the alert id as
// document id, so a replay after a crash overwrites or is refused as a
// duplicate instead of adding a copy. Alerts the server refuses for good
// (mapping errors) go to a dead-letter file; everything else is retried.
package opensearch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/deadletter"
)

// ErrBufferFull is returned by Write when max_buffered alerts are held
// because the server has not taken them; the pipeline leaves the batch to its
// source.
var ErrBufferFull = errors.New("buffer full: the server has not accepted the alerts held")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("output closed")

// Options are what the wiring passes besides the configuration.
type Options struct {
	// Product is the output's type: OpenSearch or Elasticsearch (required).
	Product Product
	// Name is the output's name, used for the dead-letter file and in logs
	// (default: the product).
	Name string
	// DataDir is the service's data_dir; the default dead-letter directory is
	// <DataDir>/dead-letter.
	DataDir string
	// Logger receives warnings (template failures, insecure TLS); nil discards.
	Logger *slog.Logger
	// Now is the clock for alerts without a timestamp and dead-letter records;
	// nil means time.Now.
	Now func() time.Time
}

// Sink sends alerts to OpenSearch or Elasticsearch. Write, Flush and Close
// are called by one goroutine (the pipeline's delivery loop); Stats may be
// called from any.
type Sink struct {
	cfg     Config
	product Product
	name    string
	log     *slog.Logger
	now     func() time.Time
	index   dailyIndexes
	policy  retry.Policy
	*client

	pending      []*item
	pendingBytes int64
	ids          map[string]struct{}
	dl           *deadletter.File

	templateFirst chan struct{} // closed after the first template attempt; nil without
	stopTemplate  context.CancelFunc
	wg            sync.WaitGroup
	closed        bool

	stats counters
}

// item is one alert waiting to be indexed.
type item struct {
	id    string
	index string
	line  []byte // action line and document line, each ending in \n
	doc   int    // where the document starts in line
	tries int
	// invalid marks an alert that is not one JSON object: it goes to the
	// dead-letter file without being sent.
	invalid bool

	// Set by the round that sent it.
	outcome outcome
	status  int
	errType string
	reason  string
}

type outcome uint8

const (
	outRetry    outcome = iota // not indexed; send again
	outDone                    // indexed
	outExisting                // 409 on create: indexed before (a replay)
	outDead                    // refused for good: dead-letter
	outFatal                   // not indexed; the request was refused for a reason retrying will not fix
)

// New checks cfg and returns the output. When cfg.InstallTemplate is set it
// starts putting the index template in the background.
func New(cfg Config, opts Options) (*Sink, error) {
	if opts.Product != OpenSearch && opts.Product != Elasticsearch {
		return nil, fmt.Errorf("opensearch: unknown product %q: want opensearch or elasticsearch", opts.Product)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s output: %w", opts.Product, err)
	}
	if opts.Name == "" {
		opts.Name = string(opts.Product)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c, err := newClient(&cfg)
	if err != nil {
		return nil, fmt.Errorf("%s output %s: %w", opts.Product, opts.Name, err)
	}
	dlPath := deadletter.Path(opts.DataDir, opts.Name)
	if cfg.DeadLetterDir != "" {
		dlPath = filepath.Join(string(cfg.DeadLetterDir), filepath.Base(dlPath))
	}
	s := &Sink{
		cfg: cfg, product: opts.Product, name: opts.Name, log: opts.Logger, now: opts.Now,
		client: c,
		policy: retry.Policy{Initial: cfg.RetryInitial.Std(), Max: cfg.RetryMax.Std(), Attempts: cfg.RetryAttempts},
		ids:    make(map[string]struct{}),
		dl:     deadletter.New(dlPath),
	}
	if cfg.DataStream != "" {
		s.index.ip = indexPattern{pattern: cfg.DataStream}
	} else {
		s.index.ip, _ = parseIndexPattern(cfg.Index) // checked by Validate
	}
	if cfg.TLS.InsecureSkipVerify {
		s.log.Warn("opensearch: TLS CERTIFICATE VERIFICATION IS OFF (tls.insecure_skip_verify): anyone between skywatch and the server can read and change alerts and credentials; use tls.ca_file instead",
			"output", s.name, "url", s.base)
	}
	if cfg.InstallTemplate {
		body, err := Template(opts.Product, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s output %s: template: %w", opts.Product, opts.Name, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		s.stopTemplate = cancel
		s.templateFirst = make(chan struct{})
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.templateLoop(ctx, body, s.templateFirst)
		}()
	}
	return s, nil
}

// Write takes copies of the alerts; Flush sends them. Alerts whose id is
// already held are taken once. Write refuses the whole batch with
// ErrBufferFull when max_buffered is reached.
func (s *Sink) Write(_ context.Context, recs []sink.Record) error {
	if s.closed {
		return fmt.Errorf("opensearch: write: %w", ErrClosed)
	}
	if s.pendingBytes >= int64(s.cfg.MaxBuffered) {
		s.stats.refused.Add(int64(len(recs)))
		return fmt.Errorf("opensearch: write to %s: %w (%d alerts, %d bytes)", s.base, ErrBufferFull, len(s.pending), s.pendingBytes)
	}
	for i := range recs {
		r := &recs[i]
		id := r.ID
		if id == "" {
			sum := sha256.Sum256(r.JSON)
			id = hex.EncodeToString(sum[:16])
		}
		s.stats.accepted.Add(1)
		if _, ok := s.ids[id]; ok {
			s.stats.coalesced.Add(1)
			continue
		}
		it := s.newItem(id, r.JSON)
		s.ids[id] = struct{}{}
		s.pending = append(s.pending, it)
		s.pendingBytes += int64(len(it.line))
	}
	s.stats.buffered.Store(int64(len(s.pending)))
	s.stats.bufferedBytes.Store(s.pendingBytes)
	return nil
}

// newItem builds the bulk lines of one alert: the action naming its index and
// id, then the alert with the timestamp field put first. JSON that cannot be
// one NDJSON line is compacted; what is not a JSON object is marked for the
// dead-letter file at once, since the server could only refuse it.
func (s *Sink) newItem(id string, doc []byte) *item {
	doc = bytes.TrimSpace(doc)
	if bytes.ContainsAny(doc, "\r\n") {
		var c bytes.Buffer
		if err := json.Compact(&c, doc); err == nil {
			doc = c.Bytes()
		}
	}
	t, ok := alertTime(doc)
	if !ok {
		t = s.now()
	}
	it := &item{id: id, index: s.index.of(t)}
	line := make([]byte, 0, len(doc)+len(it.index)+len(id)+80)
	line = append(line, `{"`...)
	line = append(line, s.cfg.Action...)
	line = append(line, `":{"_index":"`...)
	line = append(line, it.index...)
	line = append(line, `","_id":`...)
	line = alert.AppendString(line, id)
	line = append(line, "}}\n"...)
	it.doc = len(line)
	if len(doc) < 2 || doc[0] != '{' || doc[len(doc)-1] != '}' || bytes.ContainsAny(doc, "\r\n") {
		it.line = append(line, doc...)
		it.invalid = true
		return it
	}
	if f := s.cfg.TimestampField; f != "" {
		line = append(line, `{"`...)
		line = append(line, f...)
		line = append(line, `":"`...)
		line = t.UTC().AppendFormat(line, "2006-01-02T15:04:05.000Z")
		line = append(line, '"')
		if rest := bytes.TrimLeft(doc[1:], " \t"); len(rest) > 0 && rest[0] != '}' {
			line = append(line, ',')
		}
		line = append(line, doc[1:]...)
	} else {
		line = append(line, doc...)
	}
	it.line = append(line, '\n')
	return it
}

// Flush sends every alert held and returns nil only when each one is indexed
// (or was already) or written and synced to the dead-letter file. Failed
// alerts stay held for the next Flush; retryable failures are retried within
// this call as cfg's retry settings say, honouring Retry-After.
func (s *Sink) Flush(ctx context.Context) error {
	if s.closed {
		return fmt.Errorf("opensearch: flush: %w", ErrClosed)
	}
	if len(s.pending) == 0 {
		return nil
	}
	if s.templateFirst != nil {
		select {
		case <-s.templateFirst:
		case <-ctx.Done():
			return fmt.Errorf("opensearch: flush to %s: waiting for the template: %w", s.base, ctx.Err())
		}
	}
	if err := s.flush(ctx); err != nil {
		return fmt.Errorf("opensearch: flush to %s: %w", s.base, err)
	}
	return nil
}

func (s *Sink) flush(ctx context.Context) error {
	err := retry.Do(ctx, s.policy, s.round)
	s.stats.buffered.Store(int64(len(s.pending)))
	s.stats.bufferedBytes.Store(s.pendingBytes)
	if err != nil {
		s.stats.failed.Add(1)
		return fmt.Errorf("%d alerts not indexed: %w", len(s.pending), err)
	}
	return nil
}

// Close flushes what is held (bounded by the request timeout), stops the
// template installer and closes the dead-letter file. Alerts it cannot
// deliver were never acknowledged, so their sources deliver them again.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	var errs []error
	if len(s.pending) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout.Std())
		if err := s.Flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%w (at close; their sources deliver them again)", err))
		}
		cancel()
	}
	s.closed = true
	if s.stopTemplate != nil {
		s.stopTemplate()
	}
	s.wg.Wait()
	if err := s.dl.Close(); err != nil {
		errs = append(errs, fmt.Errorf("opensearch: close dead-letter file: %w", err))
	}
	s.http.CloseIdleConnections()
	return errors.Join(errs...)
}

// Stats are the output's counters, for metrics.
type Stats struct {
	// Accepted counts alerts taken by Write.
	Accepted int64
	// Coalesced counts alerts taken while one with the same id was still held
	// (included in Accepted); they are sent once.
	Coalesced int64
	// Refused counts alerts Write refused with ErrBufferFull.
	Refused int64
	// Sent counts alerts the server indexed.
	Sent int64
	// Existing counts alerts the server already held (409 on create): replays.
	Existing int64
	// DeadLettered counts alerts refused for good and written to the
	// dead-letter file.
	DeadLettered int64
	// Dropped counts alerts lost; there is no path that loses one, so it stays 0.
	Dropped int64
	// Retries counts alerts sent again after a retryable failure.
	Retries int64
	// Requests counts bulk requests; RequestErrors those that failed as a
	// whole (connection, timeout, 429, 5xx, ...).
	Requests      int64
	RequestErrors int64
	// BytesSent counts bulk request body bytes, after compression.
	BytesSent int64
	// Failed counts Flush calls that returned an error.
	Failed int64
	// Buffered and BufferedBytes are the alerts held, not yet indexed.
	Buffered      int64
	BufferedBytes int64
	// TemplateInstalled says the index template was put; TemplateErrors
	// counts failed attempts.
	TemplateInstalled bool
	TemplateErrors    int64
}

type counters struct {
	accepted, coalesced, refused, sent, existing, deadLettered atomic.Int64
	retries, requests, requestErrors, bytesSent, failed        atomic.Int64
	buffered, bufferedBytes, templateErrors                    atomic.Int64
	templateInstalled                                          atomic.Bool
}

// Stats returns a snapshot of the counters.
func (s *Sink) Stats() Stats {
	c := &s.stats
	return Stats{
		Accepted: c.accepted.Load(), Coalesced: c.coalesced.Load(), Refused: c.refused.Load(),
		Sent: c.sent.Load(), Existing: c.existing.Load(), DeadLettered: c.deadLettered.Load(),
		Retries: c.retries.Load(), Requests: c.requests.Load(), RequestErrors: c.requestErrors.Load(),
		BytesSent: c.bytesSent.Load(), Failed: c.failed.Load(),
		Buffered: c.buffered.Load(), BufferedBytes: c.bufferedBytes.Load(),
		TemplateInstalled: c.templateInstalled.Load(), TemplateErrors: c.templateErrors.Load(),
	}
}
