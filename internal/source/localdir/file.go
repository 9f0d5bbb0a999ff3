package localdir

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/decode/awsevent"
	"github.com/skywatch-dev/skywatch/internal/decode/jsonstream"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// fileState is a file's checkpoint: how many of its records are acknowledged.
type fileState struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime"`
	Records int64  `json:"records"`
	Done    bool   `json:"done"`
	Error   string `json:"error,omitempty"`
	// Head fingerprints the file's first bytes, so a file that changed can be told
	// apart: same head, it grew (read on from Records); other head, it was replaced
	// (read from the start).
	Head string `json:"head,omitempty"`
}

// headBytes is how much of a file's start its fingerprint covers.
const headBytes = 4096

func fingerprint(f *os.File, size int64) (string, error) {
	n := min(size, headBytes)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:12]), nil
}

func (s *Source) loadState(path string) (fileState, error) {
	var st fileState
	if s.state == nil {
		return st, nil
	}
	b, ok, err := s.state.Get(s.name, path)
	if err != nil || !ok {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return fileState{}, fmt.Errorf("read checkpoint of %s: %w", path, err)
	}
	return st, nil
}

// readFile streams one file's records to the pipeline in batches.
func (s *Source) readFile(ctx context.Context, path string, emit source.Emit) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	st, err := s.loadState(path)
	if err != nil {
		return err
	}
	size, mtime := info.Size(), info.ModTime().UnixNano()
	s.stats.newest.Observe(info.ModTime())
	if st.Done && st.Size == size && st.ModTime == mtime {
		s.stats.skipped.Add(1)
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	head, err := fingerprint(f, size)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if st.Records > 0 && (size < st.Size || (st.Head != "" && st.Size >= headBytes && head != st.Head)) {
		// Replaced or truncated, not appended to: every record is new.
		s.log.Info("local source: file changed, reading it again from the start", "source", s.name, "file", path)
		st.Records = 0
	}
	t := s.track(path, fileState{Size: size, ModTime: mtime, Records: st.Records, Head: head})
	r := &recordReader{src: s, path: path, rel: s.relName(path), t: t, skip: st.Records, start: st.Records, emit: emit,
		account: awsevent.AccountFromKey(filepath.Base(path))}
	err = r.readAll(ctx, f, size)
	t.finish(r.next, err)
	s.stats.units.Add(1)
	if err != nil {
		return dataError{err}
	}
	return nil
}

func (s *Source) relName(path string) string {
	if rel, err := filepath.Rel(string(s.cfg.Path), path); err == nil && rel != "." {
		return filepath.ToSlash(rel)
	}
	return filepath.Base(path)
}

// recordReader turns one file's records into batches.
type recordReader struct {
	src   *Source
	path  string
	rel   string
	t     *tracker
	skip  int64
	emit  source.Emit
	next  int64 // index of the next record
	start int64 // first record index of the open batch
	batch *source.Batch
	buf   []byte
	nerr  int
	// account is the AWS account named by the file (CloudTrail object names start
	// with it); records of files without one use their recipientAccountId.
	account string
}

func (r *recordReader) readAll(ctx context.Context, f *os.File, size int64) error {
	err := r.readStreams(ctx, f, size)
	// Records read before a failure are still delivered: only what follows the broken
	// spot is lost, and the file is checkpointed as done with its error.
	if ferr := r.flush(ctx); err == nil {
		err = ferr
	}
	return err
}

// readStreams reads the file's record streams: the file itself, its gzip content or
// each member of a zip archive.
func (r *recordReader) readStreams(ctx context.Context, f *os.File, size int64) error {
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", r.path, err)
	}
	br := getBufReader(f)
	defer bufReaders.Put(br)
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := getGzip(br)
		if err != nil {
			return fmt.Errorf("read %s: gzip: %w", r.path, err)
		}
		defer gzipReaders.Put(zr)
		return r.records(ctx, zr)
	case n == 4 && string(magic[:]) == "PK\x03\x04":
		zr, err := zip.NewReader(f, size)
		if err != nil {
			return fmt.Errorf("read %s: zip: %w", r.path, err)
		}
		for _, m := range zr.File {
			if m.FileInfo().IsDir() {
				continue
			}
			rc, err := m.Open()
			if err != nil {
				return fmt.Errorf("read %s: zip member %s: %w", r.path, m.Name, err)
			}
			err = r.records(ctx, rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	default:
		return r.records(ctx, br)
	}
}

// Readers are pooled: a bucket of small objects would otherwise allocate a buffer
// and a decompressor window per object.
var (
	bufReaders  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}
	gzipReaders sync.Pool
)

func getBufReader(f io.Reader) *bufio.Reader {
	br := bufReaders.Get().(*bufio.Reader)
	br.Reset(f)
	return br
}

func getGzip(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := gzipReaders.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

// records reads one stream of JSON records.
func (r *recordReader) records(ctx context.Context, in io.Reader) error {
	cfg := r.src.cfg
	if isAWSLogType(cfg.LogType) {
		return r.objectRecords(ctx, in)
	}
	jr := jsonstream.NewReader(in, jsonstream.Options{MaxRecordBytes: r.src.maxRec})
	mode := cfg.LogType
	cloudTrailSeen := false
	for {
		rec, off, err := jr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var re *jsonstream.RecordError
			if errors.As(err, &re) && !re.Fatal {
				r.badRecord(err)
				r.next++
				continue
			}
			return fmt.Errorf("read %s at offset %d: %w", r.path, off, err)
		}
		idx := r.next
		r.next++
		if idx < r.skip {
			continue
		}
		if mode == LogTypeAuto {
			mode = detect(jr.Format(), rec)
		}
		if mode == LogTypeCloudTrail && !cloudTrailSeen {
			// The CloudTrail wrapper parses (and checks) every record itself.
			jr.SetValidate(false)
			cloudTrailSeen = true
		}
		if err := r.add(ctx, rec, idx, mode); err != nil {
			return err
		}
	}
}

