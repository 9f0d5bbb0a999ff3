package awss3

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/skywatch-dev/skywatch/internal/decode/awsevent"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// An object's events are emitted in batches of at most batchSize events or
// batchBytes bytes of event text.
const (
	batchSize  = 256
	batchBytes = 4 << 20
)

// ObjectAPI is the part of the S3 client reading objects needs.
type ObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Counters count what a Reader did.
type Counters struct {
	Units, Events, Errors, Discarded atomic.Int64
	// Newest is the latest LastModified of the objects read.
	Newest source.NewestTime
}

// Reader reads S3 objects of one log type into batches of Wazuh-shaped events. The
// aws-s3 source uses it for the objects it lists; the aws-sqs source for the objects
// notifications name.
type Reader struct {
	Client       ObjectAPI
	LogType      string
	AccountAlias string
	// Discard, when set, drops events whose DiscardField matches it from its start.
	Discard      *regexp.Regexp
	DiscardField string
	// MaxRecordBytes caps one record (0 = the decoder's default).
	MaxRecordBytes int
	// MaxAttempts is how many times a broken download is retried (from the record
	// where it broke) before the object is given up for now.
	MaxAttempts int
	// Source and Agent fill the events' origin and agent; Now gives receive times.
	Source, Agent string
	Now           func() time.Time
	Log           *slog.Logger
	Stats         *Counters
}

// objectRun reads one object and delivers its events through out.
type objectRun struct {
	r      *Reader
	bucket string
	key    string
	out    Batches
	// next and nextPart locate the next event to deliver (record index, event of
	// that record): a retry after a broken download skips what was delivered.
	next     int64
	nextPart int
	bad      int // bad records skipped
}

// Read reads one object into batches handed to emit, retrying a broken download
// from the record where it broke. done is called once, with true when every batch
// of the object was acknowledged without error (or it had no event), false when
// the object could not be fully delivered and must be read again.
func (r *Reader) Read(ctx context.Context, bucket, key string, emit source.Emit, done func(ok bool)) {
	o := &objectRun{r: r, bucket: bucket, key: key,
		out: Batches{Emit: emit, Done: done, MaxEvents: batchSize, MaxBytes: batchBytes}}
	var err error
	for attempt := 1; attempt <= max(r.MaxAttempts, 1); attempt++ {
		err = o.read(ctx)
		if err == nil || ctx.Err() != nil || IsPermanent(err) {
			break
		}
		r.Log.Warn("aws-s3: object read failed, retrying", "source", r.Source, "bucket", bucket,
			"key", key, "attempt", attempt, "err", err)
	}
	if err == nil {
		err = o.out.Flush(ctx)
	}
	r.Stats.Units.Add(1)
	if err != nil && ctx.Err() == nil {
		r.Stats.Errors.Add(1)
		r.Log.Error("aws-s3: object not read; it will be read again", "source", r.Source,
			"bucket", bucket, "key", key, "err", err)
	}
	o.out.Finish(err)
}

