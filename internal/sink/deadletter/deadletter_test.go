package deadletter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileCreatedAtFirstLineAndAppended(t *testing.T) {
	dir := t.TempDir()
	p := Path(dir, "hooks/../x:y")
	if filepath.Dir(p) != filepath.Join(dir, "dead-letter") || filepath.Base(p) != "hooks_.._x_y.jsonl" {
		t.Fatalf("path %s: the name must not leave the dead-letter folder", p)
	}
	if got := Path(dir, ".."); filepath.Base(got) != "output.jsonl" {
		t.Fatalf("path for '..': %s", got)
	}
	d := New(p)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatal("file created before any line")
	}
	if err := d.AppendSync([]byte("{\"a\":1}\n")); err != nil {
		t.Fatal(err)
	}
	if err := d.Append([]byte("{\"a\":2}\n")); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := New(p)
	if err := d2.AppendSync([]byte("{\"a\":3}\n")); err != nil {
		t.Fatal(err)
	}
	d2.Close()
	b, _ := os.ReadFile(p)
	if string(b) != "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n" {
		t.Fatalf("file holds %q", b)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600: dead letters hold whole alerts", st.Mode().Perm())
	}
}

func TestAppendFailureNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "dead-letter")
	os.WriteFile(blocker, nil, 0o600) // a file where the folder should be
	d := New(Path(dir, "x"))
	err := d.Append([]byte("{}\n"))
	if err == nil || !filepath.IsAbs(blocker) || !strings.Contains(err.Error(), "dead-letter file") {
		t.Fatalf("err = %v", err)
	}
}
