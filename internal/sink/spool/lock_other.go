//go:build !unix

package spool

import (
	"os"
	"path/filepath"
)

// lockDir opens the lock file without locking it: advisory locks are only
// taken on Unix systems.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o640)
}