// permanentError marks object errors a new read cannot fix (bad content, unknown
// compression).
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Permanent marks err as an object error a new read cannot fix, such as broken
// content: a reader that sees it does not retry the download.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err is, or wraps, an error marked by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// read downloads the object once and delivers its records from o.next on.
func (o *objectRun) read(ctx context.Context) error {
	rd := o.r
	out, err := rd.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)})
	if err != nil {
		return fmt.Errorf("get s3://%s/%s: %w", o.bucket, o.key, err)
	}
	defer out.Body.Close()
	tb := &trackedBody{r: out.Body}
	body, closeFn, err := decompress(o.key, tb)
	if err != nil {
		return err
	}
	defer closeFn()
	r, err := awsevent.NewObjectReader(rd.LogType, body,
		awsevent.ObjectInfo{Bucket: o.bucket, Key: o.key, AccountAlias: rd.AccountAlias},
		awsevent.Options{MaxRecordBytes: rd.MaxRecordBytes})
	if err != nil {
		return permanentError{fmt.Errorf("read s3://%s/%s: %w", o.bucket, o.key, err)}
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
				return fmt.Errorf("download s3://%s/%s: %w", o.bucket, o.key, tb.err)
			}
			if errors.As(err, &re) {
				// A broken object (truncated gzip, syntax error in a records
				// document): what was read is kept, the rest cannot be reached.
				o.badRecord(err)
				return nil
			}
			return fmt.Errorf("read s3://%s/%s: %w", o.bucket, o.key, err)
		}
		part, _ := r.Part()
		if idx < o.next || (idx == o.next && part < o.nextPart) {
			continue // delivered before a retry
		}
		o.next, o.nextPart = idx, part+1
		if rd.Discard != nil && o.discarded(ev) {
			continue
		}
		if err := o.add(ctx, ev, awsevent.EventOffset(idx, part)); err != nil {
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
	o.r.Stats.Errors.Add(1)
	if o.bad == 1 {
		o.r.Log.Warn("aws-s3: bad record skipped", "source", o.r.Source, "bucket", o.bucket,
			"key", o.key, "err", err)
	}
}

// decompress picks the object's decoding from its first bytes (gzip, zip) or its
// name (.snappy is refused, as by Wazuh).
func decompress(key string, body io.Reader) (io.Reader, func(), error) {
	br := bufReaders.Get().(*bufio.Reader)
	br.Reset(body)
	release := func() { br.Reset(nil); bufReaders.Put(br) }
	magic, _ := br.Peek(4)
	switch {
	case strings.HasSuffix(key, ".snappy"):
		release()
		return nil, nil, permanentError{fmt.Errorf("%s: snappy-compressed objects are not supported", key)}
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := getGzip(br)
		if err != nil {
			release()
			return nil, nil, permanentError{fmt.Errorf("%s: gzip: %w", key, err)}
		}
		return zr, func() { gzipReaders.Put(zr); release() }, nil
	case len(magic) == 4 && string(magic) == "PK\x03\x04":
		r, closeFn, err := unzip(key, br)
		if err != nil {
			release()
			return nil, nil, err
		}
		return r, func() { closeFn(); release() }, nil
	}
	return br, release, nil
}

// Readers are pooled: a bucket of small objects would otherwise allocate a buffer
// and a decompressor window per object.
var (
	bufReaders  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}
	gzipReaders sync.Pool
)

func getGzip(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := gzipReaders.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
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

// add delivers one event of the object.
func (o *objectRun) add(ctx context.Context, ev []byte, idx int64) error {
	rd := o.r
	rd.Stats.Events.Add(1)
	return o.out.Add(ctx, event.Event{
		Location: "Wazuh-AWS", AgentID: event.LocalAgentID, AgentName: rd.Agent, Received: rd.Now(),
		Origin: event.Origin{Source: rd.Source, Unit: "s3://" + o.bucket + "/" + o.key, Offset: idx},
	}, ev)
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

// FieldMatches reports whether re matches the value of field in the JSON event
// ev: field is dotted, as Wazuh names flattened fields, and its value is in
// Wazuh's text form. An event without the field, or not valid JSON, does not
// match. This is the test of the discard option.
func FieldMatches(ev []byte, field string, re *regexp.Regexp) bool {
	fv := fieldValue{want: field}
	var fl event.Flattener
	if fl.Flatten(ev, event.FlattenOptions{}, &fv) != nil || !fv.found {
		return false
	}
	return re.Match(fv.value)
}

// discarded applies the discard option: the field is looked up inside the record
// (under "aws.") and matched from its start.
func (o *objectRun) discarded(ev []byte) bool {
	if FieldMatches(ev, "aws."+o.r.DiscardField, o.r.Discard) {
		o.r.Stats.Discarded.Add(1)
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
