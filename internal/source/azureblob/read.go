package azureblob

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/skywatch-dev/skywatch/internal/decode/jsonstream"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Batch bounds.
const (
	batchEvents = 500
	batchBytes  = 1 << 20
	// readAttempts bounds the downloads of one blob in a pass: a body that
	// breaks is downloaded again from the last record read.
	readAttempts = 4
)

// errContent marks bad blob content (as opposed to a failed download): it is
// logged and counted, and the blob counts as read up to the last good record.
var errContent = errors.New("bad content")

// blobRead is the reading of one blob in one pass: the records handed over in
// batches, and their acknowledgements, which move the blob's checkpoint to the
// end of the last record before which every batch is acknowledged.
type blobRead struct {
	s    *Source
	j    job
	emit source.Emit
	unit string

	st  blobState // the version being read; Off is the acknowledged offset
	pos int64     // end of the last record put in a batch
	// skipBefore drops records starting before it (a gzip blob read again).
	skipBefore int64

	version string // ETag of the version downloaded in this pass
	batch   *source.Batch
	mu      sync.Mutex
	base    int // batches dropped from the front of ends/acked
	// maxEvents bounds a batch (0: batchEvents).
	maxEvents int
	ends      []int64 // end offsets of the batches emitted and not yet contiguous
	acked     []bool
	pending   int
	failed    bool
	ended     bool
	complete  bool // read to the end
	buf       []byte
}

// read reads one blob and reports its fate to its group when every batch is
// acknowledged.
func (s *Source) read(ctx context.Context, j job, emit source.Emit) {
	r := &blobRead{s: s, j: j, emit: emit, unit: unit(j.container, j.name)}
	r.st = blobState{ETag: j.etag, Size: j.size, Modified: j.modified.UnixNano()}
	if p := j.prev; p != nil && j.size >= p.Size && p.Off > 0 {
		// The blob grew (or its last read stopped early): read on.
		r.st.Off, r.st.Form, r.st.Gzip = p.Off, p.Form, p.Gzip
		r.pos = p.Off
	} else if p != nil {
		s.log.Info("azure-blob: blob was rewritten, reading it again from the start", "source", s.name, "blob", r.unit)
	}
	s.stats.units.Add(1)
	var err error
	for attempt := 1; ; attempt++ {
		var progressed bool
		progressed, err = r.attempt(ctx)
		if err == nil || errors.Is(err, errContent) || ctx.Err() != nil {
			break
		}
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			s.log.Info("azure-blob: blob deleted before it was read", "source", s.name, "blob", r.unit)
			err = nil
			break
		}
		if progressed {
			attempt = 0 // the body broke after some records: the blob is finite, go on
		}
		if attempt >= readAttempts {
			break
		}
		s.log.Info("azure-blob: download broke, reading on from the last record", "source", s.name, "blob", r.unit, "offset", r.pos, "err", err)
	}
	switch {
	case err == nil:
		r.complete = true
	case errors.Is(err, errContent):
		s.stats.errors.Add(1)
		s.log.Warn("azure-blob: bad blob content, rest of blob skipped", "source", s.name, "blob", r.unit, "err", err)
		r.complete = true
		err = nil
	case ctx.Err() == nil:
		s.stats.errors.Add(1)
		s.log.Warn("azure-blob: blob read failed, to be read again next pass", "source", s.name, "blob", r.unit, "offset", r.pos, "err", err)
	}
	if err == nil {
		err = r.flush(ctx)
	}
	if r.batch != nil { // not handed over: its records are read again next time
		source.Release(r.batch)
		r.batch = nil
	}
	r.finish(err)
}

// attempt downloads the blob from where reading stands and reads it to the end.
// It reports whether any record was read.
func (r *blobRead) attempt(ctx context.Context) (bool, error) {
	start := r.pos
	if r.st.Gzip {
		start, r.skipBefore = 0, r.pos // compressed: no ranges; read again, skip what was read
	}
	opts := &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: start}}
	if r.version != "" {
		// Reading on within this pass: the same version, or nothing.
		etag := azcore.ETag(r.version)
		opts.AccessConditions = &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &etag}}
	}
	resp, err := r.s.client.DownloadStream(ctx, r.j.container, r.j.name, opts)
	if err != nil {
		if bloberror.HasCode(err, bloberror.InvalidRange) {
			return false, nil // nothing past the offset
		}
		return false, fmt.Errorf("download %s from offset %d: %w", r.unit, start, err)
	}
	body := resp.Body
	defer body.Close()
	if resp.ETag != nil {
		r.version = string(*resp.ETag) // later attempts of this pass stick to this version
		r.st.ETag = r.version
	}
	if resp.ContentLength != nil {
		r.st.Size = start + *resp.ContentLength
	}
	before := r.pos
	err = r.parse(ctx, body, start)
	return r.pos > before, err
}

