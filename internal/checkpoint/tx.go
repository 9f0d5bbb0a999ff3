package checkpoint

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// errTxDone is returned when a Tx is used after its Batch function returned.
var errTxDone = errors.New("transaction already finished")

// Tx is the view of the store inside Batch. It is valid only until the Batch
// function returns and must not be shared between goroutines.
type Tx struct {
	tx       *bolt.Tx
	writable bool
}

// Get returns a copy of the value for key in scope, and whether it exists,
// including changes made earlier in the same transaction.
func (t *Tx) Get(scope, key string) ([]byte, bool, error) {
	b, err := t.bucket(scope, false)
	if b == nil || err != nil {
		return nil, false, err
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, false, nil
	}
	return append([]byte{}, v...), true, nil
}

// Put stores val for key in scope. An empty key is an error.
func (t *Tx) Put(scope, key string, val []byte) error {
	if key == "" {
		return fmt.Errorf("put checkpoint in %q: empty key", scope)
	}
	b, err := t.bucket(scope, true)
	if err != nil {
		return err
	}
	if val == nil {
		val = []byte{} // bbolt would store nil as empty anyway; make it explicit
	}
	if err := b.Put([]byte(key), val); err != nil {
		return fmt.Errorf("put checkpoint %q in %q: %w", key, scope, err)
	}
	return nil
}

// Delete removes key from scope; a missing key is not an error.
func (t *Tx) Delete(scope, key string) error {
	b, err := t.bucket(scope, false)
	if b == nil || err != nil {
		return err
	}
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("delete checkpoint %q in %q: %w", key, scope, err)
	}
	return nil
}

// bucket returns the scope's bucket, creating it when create is set; it returns
// nil without error when the scope does not exist.
func (t *Tx) bucket(scope string, create bool) (*bolt.Bucket, error) {
	if t.tx == nil {
		return nil, errTxDone
	}
	if scope == "" {
		return nil, errors.New("empty checkpoint scope")
	}
	if create && !t.writable {
		return nil, errors.New("write in a read-only checkpoint transaction")
	}
	root := t.tx.Bucket([]byte(rootBucket))
	if root == nil {
		return nil, errors.New("checkpoint store has no root bucket")
	}
	if !create {
		return root.Bucket([]byte(scope)), nil
	}
	b, err := root.CreateBucketIfNotExists([]byte(scope))
	if err != nil {
		return nil, fmt.Errorf("create checkpoint scope %q: %w", scope, err)
	}
	return b, nil
}
