package notify

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DeadLetterPath is the default dead-letter file of an output:
// <dataDir>/dead-letter/<name>.jsonl, with characters that cannot be part of a
// file name replaced.
func DeadLetterPath(dataDir, name string) string {
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

// DeadLetterEntry is one line of a dead-letter file.
type DeadLetterEntry struct {
	Time    time.Time `json:"time"`
	Output  string    `json:"output"`
	AlertID string    `json:"alert_id"`
	// Status is the HTTP status of the refusal; 0 when there was no response
	// (gave up on network errors, or the alert could not be encoded).
	Status int    `json:"status,omitempty"`
	Reason string `json:"reason"`
	// Attempts is how many requests were made for the alert.
	Attempts int             `json:"attempts"`
	Alert    json.RawMessage `json:"alert"`
}

// deadLetter appends entries to a JSON-lines file, created (0600, directory
// 0750) at the first entry, so outputs that never refuse anything leave no
// file behind.
type deadLetter struct {
	path  string
	f     *os.File
	dirty bool
}

func (d *deadLetter) append(e DeadLetterEntry) error {
	if d.f == nil {
		if err := os.MkdirAll(filepath.Dir(d.path), 0o750); err != nil {
			return fmt.Errorf("dead-letter file: %w", err)
		}
		f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("dead-letter file: %w", err)
		}
		d.f = f
	}
	if !json.Valid(e.Alert) {
		// Keep the line valid JSON whatever the record held.
		s, _ := json.Marshal(string(e.Alert))
		e.Alert = s
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	line = append(line, '\n')
	if _, err := d.f.Write(line); err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	d.dirty = true
	return nil
}

func (d *deadLetter) sync() error {
	if d.f == nil || !d.dirty {
		return nil
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	d.dirty = false
	return nil
}

func (d *deadLetter) close() error {
	if d.f == nil {
		return nil
	}
	err := d.sync()
	if cerr := d.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("dead-letter file %s: %w", d.path, cerr)
	}
	d.f = nil
	return err
}
