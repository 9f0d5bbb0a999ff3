package awsclient

import (
	"fmt"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

// LoadCheckpoints calls fn for each key of the source's scope of st (none when st
// is nil), and names the source in the error.
func LoadCheckpoints(st *checkpoint.Store, source string, fn func(key string, val []byte) error) error {
	if st == nil {
		return nil
	}
	if err := st.ForEach(source, fn); err != nil {
		return fmt.Errorf("read checkpoints of source %s: %w", source, err)
	}
	return nil
}

// Change is one checkpoint write: Val is stored at Key, or, when nil, Key is
// deleted.
type Change struct {
	Key string
	Val []byte
}

// CommitCheckpoints applies changes, in order, to the source's scope of st in one
// transaction, and names the source in the error.
func CommitCheckpoints(st *checkpoint.Store, source string, changes []Change) error {
	err := st.Batch(func(tx *checkpoint.Tx) error {
		for _, c := range changes {
			var err error
			if c.Val == nil {
				err = tx.Delete(source, c.Key)
			} else {
				err = tx.Put(source, c.Key, c.Val)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit checkpoints of source %s: %w", source, err)
	}
	return nil
}
