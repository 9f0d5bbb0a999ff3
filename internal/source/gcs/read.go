package gcs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"cloud.google.com/go/storage"
	"github.com/klauspost/compress/gzip"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// An object's events are emitted in batches of at most batchSize events or
// batchBytes bytes of event text.
const (
	batchSize  = 256
	batchBytes = 4 << 20
)

// location is the location Wazuh's GCP module gives its events.
const location = "Wazuh-GCloud"

// records yields the events of one object. Next returns the next event's text
// (valid until the next call) and the byte offset of its record in the
// decompressed object, io.EOF at the end, a *badRecord for a record that is
// skipped (reading goes on), or another error that ends the read.
type records interface {
	Next() ([]byte, int64, error)
}

// badRecord is a record that cannot become an event.
type badRecord struct {
	off  int64
	line int
	err  error
	// last is set when nothing after the record can be read (a truncated gzip).
	last bool
}

func (e *badRecord) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("line %d (offset %d): %v", e.line, e.off, e.err)
	}
	return fmt.Sprintf("offset %d: %v", e.off, e.err)
}

func (e *badRecord) Unwrap() error { return e.err }

// objectRun reads one object and delivers its events.
type objectRun struct {
	s    *Source
	job  job
	unit string // gs://bucket/name
	out  delivery
	// next is the offset after the last record delivered: a re-read after a
	// broken download skips what was delivered before.
	next       int64
	bad        int
	generation int64
}

// readObject reads one object into batches and reports it to the tracker once
// every batch is acknowledged: done when all were acknowledged without error,
// failed (read again at the next poll) otherwise.
func (s *Source) readObject(ctx context.Context, j job, emit source.Emit) {
	o := &objectRun{s: s, job: j, unit: "gs://" + s.cfg.Bucket + "/" + j.name}
	o.out = delivery{emit: emit, done: func(ok bool) {
		if ok {
			s.stats.Newest.Observe(j.updated)
			s.track.Done(j.dk, readObject{name: j.name, generation: o.generation})
		} else {
			s.track.Failed(j.dk, j.name)
		}
	}}
	p := s.retry
	p.Attempts = s.cfg.MaxAttempts
	attempt := 0
	err := retry.Do(ctx, p, func(ctx context.Context) error {
		attempt++
		err := o.read(ctx)
		if err != nil && !retry.IsPermanent(err) && ctx.Err() == nil && attempt < p.Attempts {
			s.log.Warn("gcs: object read failed, retrying", "source", s.name, "object", o.unit, "attempt", attempt, "err", err)
		}
		return err
	})
	if err == nil {
		err = o.out.flush(ctx)
	}
	s.stats.Units.Add(1)
	if o.bad > 0 {
		s.log.Warn("gcs: bad records skipped", "source", s.name, "object", o.unit, "count", o.bad)
	}
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		// Deleted between listing and reading (by remove_from_bucket of another
		// reader, or a lifecycle rule): nothing to read.
		s.stats.Skipped.Add(1)
		s.log.Warn("gcs: object deleted before it was read", "source", s.name, "object", o.unit)
		o.out.abandon()
		s.track.Gone(j.dk, j.name)
		return
	case err != nil && ctx.Err() == nil:
		s.stats.Errors.Add(1)
		s.log.Error("gcs: object not read; it will be read again", "source", s.name, "object", o.unit, "err", err)
	}
	o.out.finish(err)
}

// read downloads the object once and delivers its records from o.next on.
func (o *objectRun) read(ctx context.Context) error {
	s := o.s
	// Compressed objects are fetched as stored and decompressed here, as they
	// stream: the server's decompressive transcoding would hide the encoding.
	r, err := s.bucket.Object(o.job.name).ReadCompressed(true).NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return retry.Permanent(err)
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", o.unit, err)
	}
	defer r.Close()
	o.generation = r.Attrs.Generation
	tb := &trackedBody{r: r, want: r.Attrs.Size}
	body, release, err := decompress(tb)
	if err != nil {
		if tb.err != nil {
			return fmt.Errorf("download %s: %w", o.unit, tb.err)
		}
		// Not a gzip stream after all: a new read cannot fix the content.
		s.stats.Errors.Add(1)
		s.log.Error("gcs: object unreadable", "source", s.name, "object", o.unit, "err", err)
		return nil
	}
	defer release()
	var recs records
	var attemptBad []*badRecord
	if s.cfg.LogType == AccessLogs {
		recs = newAccessLogReader(body, s.maxBytes)
	} else {
		recs = newExportReader(body, s.maxBytes)
	}
	for {
		ev, off, err := recs.Next()
		if errors.Is(err, io.EOF) {
			if tb.err != nil {
				return fmt.Errorf("download %s: %w", o.unit, tb.err)
			}
			o.badRecords(attemptBad)
			return nil
		}
		// The readers return *badRecord unwrapped; a type assertion, unlike
		// errors.As, costs no allocation per record.
		if bad, ok := err.(*badRecord); ok {
			if tb.err != nil {
				// The download broke, not the object: read it again from here.
				return fmt.Errorf("download %s: %w", o.unit, tb.err)
			}
			// Counted only once the read ends well: a broken download can
			// garble lines that a new read finds intact.
			attemptBad = append(attemptBad, bad)
			if bad.last {
				o.badRecords(attemptBad)
				return nil // what came before the break is kept
			}
			continue
		}
		if err != nil {
			if tb.err != nil {
				return fmt.Errorf("download %s: %w", o.unit, tb.err)
			}
			return fmt.Errorf("read %s: %w", o.unit, err)
		}
		if off < o.next {
			continue // delivered before a re-read
		}
		o.next = off + 1
		s.stats.Events.Add(1)
		meta := event.Event{Location: location, AgentID: event.LocalAgentID, AgentName: s.agent, Received: s.now(),
			Origin: event.Origin{Source: s.name, Unit: o.unit, Offset: off}}
		if err := o.out.add(ctx, meta, ev); err != nil {
			return retry.Permanent(err)
		}
	}
}

