package store

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crashEnv, when set, turns the test binary into the crash test's child: it
// inserts numbered batches into the database named by the variable and prints
// each batch number once Insert has returned, until it is killed.
const crashEnv = "SKYWATCH_STORE_CRASH_CHILD"

const crashBatch = 50

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

func crashChild(path string) int {
	seed, _ := strconv.ParseUint(os.Getenv(crashEnv+"_SEED"), 10, 64)
	s, err := Open(path, Options{PruneInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	g := newGen(seed, time.Now(), time.Hour)
	out := bufio.NewWriter(os.Stdout)
	for b := 0; ; b++ {
		if err := s.Insert(ctx, g.batch(crashBatch)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		// Reported only after Insert returned: the parent holds us to it.
		fmt.Fprintln(out, b)
		if err := out.Flush(); err != nil {
			return 2
		}
	}
}

// TestCrashDurability kills a writing child process with SIGKILL at random
// moments and checks, after each kill, that every batch whose Insert returned
// is stored, that the batch in flight is all there or not at all, and that the
// database is intact.
func TestCrashDurability(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var total int64
	for round := range 4 {
		seed := uint64(1000 + round)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, fmt.Sprintf("%s_SEED=%d", crashEnv, seed))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan int, 1<<16)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				n, err := strconv.Atoi(sc.Text())
				if err == nil {
					lines <- n
				}
			}
		}()
		confirmed := -1
		select {
		case n, ok := <-lines:
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("child ended before its first batch: %s", stderr.String())
			}
			confirmed = n
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("child reported nothing")
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for n := range lines { // what was in the pipe when it died
			confirmed = n
		}
		_ = cmd.Wait()
		if state := cmd.ProcessState; state.Exited() {
			t.Fatalf("child exited by itself (%v): %s", state, stderr.String())
		}

		s, err := Open(path, Options{PruneInterval: -1})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		g := newGen(seed, time.Now(), time.Hour)
		for b := 0; b <= confirmed+1; b++ {
			batch := g.batch(crashBatch)
			present := 0
			for _, a := range batch {
				if _, err := s.Get(ctx, a.Summary.ID); err == nil {
					present++
				}
			}
			if b <= confirmed && present != crashBatch {
				t.Errorf("round %d: confirmed batch %d has %d of %d alerts", round, b, present, crashBatch)
			}
			if b == confirmed+1 && present != 0 && present != crashBatch {
				t.Errorf("round %d: the batch in flight is torn: %d of %d alerts", round, present, crashBatch)
			}
			total += int64(present)
		}
		if c, _ := s.Count(ctx); c != total {
			t.Errorf("round %d: %d alerts stored, %d expected", round, c, total)
		}
		if err := s.IntegrityCheck(ctx); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		_ = s.Close()
		t.Logf("round %d: killed after %d confirmed batches", round, confirmed+1)
	}
}
