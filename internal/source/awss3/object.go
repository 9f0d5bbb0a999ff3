package awss3

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/skywatch-dev/skywatch/internal/decode/awsevent"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
)

const batchSize = 256

// objectRun reads one object and follows the acknowledgement of its batches.
type objectRun struct {
	s    *Source
	j    job
	emit source.Emit
	// next is the index of the next record to deliver: a retry after a broken
	// download skips what was already delivered.
	next    int64
	batch   *source.Batch
	mu      sync.Mutex
	pending int  // batches emitted and not acknowledged
	failed  bool // a batch was acknowledged with an error
	ended   bool // reading is over
	bad     int  // bad records skipped
	discard *regexp.Regexp
}

// readObject reads one object, retrying a broken download from the record it
// stopped at, and reports the object done once every batch is acknowledged.
func (s *Source) readObject(ctx context.Context, j job, emit source.Emit) {
	o := &objectRun{s: s, j: j, emit: emit}
	if s.cfg.Discard.Regex != "" {
		o.discard = regexp.MustCompile(`^(?:` + s.cfg.Discard.Regex + `)`)
	}
	var err error
	for attempt := 1; attempt <= s.cfg.MaxAttempts; attempt++ {
		err = o.read(ctx)
		if err == nil || ctx.Err() != nil || isPermanent(err) {
			break
		}
		s.log.Warn("aws-s3: object read failed, retrying", "source", s.name, "bucket", s.cfg.Bucket,
			"key", j.key, "attempt", attempt, "err", err)
	}
	if err == nil {
		err = o.flush(ctx)
	}
	s.stats.units.Add(1)
	if err != nil && ctx.Err() == nil {
		s.stats.errors.Add(1)
		s.log.Error("aws-s3: object not read; it will be read again at the next poll", "source", s.name,
			"bucket", s.cfg.Bucket, "key", j.key, "err", err)
	}
	o.finish(err)
}

// permanentError marks object errors a retry cannot fix (bad content, unknown
// compression).
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// read downloads the object once and delivers its records from o.next on.
func (o *objectRun) read(ctx context.Context) error {
	s := o.s
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(o.j.key)})
	if err != nil {
		return fmt.Errorf("get s3://%s/%s: %w", s.cfg.Bucket, o.j.key, err)
	}
	defer out.Body.Close()
	tb := &trackedBody{r: out.Body}
	body, closeFn, err := decompress(o.j.key, tb)
	if err != nil {
		return err
	}
	defer closeFn()
	r, err := awsevent.NewObjectReader(s.cfg.LogType, body,
		awsevent.ObjectInfo{Bucket: s.cfg.Bucket, Key: o.j.key, AccountAlias: s.cfg.AccountAlias},
		awsevent.Options{MaxRecordBytes: s.maxRec})
	if err != nil {
		return permanentError{fmt.Errorf("read s3://%s/%s: %w", s.cfg.Bucket, o.j.key, err)}
	}
	for {
		ev, idx, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var re *awsevent.RecordError
			if errors.As(err, &re) && !re.Fatal {
				o.badRecord(err)
				continue
			}
			if tb.err != nil {
				// The download broke, not the object: read it again from here.
				return fmt.Errorf("download s3://%s/%s: %w", s.cfg.Bucket, o.j.key, tb.err)
			}
			if errors.As(err, &re) {
				// A broken object (truncated gzip, syntax error in a records
				// document): what was read is kept, the rest cannot be reached.
				o.badRecord(err)
				return nil
			}
			return fmt.Errorf("read s3://%s/%s: %w", s.cfg.Bucket, o.j.key, err)
		}
		if idx < o.next {
			continue // delivered before a retry
		}
		o.next = idx + 1
		if o.discard != nil && o.discarded(ev) {
			continue
		}
		if err := o.add(ctx, ev, idx); err != nil {
			return err
		}
	}
}

// trackedBody remembers a failure of the download itself, so that a connection
// that breaks mid-object is told apart from an object whose content is broken.
type trackedBody struct {
	r   io.Reader
	err error
}

func (t *trackedBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	return n, err
}

func (o *objectRun) badRecord(err error) {
	o.bad++
	o.s.stats.errors.Add(1)
	if o.bad == 1 {
		o.s.log.Warn("aws-s3: bad record skipped", "source", o.s.name, "bucket", o.s.cfg.Bucket,
			"key", o.j.key, "err", err)
	}
}