// parse reads the records of body, which starts at blob offset start.
func (r *blobRead) parse(ctx context.Context, body io.Reader, start int64) error {
	br := bufio.NewReaderSize(body, 64<<10)
	var in io.Reader = br
	if start == 0 {
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return fmt.Errorf("%w: %s: gzip: %v", errContent, r.unit, err)
			}
			defer zr.Close()
			in, r.st.Gzip = zr, true
		}
	}
	if r.s.cfg.ContentType == Text {
		r.st.Form = "t"
		return r.parseText(ctx, in, start)
	}
	return r.parseJSON(ctx, in, start)
}

// arrayResume makes a records array readable from the middle: the stream read
// on from the end of a record starts with ',' or ']', so a one-element array
// opening is put in front, whose element is dropped.
const arrayResume = `{"records":[0`

// parseJSON reads JSON records (json_file, json_inline).
func (r *blobRead) parseJSON(ctx context.Context, in io.Reader, start int64) error {
	opt := jsonstream.Options{MaxRecordBytes: r.s.maxRec}
	shift := start // blob offset = stream offset + shift
	resumeArray := start > 0 && r.st.Form == "a" && r.s.cfg.ContentType == JSONFile
	switch {
	case r.s.cfg.ContentType == JSONInline || (start > 0 && r.st.Form == "l"):
		opt.Format = jsonstream.Lines
	case start > 0 && r.st.Form == "c":
		opt.Format = jsonstream.Concatenated
	case resumeArray:
		opt.Format = jsonstream.RecordsArray
		in = io.MultiReader(strings.NewReader(arrayResume), in)
		shift -= int64(len(arrayResume))
	}
	rd := jsonstream.NewReader(in, opt)
	for {
		rec, off, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if r.st.Form == "" {
			switch rd.Format() {
			case jsonstream.RecordsArray:
				r.st.Form = "a"
			case jsonstream.Concatenated:
				r.st.Form = "c"
			default:
				r.st.Form = "l"
			}
		}
		var re *jsonstream.RecordError
		if err != nil {
			if !errors.As(err, &re) {
				return fmt.Errorf("read %s: %w", r.unit, err)
			}
			if re.Fatal {
				if !errors.Is(err, jsonstream.ErrSyntax) && !errors.Is(err, jsonstream.ErrTruncated) && !errors.Is(err, jsonstream.ErrTooLarge) {
					return fmt.Errorf("read %s at offset %d: %w", r.unit, off+shift, err)
				}
				return fmt.Errorf("%w: %s at offset %d: %v", errContent, r.unit, off+shift, re.Err)
			}
			r.bad(off+shift, re.Err)
			continue
		}
		if resumeArray && off < int64(len(arrayResume)) {
			continue // the element put in front
		}
		boff := off + shift
		if boff < r.skipBefore {
			continue
		}
		if err := r.addJSON(ctx, rec, boff); err != nil {
			return err
		}
	}
}

// addJSON turns one record into its event.
func (r *blobRead) addJSON(ctx context.Context, rec []byte, off int64) error {
	end := off + int64(len(rec))
	var err error
	r.buf = r.buf[:0]
	if r.s.cfg.ContentType == JSONInline {
		r.buf, err = appendInline(r.buf, rec, r.s.cfg.Tag)
	} else {
		r.buf, err = appendPyRecord(r.buf, rec, r.s.cfg.Tag)
	}
	if err != nil {
		r.bad(off, err)
		r.pos = end
		return nil
	}
	return r.add(ctx, r.buf, off, end)
}

// appendInline splices the tags into a JSON line as Wazuh does for
// json_inline: in place of the object's opening brace.
func appendInline(dst, rec []byte, tag string) ([]byte, error) {
	if len(rec) == 0 || rec[0] != '{' {
		return dst, errNotObject
	}
	dst = append(dst, `{"azure_tag": "azure-storage"`...)
	if tag != "" {
		dst = append(dst, `, "azure_storage_tag": "`...)
		dst = append(dst, tag...)
		dst = append(dst, '"')
	}
	rest := rec[1:]
	if len(bytes.TrimLeft(rest, " \t\r\n")) == 1 { // {} : no member to separate
		return append(dst, '}'), nil
	}
	dst = append(dst, ", "...)
	return append(dst, rest...), nil
}

