// Package sharedcorpus locates the team's shared reference corpus (../shared next to
// the repository) for tests that compare skywatch with Wazuh's real behaviour. The
// corpus is test data only: it is read at test time and never embedded or shipped.
package sharedcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides where the shared folder is.
const EnvVar = "SKYWATCH_SHARED"

// Dir returns the shared folder, or skips the test loudly when it is absent.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, ok := find()
	if !ok {
		tb.Skipf("SKIP: shared corpus not found (set %s or place it at ../shared next to the repository); this compatibility test did NOT run", EnvVar)
	}
	return dir
}

// Path returns a path inside the shared folder, skipping loudly when it is absent.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Dir(tb)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("SKIP: %s not found in the shared corpus; this compatibility test did NOT run", p)
	}
	return p
}

func find() (string, bool) {
	if d := os.Getenv(EnvVar); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, true
		}
		return "", false
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if st, err := os.Stat(filepath.Join(shared, "corpus")); err == nil && st.IsDir() {
				return shared, true
			}
			return "", false
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
}
