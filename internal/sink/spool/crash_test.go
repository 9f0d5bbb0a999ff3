package spool

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/sink"
)

const (
	envCrashDir   = "SKYWATCH_SPOOL_CRASH_DIR"
	envCrashRound = "SKYWATCH_SPOOL_CRASH_ROUND"
	crashBatch    = 50 // the spool's delivery batch in the crash test
	crashPerWrite = 20 // records per Write+Flush in the crash test
)

// TestMain lets the test binary act as the process the crash test kills.
func TestMain(m *testing.M) {
	if dir := os.Getenv(envCrashDir); dir != "" {
		os.Exit(crashChild(dir, os.Getenv(envCrashRound)))
	}
	os.Exit(m.Run())
}

// fileRemote is the crash test's remote: a file of delivered ids, one a line,
// appended and fsynced on Flush, which survives the process being killed.
type fileRemote struct {
	f   *os.File
	buf []byte
}

// openFileRemote opens the file, first cutting off a line torn by a kill in
// the middle of a write: it was never flushed, so the spool sends it again.
func openFileRemote(path string) (*fileRemote, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		if err := os.Truncate(path, int64(i+1)); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return &fileRemote{f: f}, nil
}

func (r *fileRemote) Write(_ context.Context, recs []sink.Record) error {
	for i := range recs {
		r.buf = append(r.buf, recs[i].ID...)
		r.buf = append(r.buf, '\n')
	}
	return nil
}

func (r *fileRemote) Flush(context.Context) error {
	if _, err := r.f.Write(r.buf); err != nil {
		return err
	}
	r.buf = r.buf[:0]
	return r.f.Sync()
}

func (r *fileRemote) Close() error { return r.f.Close() }

func crashConfig(dir string) Config {
	cfg := testConfig(filepath.Join(dir, "spool"))
	cfg.SegmentBytes = 16 << 10 // many segments: kills land in rotations too
	cfg.MaxBytes = 256 << 10
	cfg.Batch = crashBatch
	return cfg
}

// crashChild appends batches to the spool for ever, printing the number of each
// batch once Flush returned; the test kills it.
func crashChild(dir, round string) int {
	remote, err := openFileRemote(filepath.Join(dir, "remote.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := New(remote, crashConfig(dir), Options{Name: "crash"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	for b := 0; ; b++ {
		recs := alerts(fmt.Sprintf("r%s.b%d", round, b), crashPerWrite, 200)
		if err := s.Write(ctx, recs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		if err := s.Flush(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Printf("%d\n", b)
	}
}

// TestKilledProcessLosesNothing kills a process using the spool with SIGKILL at
// random points, several times over the same directory, then delivers what is
// left: every record whose Flush returned reaches the remote, and repeats are
// bounded by one delivery batch per kill.
func TestKilledProcessLosesNothing(t *testing.T) {
	dir := t.TempDir()
	const rounds = 5
	flushed := map[string]bool{} // ids whose Flush returned
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashRound+"="+strconv.Itoa(round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// Let it flush a few batches, then kill it after a random while.
		var got []string
		for len(got) < 3 {
			l, ok := <-lines
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("round %d: the child ended early: %s", round, stderr.String())
			}
			got = append(got, l)
		}
		time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		for l := range lines {
			got = append(got, l)
		}
		for _, l := range got {
			b, err := strconv.Atoi(l)
			if err != nil {
				t.Fatalf("round %d: child printed %q", round, l)
			}
			for _, id := range idsOf(alerts(fmt.Sprintf("r%d.b%d", round, b), crashPerWrite, 0)) {
				flushed[id] = true
			}
		}
		t.Logf("round %d: killed after %d flushed batches", round, len(got))
	}

	remote, err := openFileRemote(filepath.Join(dir, "remote.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, remote, crashConfig(dir))
	waitDelivered(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(filepath.Join(dir, "remote.log"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var prev [3]int
	dups := 0
	for _, id := range strings.Fields(string(data)) {
		var k [3]int
		if _, err := fmt.Sscanf(id, "r%d.b%d-%d", &k[0], &k[1], &k[2]); err != nil {
			t.Fatalf("the remote holds %q", id)
		}
		seen[id]++
		if seen[id] > 1 {
			dups++
			continue
		}
		if less(k, prev) {
			t.Errorf("%s delivered after r%d.b%d-%d: out of order", id, prev[0], prev[1], prev[2])
		}
		prev = k
	}
	missing := 0
	for id := range flushed {
		if seen[id] == 0 {
			missing++
			if missing < 10 {
				t.Errorf("%s was flushed to the spool but never delivered", id)
			}
		}
	}
	if missing > 0 || len(flushed) == 0 {
		t.Fatalf("%d of %d flushed records missing", missing, len(flushed))
	}
	if dups > rounds*crashBatch {
		t.Errorf("%d repeated deliveries, want at most one batch (%d) per kill", dups, crashBatch)
	}
	t.Logf("%d records flushed, %d delivered, %d repeats", len(flushed), len(seen), dups)
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
