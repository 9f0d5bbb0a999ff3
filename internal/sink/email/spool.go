package email

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/skywatch-dev/skywatch/internal/sink/deadletter"
)

// The spool is the outbox that lets Flush return before a digest is sent: a
// file of JSON lines, one per waiting alert
//
//	{"id":"…","level":12,"added":"2024-05-01T10:30:45.123Z","alert":{…}}
//
// and, once alerts are sent or dead-lettered, one line naming them
//
//	{"done":["…","…"]}
//
// Appending "done" lines instead of rewriting keeps the cost of a sent digest
// independent of the backlog; the file is emptied when nothing waits and
// rewritten when it is mostly done lines.

// spoolEntry is one waiting alert as stored.
type spoolEntry struct {
	ID    string          `json:"id"`
	Level int             `json:"level"`
	Added time.Time       `json:"added"`
	Alert json.RawMessage `json:"alert"`
}

type spoolLine struct {
	spoolEntry
	Done []string `json:"done"`
}

// compactAbove is the size from which a spool mostly made of done lines is
// rewritten.
const compactAbove = 1 << 20

type spool struct {
	path    string
	f       *os.File
	buf     []byte // lines not yet written
	size    int64  // bytes in the file plus buf
	syncErr error  // a failed fsync: what it covered may be lost, so it sticks
}

// openSpool reads the spool at path (creating its directory), returns the
// alerts still waiting in the order they came, and leaves the file holding
// just those. A last line cut short by a crash is ignored: it was never
// flushed, so the pipeline never acknowledged its alert.
func openSpool(path string) (*spool, []spoolEntry, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create spool directory: %w", err)
	}
	entries, err := readSpool(path)
	if err != nil {
		return nil, nil, err
	}
	s := &spool{path: path}
	if err := s.rewrite(entries); err != nil {
		return nil, nil, err
	}
	return s, entries, nil
}

func readSpool(path string) ([]spoolEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	defer f.Close()
	var entries []spoolEntry
	done := map[string]bool{}
	r := bufio.NewReaderSize(f, 64<<10)
	for lineNo := 1; ; lineNo++ {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break // a line without its newline is a torn last write
		}
		if err != nil {
			return nil, fmt.Errorf("read spool %s: %w", path, err)
		}
		var l spoolLine
		if err := json.Unmarshal(line, &l); err != nil {
			return nil, fmt.Errorf("spool %s:%d: %w", path, lineNo, err)
		}
		for _, id := range l.Done {
			done[id] = true
		}
		if l.Done == nil {
			entries = append(entries, l.spoolEntry)
		}
	}
	live := entries[:0]
	seen := map[string]bool{}
	for _, e := range entries {
		if !done[e.ID] && !seen[e.ID] {
			seen[e.ID] = true
			live = append(live, e)
		}
	}
	return live, nil
}

// appendEntry adds a waiting alert; it reaches the disk at sync.
func (s *spool) appendEntry(e *spoolEntry) {
	n := len(s.buf)
	s.buf = append(s.buf, `{"id":`...)
	s.buf = strconv.AppendQuote(s.buf, e.ID)
	s.buf = append(s.buf, `,"level":`...)
	s.buf = strconv.AppendInt(s.buf, int64(e.Level), 10)
	s.buf = append(s.buf, `,"added":"`...)
	s.buf = e.Added.UTC().AppendFormat(s.buf, time.RFC3339Nano)
	s.buf = append(s.buf, `","alert":`...)
	s.buf = append(s.buf, e.Alert...)
	s.buf = append(s.buf, "}\n"...)
	s.size += int64(len(s.buf) - n)
}

// appendDone records that the alerts ids need not be sent again.
func (s *spool) appendDone(ids []string) {
	line, _ := json.Marshal(struct {
		Done []string `json:"done"`
	}{ids})
	s.buf = append(append(s.buf, line...), '\n')
	s.size += int64(len(line) + 1)
}

// sync writes the buffered lines and fsyncs the file.
func (s *spool) sync() error {
	if s.syncErr != nil {
		return s.syncErr
	}
	if len(s.buf) > 0 {
		n, err := s.f.Write(s.buf)
		s.buf = s.buf[:copy(s.buf, s.buf[n:])] // keep what was not written for the retry
		if err != nil {
			return fmt.Errorf("write spool %s: %w", s.path, err)
		}
	}
	if err := s.f.Sync(); err != nil {
		s.syncErr = fmt.Errorf("fsync spool %s: %w", s.path, err)
		return s.syncErr
	}
	return nil
}

// settle shrinks the file after alerts were done: emptied when none wait,
// rewritten with the waiting ones when done lines dominate. live are the
// waiting alerts and liveBytes roughly their size.
func (s *spool) settle(live []spoolEntry, liveBytes int64) error {
	if err := s.sync(); err != nil {
		return err
	}
	switch {
	case len(live) == 0 && s.size > 0:
		if err := s.f.Truncate(0); err != nil {
			return fmt.Errorf("empty spool %s: %w", s.path, err)
		}
		s.size = 0
		return s.sync()
	case s.size > compactAbove && s.size > 4*liveBytes:
		return s.rewrite(live)
	}
	return nil
}

// rewrite replaces the file with one holding just entries, atomically.
func (s *spool) rewrite(entries []spoolEntry) error {
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("rewrite spool: %w", err)
	}
	w := &spool{path: tmp, f: f}
	for i := range entries {
		w.appendEntry(&entries[i])
	}
	err = w.sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(s.path))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rewrite spool %s: %w", s.path, err)
	}
	nf, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		// s.f now names the replaced file: writing on would go nowhere.
		s.syncErr = fmt.Errorf("reopen spool %s: %w", s.path, err)
		return s.syncErr
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.size, s.buf = nf, w.size, s.buf[:0]
	return nil
}

func (s *spool) close() error {
	err := s.sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// deadLetter appends one JSON line per alert, with the reason, to path and
// fsyncs it; the caller forgets the alerts only once this returned nil.
func deadLetter(path, output, reason string, now time.Time, alerts []spoolEntry) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep the alert's bytes as they were
	for _, a := range alerts {
		err := enc.Encode(struct {
			Time   time.Time       `json:"time"`
			Output string          `json:"output"`
			Reason string          `json:"reason"`
			ID     string          `json:"id"`
			Alert  json.RawMessage `json:"alert"`
		}{now.UTC(), output, reason, a.ID, a.Alert})
		if err != nil {
			return fmt.Errorf("dead-letter: encode alert %s: %w", a.ID, err)
		}
	}
	d := deadletter.New(path)
	err := d.AppendSync(buf.Bytes())
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