// detect picks the log type of a file from its first record: records of a
// {"Records":[...]} document that carry CloudTrail's eventVersion are CloudTrail;
// everything else (Azure {"records":[...]} exports, JSON lines) is passed as it is.
func detect(f jsonstream.Format, first []byte) string {
	head := first[:min(len(first), 512)]
	if f == jsonstream.RecordsArray && bytes.Contains(head, []byte(`"eventVersion"`)) {
		return LogTypeCloudTrail
	}
	return LogTypeJSON
}

func (r *recordReader) badRecord(err error) {
	r.nerr++
	r.src.stats.errors.Add(1)
	if r.nerr == 1 {
		r.src.log.Warn("local source: bad record skipped", "source", r.src.name, "file", r.path, "err", err)
	}
}

// add wraps one record as its log type requires and appends it to the open batch.
func (r *recordReader) add(ctx context.Context, rec []byte, idx int64, mode string) error {
	s := r.src
	loc := s.cfg.Location
	var err error
	switch mode {
	case LogTypeCloudTrail:
		if r.account == "" {
			// Like Wazuh's module: one account per file, the first one a record names.
			r.account = awsevent.RecipientAccountID(rec)
		}
		r.buf, err = awsevent.AppendCloudTrail(r.buf[:0], rec,
			awsevent.LogInfo{AccountAlias: s.cfg.AccountAlias, LogFile: r.rel}, r.account)
		if loc == "" {
			loc = "Wazuh-AWS"
		}
	case LogTypeGCP:
		r.buf = append(append(append(r.buf[:0], `{"integration":"gcp","gcp":`...), rec...), '}')
		if loc == "" {
			loc = "Wazuh-GCloud"
		}
	default:
		r.buf = append(r.buf[:0], rec...)
		if loc == "" {
			loc = "local"
		}
	}
	if err != nil {
		r.badRecord(fmt.Errorf("record %d: %w", idx, err))
		return nil
	}
	return r.addEvent(ctx, r.buf, loc, idx)
}

// flush emits the open batch, acknowledging records [start, next) when it is done.
func (r *recordReader) flush(ctx context.Context) error {
	start, end := r.start, r.next
	r.start = end
	b := r.batch
	r.batch = nil
	if b == nil {
		if end > start {
			r.t.ack(start, end, nil) // only skipped or bad records
		}
		return nil
	}
	t := r.t
	b.Ack = func(err error) { t.ack(start, end, err) }
	return r.emit(ctx, b)
}

// tracker follows one file's acknowledged record ranges and keeps the contiguous
// prefix as the file's checkpoint.
type tracker struct {
	src   *Source
	path  string
	mu    sync.Mutex
	st    fileState
	done  map[int64]int64 // acked ranges not yet contiguous: start -> end
	total int64           // records in the file, known when reading ends (-1 before)
	err   string
	dirty bool
}

func (s *Source) track(path string, st fileState) *tracker {
	t := &tracker{src: s, path: path, st: st, done: make(map[int64]int64), total: -1}
	s.trackMu.Lock()
	s.trackers[path] = t
	s.trackMu.Unlock()
	return t
}

func (t *tracker) ack(start, end int64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		return // not acknowledged: the records will be read again next time
	}
	start = max(start, t.st.Records)
	if end <= start {
		t.checkDone()
		return
	}
	t.done[start] = end
	for {
		e, ok := t.done[t.st.Records]
		if !ok {
			break
		}
		delete(t.done, t.st.Records)
		if e > t.st.Records {
			t.st.Records = e
		}
		t.dirty = true
	}
	t.checkDone()
}

// finish records how many records the file had and why reading stopped.
func (t *tracker) finish(total int64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total = total
	if err != nil {
		t.err = err.Error()
	}
	t.checkDone()
}

func (t *tracker) checkDone() {
	if t.total >= 0 && t.st.Records >= t.total && !t.st.Done {
		t.st.Done, t.st.Error, t.dirty = true, t.err, true
	}
}

// Commit writes the checkpoints of files whose acknowledged prefix moved, in one
// transaction, and forgets files that are complete.
func (s *Source) Commit() error {
	s.trackMu.Lock()
	defer s.trackMu.Unlock()
	type entry struct {
		path string
		val  []byte
	}
	var dirty []entry
	for path, t := range s.trackers {
		t.mu.Lock()
		if t.dirty {
			b, _ := json.Marshal(t.st)
			dirty = append(dirty, entry{path, b})
			t.dirty = false
		}
		if t.st.Done {
			delete(s.trackers, path)
		}
		t.mu.Unlock()
	}
	if len(dirty) == 0 || s.state == nil {
		return nil
	}
	err := s.state.Batch(func(tx *checkpoint.Tx) error {
		for _, e := range dirty {
			if err := tx.Put(s.name, e.path, e.val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit checkpoints of source %s: %w", s.name, err)
	}
	return nil
}