// decompress picks the object's decoding from its first bytes (gzip, zip) or its
// name (.snappy is refused, as by Wazuh).
func decompress(key string, body io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(body, 256<<10)
	magic, _ := br.Peek(4)
	switch {
	case strings.HasSuffix(key, ".snappy"):
		return nil, nil, permanentError{fmt.Errorf("%s: snappy-compressed objects are not supported", key)}
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, permanentError{fmt.Errorf("%s: gzip: %w", key, err)}
		}
		return zr, func() { zr.Close() }, nil
	case len(magic) == 4 && string(magic) == "PK\x03\x04":
		return unzip(key, br)
	}
	return br, func() {}, nil
}

// unzip spools a zip object to a temporary file (zip needs random access) and
// returns its first member, as Wazuh reads zip objects.
func unzip(key string, r io.Reader) (io.Reader, func(), error) {
	f, err := os.CreateTemp("", "skywatch-s3-*.zip")
	if err != nil {
		return nil, nil, fmt.Errorf("%s: spool zip: %w", key, err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, r)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("%s: spool zip: %w", key, err)
	}
	zr, err := zip.NewReader(f, n)
	if err != nil || len(zr.File) == 0 {
		cleanup()
		return nil, nil, permanentError{fmt.Errorf("%s: zip: %v", key, err)}
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		cleanup()
		return nil, nil, permanentError{fmt.Errorf("%s: zip member: %w", key, err)}
	}
	return rc, func() { rc.Close(); cleanup() }, nil
}

// add appends one event to the open batch, emitting it when full.
func (o *objectRun) add(ctx context.Context, ev []byte, idx int64) error {
	s := o.s
	if o.batch == nil {
		o.batch = source.NewBatch()
	}
	o.batch.Add(event.Event{
		Location: "Wazuh-AWS", AgentID: event.LocalAgentID, AgentName: s.agent, Received: s.now(),
		Origin: event.Origin{Source: s.name, Unit: "s3://" + s.cfg.Bucket + "/" + o.j.key, Offset: idx},
	}, ev)
	s.stats.events.Add(1)
	if len(o.batch.Events) >= batchSize || len(o.batch.Arena) >= 4<<20 {
		return o.flush(ctx)
	}
	return nil
}

// flush emits the open batch.
func (o *objectRun) flush(ctx context.Context) error {
	b := o.batch
	if b == nil {
		return nil
	}
	o.batch = nil
	o.mu.Lock()
	o.pending++
	o.mu.Unlock()
	b.Ack = o.ack
	if err := o.emit(ctx, b); err != nil {
		o.ack(err)
		return err
	}
	return nil
}

func (o *objectRun) ack(err error) {
	o.mu.Lock()
	o.pending--
	if err != nil {
		o.failed = true
	}
	o.check()
	o.mu.Unlock()
}

// finish records that reading ended (with err if it failed).
func (o *objectRun) finish(err error) {
	o.mu.Lock()
	o.ended = true
	if err != nil {
		o.failed = true
	}
	o.check()
	o.mu.Unlock()
}

// check reports the object once reading ended and every batch is acknowledged.
// Called with o.mu held.
func (o *objectRun) check() {
	if !o.ended || o.pending > 0 {
		return
	}
	o.ended = false // report once
	if o.failed {
		o.s.objectFailed(o.j.dk, o.j.key)
	} else {
		o.s.objectDone(o.j.dk, o.j.key)
	}
}

// fieldValue finds one flattened field of an event.
type fieldValue struct {
	want  string
	value []byte
	found bool
}

func (f *fieldValue) WriteField(key, val []byte, _ uint64, _ bool) {
	if !f.found && string(key) == f.want {
		f.value, f.found = append(f.value[:0], val...), true
	}
}

// discarded applies the discard option: the field is looked up inside the record
// (under "aws.") and matched from its start.
func (o *objectRun) discarded(ev []byte) bool {
	fv := fieldValue{want: "aws." + o.s.cfg.Discard.Field}
	var fl event.Flattener
	if fl.Flatten(ev, event.FlattenOptions{}, &fv) != nil || !fv.found {
		return false
	}
	if o.discard.Match(fv.value) {
		o.s.stats.discarded.Add(1)
		return true
	}
	return false
}

// removeObjects deletes objects whose alerts are durable (remove_from_bucket).
func (s *Source) removeObjects(keys []string) {
	ctx := context.Background()
	for _, k := range keys {
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(k)}); err != nil {
			s.log.Error("aws-s3: remove_from_bucket failed", "source", s.name, "bucket", s.cfg.Bucket, "key", k, "err", err)
		}
	}
}
