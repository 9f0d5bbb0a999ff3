package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/deadletter"
)

// ErrClosed is returned by calls after Close.
var ErrClosed = errors.New("output is closed")

// ErrFull is returned by Write when max_buffered alerts already wait for
// delivery; the pipeline retries, and the batch stays unacknowledged until a
// Flush gets through.
var ErrFull = errors.New("too many alerts waiting for delivery")

// Options configure a Deliverer.
type Options struct {
	// Service names the output type in errors ("slack"), and is the default Name.
	Service string
	// URL is the endpoint; it never appears in errors or logs.
	URL string
	// Header is sent with every request (custom headers).
	Header http.Header
	// Secrets are further values to keep out of errors and logs (routing key,
	// HMAC key, header values).
	Secrets []string
	// Delivery holds the shared settings.
	Delivery Delivery
	// BatchSize is how many alerts one request carries (default 1).
	BatchSize int
	Env
}

// Env is what an output built on the Deliverer receives from the wiring besides
// its configuration; webhook, slack and pagerduty take it as their Options.
type Env struct {
	// Name is the output's name, used in dead-letter entries and logs.
	Name string
	// DataDir is the configuration's data_dir; the dead-letter file defaults to
	// DeadLetterPath(DataDir, Name) when Delivery.DeadLetter is empty.
	DataDir string
	// Client is the HTTP client; nil means a client of its own. Redirects are
	// never followed whatever the client says.
	Client *http.Client
	// Logger receives dead-lettered alerts and retries; nil discards.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits out a Retry-After (default: a timer); tests record instead.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Stats are the Deliverer's counters. Every accepted alert is in exactly one of
// Sent, DeadLettered or Buffered: Accepted-Duplicates = Sent+DeadLettered+Buffered.
type Stats struct {
	// Accepted counts alerts taken by Write.
	Accepted int64
	// Duplicates counts alerts written again while a copy was still waiting
	// (the pipeline redelivering); they are not queued twice.
	Duplicates int64
	// Sent counts alerts the service accepted (2xx).
	Sent int64
	// Requests counts HTTP attempts; Retries those that were not the first for
	// their request; RateLimited the 429 responses.
	Requests, Retries, RateLimited int64
	// DeadLettered counts alerts written to the dead-letter file.
	DeadLettered int64
	// Failed counts Flush calls that returned an error with alerts kept.
	Failed int64
	// Buffered is the number of alerts waiting now.
	Buffered int64
}

type counters struct {
	accepted, duplicates, sent, requests, retries, rateLimited, deadLettered, failed, buffered atomic.Int64
}

// Deliverer buffers alerts and posts them at Flush. Write, Flush and Close are
// meant for one goroutine (the pipeline's delivery loop); Stats may be called
// from any.
type Deliverer struct {
	proto   Protocol
	cfg     Delivery
	service string
	name    string
	url     string
	display string
	headers http.Header
	batch   int
	client  *http.Client
	log     *slog.Logger
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	scrub   scrubber

	pending []Alert
	ids     map[string]struct{} // ids in pending, to drop redelivered copies
	dead    *deadletter.File
	closed  bool
	stats   counters
}

var _ sink.Sink = (*Deliverer)(nil)

// New returns a Deliverer posting to o.URL with p's encoding.
func New(p Protocol, o Options) (*Deliverer, error) {
	if err := o.Delivery.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", o.Service, err)
	}
	if o.Name == "" {
		o.Name = o.Service
	}
	if o.Delivery.DeadLetter == "" {
		if o.DataDir == "" {
			return nil, fmt.Errorf("%s: dead_letter is not set and no data_dir was given", o.Service)
		}
		o.Delivery.DeadLetter = config.Path(DeadLetterPath(o.DataDir, o.Name))
	}
	if o.BatchSize < 1 {
		o.BatchSize = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	client := &http.Client{}
	if o.Client != nil {
		c := *o.Client
		client = &c
	}
	client.CheckRedirect = noRedirect
	return &Deliverer{
		proto:   p,
		cfg:     o.Delivery,
		service: o.Service,
		name:    o.Name,
		url:     o.URL,
		display: displayURL(o.URL),
		headers: o.Header,
		batch:   o.BatchSize,
		client:  client,
		log:     o.Logger,
		now:     o.Now,
		sleep:   o.Sleep,
		scrub:   newScrubber(append(urlSecrets(o.URL), o.Secrets...)...),
		ids:     map[string]struct{}{},
		dead:    deadletter.New(string(o.Delivery.DeadLetter)),
	}, nil
}

// Write copies the alerts into the buffer; Flush sends them. An alert whose id
// is already waiting is not queued again. When the buffer cannot take the
// whole batch, nothing is taken and ErrFull is returned.
func (d *Deliverer) Write(ctx context.Context, alerts []sink.Record) error {
	if d.closed {
		return fmt.Errorf("%s: %w", d.service, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(d.pending)+len(alerts) > d.cfg.MaxBuffered {
		return fmt.Errorf("%s: %d alerts waiting, limit %d: %w", d.service, len(d.pending), d.cfg.MaxBuffered, ErrFull)
	}
	for i := range alerts {
		r := &alerts[i]
		d.stats.accepted.Add(1)
		if r.ID != "" {
			if _, dup := d.ids[r.ID]; dup {
				d.stats.duplicates.Add(1)
				continue
			}
			d.ids[r.ID] = struct{}{}
		}
		d.pending = append(d.pending, Alert{ID: r.ID, Level: r.Level, RuleID: r.RuleID, JSON: slices.Clone(r.JSON)})
		d.stats.buffered.Add(1)
	}
	return nil
}

// Flush sends every waiting alert, in order. When it returns nil each alert
// written before it was either accepted by the service (2xx) or appended to
// the dead-letter file and fsynced. On a transient failure that outlasts the
// retries it returns the error and keeps that alert and the ones after it
// (unless on_give_up is dead_letter).
func (d *Deliverer) Flush(ctx context.Context) error {
	if d.closed {
		return fmt.Errorf("%s: %w", d.service, ErrClosed)
	}
	err := d.flush(ctx)
	if err != nil {
		d.stats.failed.Add(1)
	}
	return d.scrub.wrap(err)
}

func (d *Deliverer) flush(ctx context.Context) error {
	attempts := d.cfg.MaxAttempts
	done := 0
	defer func() { d.consume(done) }()
	for done < len(d.pending) {
		chunk := d.pending[done:min(done+d.batch, len(d.pending))]
		req, err := d.proto.Encode(chunk)
		if err != nil {
			if derr := d.deadLetter(chunk, 0, "cannot encode: "+err.Error(), 0); derr != nil {
				return derr
			}
			done += len(chunk)
			continue
		}
		tries, err := d.send(ctx, &req, attempts)
		var se *StatusError
		switch {
		case err == nil:
			d.stats.sent.Add(int64(len(chunk)))
		case errors.As(err, &se) && se.Rejected():
			if derr := d.deadLetter(chunk, se.Status, se.Reason, tries); derr != nil {
				return derr
			}
		case ctx.Err() == nil && d.cfg.OnGiveUp == GiveUpDeadLetter:
			status := 0
			if se != nil {
				status = se.Status
			}
			reason := fmt.Sprintf("gave up after %d attempts: %s", tries, describe(err))
			if derr := d.deadLetter(chunk, status, reason, tries); derr != nil {
				return derr
			}
			// The service looks down: one attempt each for the rest of this
			// Flush, so an outage does not cost every alert the full retries.
			attempts = 1
		default:
			return fmt.Errorf("%s: post to %s: %w", d.service, d.display, err)
		}
		done += len(chunk)
	}
	return d.dead.Sync()
}

// consume removes the first n pending alerts (sent or dead-lettered).
func (d *Deliverer) consume(n int) {
	if n == 0 {
		return
	}
	for _, a := range d.pending[:n] {
		delete(d.ids, a.ID)
	}
	clear(d.pending[:n])
	d.pending = d.pending[n:]
	if len(d.pending) == 0 {
		d.pending = nil // let a large backing array go
	}
	d.stats.buffered.Add(-int64(n))
}

// send posts req with retries: transient failures (network errors, 408, 429,
// 5xx) are retried up to attempts times in all, waiting out Retry-After (capped
// by max_retry_after) on top of the backoff. It returns the number of attempts.
func (d *Deliverer) send(ctx context.Context, req *Request, attempts int) (int, error) {
	policy := retry.Policy{Initial: d.cfg.RetryInitial.Std(), Max: d.cfg.RetryMax.Std(), Attempts: attempts}
	tries := 0
	var wait time.Duration
	err := retry.Do(ctx, policy, func(ctx context.Context) error {
		if tries > 0 {
			d.stats.retries.Add(1)
			if wait > 0 {
				if err := d.sleep(ctx, wait); err != nil {
					return err
				}
			}
		}
		tries++
		err := d.post(ctx, req)
		wait = 0
		var se *StatusError
		if errors.As(err, &se) {
			if se.Rejected() {
				return retry.Permanent(err)
			}
			wait = min(se.RetryAfter, d.cfg.MaxRetryAfter.Std())
		}
		if err != nil && tries < attempts {
			d.log.Warn("delivery failed, retrying", "output", d.name, "attempt", tries, "error", d.scrub.clean(describe(err)))
		}
		return err
	})
	return tries, err
}

// deadLetter appends each alert of chunk to the dead-letter file.
func (d *Deliverer) deadLetter(chunk []Alert, status int, reason string, attempts int) error {
	now := d.now().UTC()
	reason = d.scrub.clean(reason)
	var lines []byte
	for _, a := range chunk {
		e := DeadLetterEntry{Time: now, Output: d.name, AlertID: a.ID, Status: status, Reason: reason, Attempts: attempts, Alert: a.JSON}
		line, err := e.line()
		if err != nil {
			return fmt.Errorf("%s: dead-letter entry of %s: %w", d.service, a.ID, err)
		}
		lines = append(lines, line...)
	}
	if err := d.dead.Append(lines); err != nil {
		return fmt.Errorf("%s: %w", d.service, err)
	}
	d.stats.deadLettered.Add(int64(len(chunk)))
	d.log.Error("alerts written to the dead-letter file", "output", d.name, "alerts", len(chunk),
		"first_id", chunk[0].ID, "status", status, "reason", reason, "file", d.dead.Path())
	return nil
}

// Close flushes what is waiting and closes the dead-letter file. Alerts that
// still cannot be delivered are reported in the error (they were never
// acknowledged, so their sources deliver them again).
func (d *Deliverer) Close() error {
	if d.closed {
		return nil
	}
	err := d.flush(context.Background())
	if err != nil {
		err = fmt.Errorf("%s: closing with %d alerts undelivered: %w", d.service, len(d.pending), err)
	}
	d.closed = true
	return d.scrub.wrap(errors.Join(err, d.dead.Close()))
}

// Stats returns a snapshot of the counters.
func (d *Deliverer) Stats() Stats {
	c := &d.stats
	return Stats{
		Accepted: c.accepted.Load(), Duplicates: c.duplicates.Load(), Sent: c.sent.Load(),
		Requests: c.requests.Load(), Retries: c.retries.Load(), RateLimited: c.rateLimited.Load(),
		DeadLettered: c.deadLettered.Load(), Failed: c.failed.Load(), Buffered: c.buffered.Load(),
	}
}

// DeadLetterFile returns the path of the dead-letter file.
func (d *Deliverer) DeadLetterFile() string { return d.dead.Path() }
