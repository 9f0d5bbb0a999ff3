// Package checkpoint keeps the positions sources have reached — cursors, seen
// keys, query windows — in one embedded, crash-safe store, so that a restart
// resumes where processing durably ended.
//
// The store is a bbolt file (normally <data_dir>/state.db). Every commit is
// fsynced before Put, Delete or Batch returns, so whatever they reported as done
// survives a crash or power loss; a crash before that leaves the previous
// committed state. Values live in scopes (one per source name) of keys.
//
// A Store is safe for concurrent use. Only one process may open a store at a
// time; a second gets ErrLocked after one second.
package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrLocked is returned by Open when another process holds the store.
var ErrLocked = errors.New("state is locked by another skywatch process")

// lockTimeout is how long Open waits for another process to let go of the file.
const lockTimeout = time.Second

// rootBucket holds one nested bucket per scope, leaving room at the top level
// for other kinds of state later.
const rootBucket = "scopes"

// Store is a durable map of scope → key → value.
type Store struct {
	db   *bolt.DB
	path string
}

// Open opens or creates the store at path, creating missing directories with mode
// 0700 and the file with mode 0600: checkpoints reveal what was read from where.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open checkpoint store: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open checkpoint store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open checkpoint store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(rootBucket))
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open checkpoint store %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// Path returns the store's file name.
func (s *Store) Path() string { return s.path }

// Close releases the store. Everything committed is already on disk; Close only
// frees the file and its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close checkpoint store: %w", err)
	}
	return nil
}

// Get returns a copy of the value for key in scope, and whether it exists.
func (s *Store) Get(scope, key string) ([]byte, bool, error) {
	var val []byte
	var ok bool
	err := s.db.View(func(btx *bolt.Tx) error {
		var err error
		val, ok, err = (&Tx{tx: btx}).Get(scope, key)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("get checkpoint: %w", err)
	}
	return val, ok, nil
}

// Put stores val for key in scope and returns once the change is on disk.
func (s *Store) Put(scope, key string, val []byte) error {
	return s.Batch(func(tx *Tx) error { return tx.Put(scope, key, val) })
}

// Delete removes key from scope (a missing key is not an error) and returns once
// the change is on disk.
func (s *Store) Delete(scope, key string) error {
	return s.Batch(func(tx *Tx) error { return tx.Delete(scope, key) })
}

// ForEach calls fn for every key in scope, in byte order, with copies of the key
// and value. It stops at and returns the first error fn returns. fn runs inside a
// read transaction: it must not write to the store, which would wait for it.
func (s *Store) ForEach(scope string, fn func(key string, val []byte) error) error {
	err := s.db.View(func(btx *bolt.Tx) error {
		b, err := (&Tx{tx: btx}).bucket(scope, false)
		if b == nil || err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			return fn(string(k), append([]byte(nil), v...))
		})
	})
	if err != nil {
		return fmt.Errorf("list checkpoints of %q: %w", scope, err)
	}
	return nil
}

// Batch runs fn in one write transaction: all its changes are committed (and on
// disk) together when fn returns nil, and none are if it returns an error, which
// Batch returns. Write transactions run one at a time.
func (s *Store) Batch(fn func(tx *Tx) error) error {
	err := s.db.Update(func(btx *bolt.Tx) error {
		tx := &Tx{tx: btx, writable: true}
		defer func() { tx.tx = nil }() // a Tx kept past fn fails instead of touching freed pages
		return fn(tx)
	})
	if err != nil {
		return fmt.Errorf("update checkpoints: %w", err)
	}
	return nil
}
