// Package file is the alerts.json output: it appends each alert as one JSON line
// to a file, the way Wazuh's alerts.json is written, rotates the file daily and
// by size, and gzips rotated files in the background.
//
// See README.md for configuration, file naming and delivery semantics.
package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/skywatch-dev/skywatch/internal/sink"
)

// bufSize is how much is gathered before a write system call.
const bufSize = 256 << 10

// ErrClosed is returned by calls after Close.
var ErrClosed = errors.New("file sink is closed")

// ErrBadRecord is returned by Write for a record that cannot be one line: empty,
// or containing a newline (compact JSON never does).
var ErrBadRecord = errors.New("alert is not a single line of JSON")

// Options are the collaborators a Sink uses besides its configuration.
type Options struct {
	// Now is the clock used for daily rotation; nil means time.Now.
	Now func() time.Time
	// Logger receives problems of the background compression; nil discards them.
	Logger *slog.Logger
}

// Sink writes alerts to a file as JSON lines. It is meant for one goroutine: the
// pipeline's delivery loop calls Write, Flush and Close in turn, so the methods
// do not lock. Compression runs on a goroutine of its own that touches only
// rotated files.
type Sink struct {
	cfg      Config
	filter   sink.Filter
	matchAll bool
	now      func() time.Time
	mode     os.FileMode
	path     string
	names    archiveNames

	f    *os.File // nil until (re)opened, e.g. after a failed open during rotation
	buf  []byte   // accepted, not yet written; kept on write errors so retries resume exactly
	size int64    // bytes in the live file plus buf
	day  int      // yyyymmdd of the live file's first write

	syncErr error // a failed fsync: what it covered may be gone, so it is never retried
	closed  bool
	arch    *archiver
}

var _ sink.Sink = (*Sink)(nil)

// New validates cfg, opens (or creates) cfg.Path for appending, and finishes
// what a crash during compression left behind.
func New(cfg Config, opts Options) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("file sink: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	path := filepath.Clean(string(cfg.Path))
	s := &Sink{
		cfg:      cfg,
		filter:   cfg.Filter(),
		matchAll: cfg.Filter().IsZero(),
		now:      opts.Now,
		mode:     os.FileMode(cfg.Mode),
		path:     path,
		names:    newArchiveNames(path),
		buf:      make([]byte, 0, bufSize),
	}
	if err := os.MkdirAll(s.names.dir, 0o750); err != nil {
		return nil, fmt.Errorf("file sink: create directory: %w", err)
	}
	pending, err := s.names.recover(cfg.Compress)
	if err != nil {
		return nil, fmt.Errorf("file sink: recover rotated files: %w", err)
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	if cfg.Compress || cfg.MaxFiles > 0 {
		s.arch = startArchiver(s.names, cfg.Compress, cfg.MaxFiles, s.mode, opts.Logger)
		for _, p := range pending {
			s.arch.enqueue(p)
		}
		s.arch.enqueue("") // apply max_files to what is already there
	}
	return s, nil
}

// Write appends the records the filter takes, one line each. It may keep them
// in a buffer until Flush. On error some records of the batch may already have
// been accepted, so writing the batch again can duplicate them, never tear them.
func (s *Sink) Write(ctx context.Context, alerts []sink.Record) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	for i := range alerts {
		if j := alerts[i].JSON; len(j) == 0 || bytes.IndexByte(j, '\n') >= 0 {
			return fmt.Errorf("file sink: alert %q: %w", alerts[i].ID, ErrBadRecord)
		}
	}
	now := s.now()
	if err := s.rotateIfNewDay(now); err != nil {
		return err
	}
	for i := range alerts {
		r := &alerts[i]
		if !s.matchAll && !s.filter.Match(r) {
			continue
		}
		n := int64(len(r.JSON) + 1)
		if s.cfg.MaxSize > 0 && s.size > 0 && s.size+n > int64(s.cfg.MaxSize) {
			if err := s.rotate(now); err != nil {
				return err
			}
		}
		if len(s.buf) > 0 && len(s.buf)+int(n) > bufSize {
			if err := s.writeBuf(); err != nil {
				return err
			}
		}
		s.buf = append(s.buf, r.JSON...)
		s.buf = append(s.buf, '\n')
		s.size += n
	}
	return nil
}

// Flush writes what is buffered and fsyncs the file: when it returns nil, every
// record accepted so far is on disk. An fsync failure is final — the kernel may
// have dropped the data it covered — and Flush keeps reporting it; restarting
// replays the unacknowledged source units.
func (s *Sink) Flush(ctx context.Context) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	if err := s.writeBuf(); err != nil {
		return err
	}
	if err := s.sync(); err != nil {
		return err
	}
	// Rotating here as well means a quiet night still starts a new file soon
	// after midnight, as long as the pipeline keeps flushing.
	return s.rotateIfNewDay(s.now())
}

