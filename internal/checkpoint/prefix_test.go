package checkpoint

import (
	"path/filepath"
	"testing"
)

func TestPrefixScanAndDelete(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"a/1", "a/2", "ab/1", "b/1"} {
		if err := s.Put("x", k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	if err := s.ForEachPrefix("x", "a/", func(k string, v []byte) error {
		got = append(got, k+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "a/1=a/1" || got[1] != "a/2=a/2" {
		t.Fatalf("ForEachPrefix(a/) = %v", got)
	}
	var n int
	if err := s.Batch(func(tx *Tx) error { n, err = tx.DeletePrefix("x", "a"); return err }); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("deleted %d, want 3", n)
	}
	left := 0
	s.ForEach("x", func(string, []byte) error { left++; return nil })
	if left != 1 {
		t.Fatalf("%d keys left, want 1", left)
	}
	if err := s.ForEachPrefix("nosuchscope", "", func(string, []byte) error { return nil }); err != nil {
		t.Fatalf("missing scope: %v", err)
	}
}