// badRecords counts the bad records of the read that ended well and logs the
// first one with its place.
func (o *objectRun) badRecords(bad []*badRecord) {
	if len(bad) == 0 {
		return
	}
	o.bad = len(bad)
	o.s.stats.Errors.Add(int64(len(bad)))
	o.s.log.Warn("gcs: bad record skipped", "source", o.s.name, "object", o.unit, "err", bad[0].Error())
}

// trackedBody remembers a failure of the download itself, so that a connection
// that breaks mid-object is told apart from an object whose content is broken.
// A download that ends before the object's size is such a failure too: the
// client does not always report one.
type trackedBody struct {
	r         io.Reader
	want, got int64
	err       error
}

func (t *trackedBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.got += int64(n)
	if errors.Is(err, io.EOF) && t.got < t.want {
		err = fmt.Errorf("download ended after %d of %d bytes: %w", t.got, t.want, io.ErrUnexpectedEOF)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	return n, err
}

// Readers are pooled: a bucket of small objects would otherwise allocate a
// buffer and a decompressor window per object.
var (
	bufReaders  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}
	gzipReaders sync.Pool
)

// decompress returns the object's content: gunzipped when it starts with the
// gzip magic (Content-Encoding gzip or a .gz name), as stored otherwise.
func decompress(body io.Reader) (io.Reader, func(), error) {
	br := bufReaders.Get().(*bufio.Reader)
	br.Reset(body)
	release := func() { br.Reset(nil); bufReaders.Put(br) }
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, release, nil
	}
	zr, ok := gzipReaders.Get().(*gzip.Reader)
	var err error
	if ok {
		err = zr.Reset(br)
	} else {
		zr, err = gzip.NewReader(br)
	}
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("gzip: %w", err)
	}
	return zr, func() { gzipReaders.Put(zr); release() }, nil
}

// delivery batches one object's events and follows their acknowledgements, so
// that the object is reported exactly once, when its fate is known: done(true)
// once reading ended without error and every batch was acknowledged without
// error, done(false) otherwise.
type delivery struct {
	emit source.Emit
	done func(ok bool)

	batch   *source.Batch
	mu      sync.Mutex
	pending int  // batches emitted and not acknowledged
	failed  bool // a batch was acknowledged with an error, or reading failed
	ended   bool // reading is over
	dropped bool // the object is reported by other means
}

// add appends one event to the open batch, emitting the batch when full.
func (d *delivery) add(ctx context.Context, ev event.Event, text []byte) error {
	if d.batch == nil {
		d.batch = source.NewBatch()
	}
	d.batch.Add(ev, text)
	if len(d.batch.Events) >= batchSize || len(d.batch.Arena) >= batchBytes {
		return d.flush(ctx)
	}
	return nil
}

// flush emits the open batch, if any. A batch emit refuses counts as
// acknowledged with its error.
func (d *delivery) flush(ctx context.Context) error {
	b := d.batch
	if b == nil {
		return nil
	}
	d.batch = nil
	d.mu.Lock()
	d.pending++
	d.mu.Unlock()
	b.Ack = d.ack
	if err := d.emit(ctx, b); err != nil {
		d.ack(err)
		return err
	}
	return nil
}

func (d *delivery) ack(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending--
	d.failed = d.failed || err != nil
	d.check()
}

// finish records that reading is over, failed when err is not nil. Events
// added and not flushed are not delivered.
func (d *delivery) finish(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ended = true
	d.failed = d.failed || err != nil
	d.check()
}

// abandon ends the delivery without reporting: the caller reports the object.
func (d *delivery) abandon() {
	d.mu.Lock()
	d.dropped = true
	d.mu.Unlock()
	d.finish(nil)
}

// check calls done once reading is over and every batch is acknowledged.
// Called with d.mu held.
func (d *delivery) check() {
	if !d.ended || d.pending > 0 {
		return
	}
	d.ended = false // report once
	if !d.dropped {
		d.done(!d.failed)
	}
}
