package checkpoint_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

func openStore(t testing.TB, path string) *checkpoint.Store {
	t.Helper()
	s, err := checkpoint.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustGet(t testing.TB, s *checkpoint.Store, scope, key string) (string, bool) {
	t.Helper()
	v, ok, err := s.Get(scope, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(v), ok
}

func dump(t testing.TB, s *checkpoint.Store, scope string) string {
	t.Helper()
	var parts []string
	err := s.ForEach(scope, func(k string, v []byte) error {
		parts = append(parts, k+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(parts, ",")
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "state.db")
	s := openStore(t, path)
	for _, kv := range []struct{ scope, key, val string }{
		{"trail", "cursor", "2024/01/02/obj-9"},
		{"trail", "window", "1700000000"},
		{"demo", "file:a.json", "1234"},
		{"demo", "gone", "x"},
	} {
		if err := s.Put(kv.scope, kv.key, []byte(kv.val)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete("demo", "gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, path)
	defer s.Close()
	tests := []struct{ scope, want string }{
		{"trail", "cursor=2024/01/02/obj-9,window=1700000000"},
		{"demo", "file:a.json=1234"},
		{"never-used", ""},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			if got := dump(t, s, tt.scope); got != tt.want {
				t.Errorf("ForEach = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGet(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	if err := s.Put("a", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("a", "empty", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, scope, key, want string
		wantOK                 bool
	}{
		{"present", "a", "k", "v", true},
		{"empty value exists", "a", "empty", "", true},
		{"missing key", "a", "nope", "", false},
		{"missing scope", "b", "k", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mustGet(t, s, tt.scope, tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Get = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBadArguments(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	tests := []struct {
		name string
		call func() error
	}{
		{"put empty scope", func() error { return s.Put("", "k", nil) }},
		{"put empty key", func() error { return s.Put("a", "", nil) }},
		{"get empty scope", func() error { _, _, err := s.Get("", "k"); return err }},
		{"delete empty scope", func() error { return s.Delete("", "k") }},
		{"foreach empty scope", func() error { return s.ForEach("", func(string, []byte) error { return nil }) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openStore(t, path)
	if err := s.Put("src", "old", []byte("1")); err != nil {
		t.Fatal(err)
	}

	errStop := errors.New("stop")
	err := s.Batch(func(tx *checkpoint.Tx) error {
		if err := tx.Put("src", "new", []byte("2")); err != nil {
			return err
		}
		if err := tx.Delete("src", "old"); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Batch returned %v, want the function's error", err)
	}
	if got := dump(t, s, "src"); got != "old=1" {
		t.Errorf("after a failed batch: %q, want the state before it", got)
	}

	var kept *checkpoint.Tx
	err = s.Batch(func(tx *checkpoint.Tx) error {
		kept = tx
		if err := tx.Put("src", "new", []byte("2")); err != nil {
			return err
		}
		if v, ok, err := tx.Get("src", "new"); err != nil || !ok || string(v) != "2" {
			return fmt.Errorf("Tx.Get does not see its own write: %q %v %v", v, ok, err)
		}
		if err := tx.Put("other", "k", []byte("3")); err != nil {
			return err
		}
		return tx.Delete("src", "old")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := kept.Put("src", "late", nil); err == nil {
		t.Error("a Tx used after its Batch returned did not fail")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, path)
	defer s.Close()
	if got := dump(t, s, "src") + ";" + dump(t, s, "other"); got != "new=2;k=3" {
		t.Errorf("after reopen: %q, want %q", got, "new=2;k=3")
	}
}

func TestForEachStopsOnError(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	for _, k := range []string{"a", "b", "c"} {
		if err := s.Put("x", k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	errStop := errors.New("stop")
	var seen []string
	err := s.ForEach("x", func(k string, v []byte) error {
		seen = append(seen, k)
		if k == "b" {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || strings.Join(seen, "") != "ab" {
		t.Errorf("err = %v, seen %v; want errStop after a, b", err, seen)
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "state.db")
	s := openStore(t, path)
	defer s.Close()
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != c.want {
			t.Errorf("%s: mode %v, want %v", c.path, got, c.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	const workers, per = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scope := fmt.Sprintf("src%d", w)
			for i := 0; i < per; i++ {
				key := fmt.Sprintf("k%03d", i)
				if err := s.Put(scope, key, []byte(key)); err != nil {
					errs <- err
					return
				}
				if v, ok, err := s.Get(scope, key); err != nil || !ok || string(v) != key {
					errs <- fmt.Errorf("read back %s/%s: %q %v %v", scope, key, v, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := 0; w < workers; w++ {
		n := 0
		_ = s.ForEach(fmt.Sprintf("src%d", w), func(string, []byte) error { n++; return nil })
		if n != per {
			t.Errorf("src%d has %d keys, want %d", w, n, per)
		}
	}
}
