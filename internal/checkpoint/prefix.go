package checkpoint

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ForEachPrefix calls fn, in byte order, for every key in scope that starts with
// prefix, with copies of the key and value. It reads only those keys, so sources can
// keep many small records and load one group of them at a time.
func (s *Store) ForEachPrefix(scope, prefix string, fn func(key string, val []byte) error) error {
	err := s.db.View(func(btx *bolt.Tx) error {
		b, err := (&Tx{tx: btx}).bucket(scope, false)
		if b == nil || err != nil {
			return err
		}
		p := []byte(prefix)
		c := b.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if err := fn(string(k), append([]byte(nil), v...)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list checkpoints %q of %q: %w", prefix, scope, err)
	}
	return nil
}

// DeletePrefix removes every key of scope that starts with prefix and returns how
// many there were.
func (t *Tx) DeletePrefix(scope, prefix string) (int, error) {
	b, err := t.bucket(scope, false)
	if b == nil || err != nil {
		return 0, err
	}
	p := []byte(prefix)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("delete checkpoint %q in %q: %w", k, scope, err)
		}
	}
	return len(keys), nil
}