// Close flushes, closes the file and waits for background compression to
// finish. Later calls return nil.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	var errs []error
	if s.syncErr == nil && s.f != nil {
		if err := s.writeBuf(); err != nil {
			errs = append(errs, err)
		} else if err := s.sync(); err != nil {
			errs = append(errs, err)
		}
	} else if s.syncErr != nil {
		errs = append(errs, s.syncErr)
	}
	s.closed = true
	if s.f != nil {
		if err := s.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("file sink: close %s: %w", s.path, err))
		}
		s.f = nil
	}
	if s.arch != nil {
		errs = append(errs, s.arch.stop())
	}
	return errors.Join(errs...)
}

// usable reports why the sink cannot take a call, and reopens the live file
// if an earlier rotation could not.
func (s *Sink) usable(ctx context.Context) error {
	switch {
	case s.closed:
		return ErrClosed
	case s.syncErr != nil:
		return s.syncErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.open()
}

// open opens the live file for appending unless it is open already. The day of
// a file that already has content is the day it was last written.
func (s *Sink) open() error {
	if s.f != nil {
		return nil
	}
	_, statErr := os.Stat(s.path)
	created := errors.Is(statErr, fs.ErrNotExist)
	if !created {
		if err := trimTornLine(s.path); err != nil {
			return fmt.Errorf("file sink: open %s: %w", s.path, err)
		}
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, s.mode)
	if err != nil {
		return fmt.Errorf("file sink: open: %w", err)
	}
	st, err := f.Stat()
	if err == nil && created {
		// The umask may have narrowed the mode; the configured one is the
		// contract. A file that was already there keeps its mode.
		err = f.Chmod(s.mode)
	}
	if err == nil && created {
		err = syncDir(s.names.dir)
	}
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("file sink: open %s: %w", s.path, err)
	}
	now := s.now()
	s.f, s.size, s.day = f, st.Size(), dayOf(now)
	if st.Size() > 0 {
		s.day = min(dayOf(st.ModTime().In(now.Location())), s.day)
	}
	return nil
}

// writeBuf writes the buffer to the file. What a failed write did not take stays
// in the buffer, so the next attempt continues the same line.
func (s *Sink) writeBuf() error {
	if len(s.buf) == 0 {
		return nil
	}
	n, err := s.f.Write(s.buf)
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	if err != nil {
		return fmt.Errorf("file sink: write %s: %w", s.path, err)
	}
	if cap(s.buf) > 4*bufSize {
		s.buf = make([]byte, 0, bufSize) // drop the room one huge alert needed
	}
	return nil
}

func (s *Sink) sync() error {
	if err := s.f.Sync(); err != nil {
		s.syncErr = fmt.Errorf("file sink: fsync %s: %w", s.path, err)
		return s.syncErr
	}
	return nil
}

// rotateIfNewDay rotates when daily rotation is on and now is on a later day
// than the live file's content. A clock that went backwards does not rotate.
func (s *Sink) rotateIfNewDay(now time.Time) error {
	d := dayOf(now)
	if !s.cfg.RotateDaily || d <= s.day {
		return nil
	}
	if s.size == 0 {
		s.day = d
		return nil
	}
	return s.rotate(now)
}

// rotate makes the live file durable, renames it after the day of its content
// and starts a new one. If the rename fails, the sink goes on with the old file.
func (s *Sink) rotate(now time.Time) error {
	if err := s.writeBuf(); err != nil {
		return err
	}
	if err := s.sync(); err != nil {
		return err
	}
	target, err := s.names.next(s.day)
	if err != nil {
		return fmt.Errorf("file sink: rotate: %w", err)
	}
	if err := os.Rename(s.path, target); err != nil {
		return fmt.Errorf("file sink: rotate: %w", err)
	}
	closeErr := s.f.Close()
	s.f = nil
	if s.arch != nil {
		s.arch.enqueue(target)
	}
	if closeErr != nil {
		return fmt.Errorf("file sink: rotate: close %s: %w", target, closeErr)
	}
	// open syncs the directory after creating the new file, which also makes
	// the rename durable.
	if err := s.open(); err != nil {
		return err
	}
	s.day = dayOf(now)
	return nil
}

// dayOf returns t's calendar day in t's location as yyyymmdd.
func dayOf(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

func dayString(day int) string {
	return fmt.Sprintf("%04d-%02d-%02d", day/10000, day/100%100, day%100)
}

// syncDir fsyncs a directory so that names created, renamed or removed in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		return nil // some file systems cannot sync directories; nothing more to do
	}
	return err
}

// trimTornLine cuts a partial last line left by a process killed in the middle of a
// write. Such a line was never flushed as a whole, so no source unit was
// acknowledged for it: the alert will be written again, and cutting keeps the file
// one valid JSON object per line.
func trimTornLine(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	size := st.Size()
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	// Look back for the end of the last complete line.
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return truncateSync(f, start+int64(i)+1)
		}
		end = start
	}
	return truncateSync(f, 0)
}

func truncateSync(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}
