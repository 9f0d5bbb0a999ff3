package email

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func entry(id string, size int) spoolEntry {
	return spoolEntry{ID: id, Level: 5, Added: time.Unix(1700000000, 0).UTC(),
		Alert: json.RawMessage(`{"id":"` + id + `","pad":"` + strings.Repeat("x", size) + `"}`)}
}

func ids(es []spoolEntry) string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return strings.Join(out, ",")
}

func TestSpoolReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "out.jsonl")
	sp, left, err := openSpool(path)
	if err != nil || len(left) != 0 {
		t.Fatal(left, err)
	}
	for _, id := range []string{"a", "b", "c", "b", "d"} {
		e := entry(id, 10)
		sp.appendEntry(&e)
	}
	sp.appendDone([]string{"a", "c"})
	if err := sp.close(); err != nil {
		t.Fatal(err)
	}
	sp, left, err = openSpool(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(left); got != "b,d" {
		t.Errorf("waiting after reopen: %s, want b,d", got)
	}
	if !left[0].Added.Equal(time.Unix(1700000000, 0)) || left[0].Level != 5 || string(left[0].Alert) != string(entry("b", 10).Alert) {
		t.Errorf("entry b came back as %+v", left[0])
	}
	// Reopening rewrote the file to hold just the waiting alerts.
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n != 2 || strings.Contains(string(b), "done") {
		t.Errorf("spool after reopen:\n%s", b)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("spool mode %v %v", fi.Mode(), err)
	}
	sp.close()
}

func TestSpoolSettle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	sp, _, err := openSpool(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	var all []spoolEntry
	for i := range 1200 {
		e := entry(fmt.Sprint("e", i), 1000)
		sp.appendEntry(&e)
		all = append(all, e)
	}
	// Done lines alone while most alerts wait: the file only grows.
	sp.appendDone([]string{"e0"})
	if err := sp.settle(all[1:], 1199*1100); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Size() < 1200*1000 {
		t.Errorf("file of %d bytes", fi.Size())
	}
	// Most alerts done: the file is rewritten with the rest.
	var done []string
	for _, e := range all[1:1190] {
		done = append(done, e.ID)
	}
	sp.appendDone(done)
	if err := sp.settle(all[1190:], 10*1100); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Size() > 20*1100 {
		t.Errorf("not compacted: %d bytes", fi.Size())
	}
	left, err := readSpool(path)
	if err != nil || len(left) != 10 || left[0].ID != "e1190" {
		t.Errorf("after compaction: %s %v", ids(left), err)
	}
	// Appending goes on in the new file.
	e := entry("late", 10)
	sp.appendEntry(&e)
	sp.appendDone([]string{"e1190"})
	if err := sp.sync(); err != nil {
		t.Fatal(err)
	}
	if left, _ := readSpool(path); len(left) != 10 || left[9].ID != "late" {
		t.Errorf("after append: %s", ids(left))
	}
	// Nothing waiting: the file is emptied.
	if err := sp.settle(nil, 0); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Errorf("empty spool is %d bytes", fi.Size())
	}
}

func TestSpoolCorruptLineIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	if err := os.WriteFile(path, []byte("{\"id\":\"a\",\"alert\":{}}\nnot json\n{\"id\":\"b\",\"alert\":{}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openSpool(path); err == nil || !strings.Contains(err.Error(), "out.jsonl:2") {
		t.Errorf("openSpool = %v, want an error naming line 2", err)
	}
}