// parseText reads text lines: each non-empty line is one event.
func (r *blobRead) parseText(ctx context.Context, in io.Reader, start int64) error {
	br := bufio.NewReaderSize(in, 64<<10)
	off := start
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(line) <= r.s.maxRec {
				long = append(long, line...)
			}
			off += int64(len(line))
			continue
		}
		lineStart := off - int64(len(long))
		off += int64(len(line))
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		if len(line) > 0 {
			text := bytes.TrimRight(line, "\r\n")
			switch {
			case lineStart < r.skipBefore:
			case len(line) > r.s.maxRec:
				r.bad(lineStart, jsonstream.ErrTooLarge)
				r.pos = off
			case len(text) == 0:
				r.pos = off
			default:
				r.buf = append(r.buf[:0], "azure_tag: azure-storage."...)
				if r.s.cfg.Tag != "" {
					r.buf = append(r.buf, " azure_storage_tag: "...)
					r.buf = append(r.buf, r.s.cfg.Tag...)
					r.buf = append(r.buf, '.')
				}
				r.buf = append(r.buf, ' ')
				r.buf = append(r.buf, text...)
				if aerr := r.add(ctx, r.buf, lineStart, off); aerr != nil {
					return aerr
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s at offset %d: %w", r.unit, off, err)
		}
	}
}

// bad counts and logs a record that cannot be sent.
func (r *blobRead) bad(off int64, err error) {
	r.s.stats.errors.Add(1)
	r.s.log.Warn("azure-blob: record skipped", "source", r.s.name, "blob", r.unit, "offset", off, "err", err)
}

// add puts one event in the open batch, emitting it when full.
func (r *blobRead) add(ctx context.Context, text []byte, off, end int64) error {
	if r.batch == nil {
		r.batch = source.NewBatch()
	}
	r.batch.Add(event.Event{Location: Location, AgentID: event.LocalAgentID, AgentName: r.s.agent, Received: r.s.now(),
		Origin: event.Origin{Source: r.s.name, Unit: r.unit, Offset: off}}, text)
	r.pos = end
	limit := batchEvents
	if r.maxEvents > 0 {
		limit = r.maxEvents
	}
	if len(r.batch.Events) >= limit || len(r.batch.Arena) >= batchBytes {
		return r.flush(ctx)
	}
	return nil
}

// flush emits the open batch. A batch the pipeline refuses counts as failed.
func (r *blobRead) flush(ctx context.Context) error {
	b := r.batch
	if b == nil {
		return nil
	}
	r.batch = nil
	n := len(b.Events)
	r.mu.Lock()
	idx := r.base + len(r.ends)
	r.ends = append(r.ends, r.pos)
	r.acked = append(r.acked, false)
	r.pending++
	r.mu.Unlock()
	if err := r.s.flight.Emit(ctx, r.emit, b, func(err error) { r.ack(idx, err) }); err != nil {
		return err
	}
	r.s.stats.events.Add(int64(n))
	return nil
}

// ack records a batch's fate and moves the blob's acknowledged offset over the
// batches acknowledged in a row from the first.
func (r *blobRead) ack(idx int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending--
	if err != nil {
		r.failed = true
	} else {
		r.acked[idx-r.base] = true
		for len(r.acked) > 0 && r.acked[0] && !r.failed {
			r.st.Off = r.ends[0]
			r.ends, r.acked = r.ends[1:], r.acked[1:]
			r.base++
		}
	}
	r.check()
}

// finish records that reading is over, failed when err is not nil.
func (r *blobRead) finish(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = true
	r.failed = r.failed || err != nil
	r.check()
}

// check reports the blob once reading is over and every batch acknowledged.
// Called with r.mu held.
func (r *blobRead) check() {
	if !r.ended || r.pending > 0 {
		if !r.failed && r.st.Off > 0 {
			r.s.progress(r.j.key, r.st)
		}
		return
	}
	r.ended = false // report once
	ok := !r.failed
	if ok {
		r.st.Off = max(r.st.Off, r.pos)
		r.st.Done = r.complete
		r.s.progress(r.j.key, r.st)
		if r.st.Done {
			r.s.stats.newest.Observe(r.j.modified)
		}
	} else if r.st.Off > 0 {
		r.s.progress(r.j.key, r.st)
	}
	r.s.blobFinished(r.j.group, ok)
}
