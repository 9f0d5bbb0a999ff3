// Package deadletter keeps the alerts an output's remote refused for good: one
// JSON line per alert, with the reason, in <data_dir>/dead-letter/<output>.jsonl.
// An output forgets a refused alert only once its line is synced here, so a
// refusal never loses an alert silently; operators inspect the file and send
// the alerts again once the cause is fixed.
package deadletter

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Path is an output's default dead-letter file: <dataDir>/dead-letter/<name>.jsonl,
// with characters that cannot be part of a file name replaced.
func Path(dataDir, name string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, name)
	if safe == "" || safe == "." || safe == ".." {
		safe = "output"
	}
	return filepath.Join(dataDir, "dead-letter", safe+".jsonl")
}

// File appends JSON lines to one file. The file (0600, in a 0750 folder) is
// created at the first line, so outputs that never refuse anything leave none.
// A File is not safe for concurrent use.
type File struct {
	path  string
	f     *os.File
	dirty bool
}

// New returns the dead-letter file at path; nothing is created yet.
func New(path string) *File { return &File{path: path} }

// Path returns the file's path.
func (d *File) Path() string { return d.path }

// Append writes lines, each ending in a newline. A failed write is cut off
// again, so the file never keeps a torn line.
func (d *File) Append(lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	if d.f == nil {
		if err := d.open(); err != nil {
			return err
		}
	}
	st, err := d.f.Stat()
	if err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	if _, err := d.f.Write(lines); err != nil {
		_ = d.f.Truncate(st.Size())
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	d.dirty = true
	return nil
}

// open creates the file and makes its directory entry durable.
func (d *File) open() error {
	dir := filepath.Dir(d.path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	if dirf, err := os.Open(dir); err == nil {
		err = dirf.Sync()
		dirf.Close()
		if err != nil {
			f.Close()
			return fmt.Errorf("dead-letter file %s: sync directory: %w", d.path, err)
		}
	}
	d.f = f
	return nil
}

// Sync makes the lines appended so far durable.
func (d *File) Sync() error {
	if d.f == nil || !d.dirty {
		return nil
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	d.dirty = false
	return nil
}

// AppendSync appends lines and syncs them.
func (d *File) AppendSync(lines []byte) error {
	if err := d.Append(lines); err != nil {
		return err
	}
	return d.Sync()
}

// Close syncs and closes the file.
func (d *File) Close() error {
	if d.f == nil {
		return nil
	}
	err := d.Sync()
	if cerr := d.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("dead-letter file %s: %w", d.path, cerr)
	}
	d.f = nil
	return err
}
