//go:build unix

package checkpoint_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

// helperEnv tells the re-executed test binary to act as another skywatch
// process: "hold:<path>" or "crash:<path>".
const helperEnv = "SKYWATCH_CHECKPOINT_HELPER"

// TestHelperProcess is not a test: it is the body of the child process the
// tests below start.
func TestHelperProcess(t *testing.T) {
	mode, path, ok := strings.Cut(os.Getenv(helperEnv), ":")
	if !ok {
		t.Skip("helper process only")
	}
	s, err := checkpoint.Open(path)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	switch mode {
	case "hold":
		fmt.Println("ready")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // hold the lock until told
		_ = s.Close()
		os.Exit(0)
	case "crash":
		err := s.Batch(func(tx *checkpoint.Tx) error {
			for i := 0; i < 100; i++ {
				if err := tx.Put("src", fmt.Sprintf("k%03d", i), []byte("committed")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		_ = s.Batch(func(tx *checkpoint.Tx) error {
			_ = tx.Put("src", "uncommitted", []byte("x"))
			fmt.Println("committed")
			// Die in the middle of a write transaction, without Close.
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		})
	}
	os.Exit(3)
}

func startHelper(t *testing.T, mode, path string) (*exec.Cmd, *bufio.Reader, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode+":"+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewReader(stdout), func() { _ = stdin.Close() }
}

func TestLockedByOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	cmd, out, release := startHelper(t, "hold", path)
	line, err := out.ReadString('\n')
	if line != "ready\n" {
		release()
		_ = cmd.Wait()
		t.Fatalf("helper said %q (%v)", line, err)
	}

	_, err = checkpoint.Open(path)
	release()
	if waitErr := cmd.Wait(); waitErr != nil {
		t.Errorf("helper: %v", waitErr)
	}
	if !errors.Is(err, checkpoint.ErrLocked) {
		t.Fatalf("Open while held: %v, want ErrLocked", err)
	}
	if want := "state is locked by another skywatch process"; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
		t.Errorf("message %q should name the file and say %q", err, want)
	}

	s, err := checkpoint.Open(path)
	if err != nil {
		t.Fatalf("Open after the other process exited: %v", err)
	}
	_ = s.Close()
}

func TestCrashKeepsCommittedBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	cmd, out, release := startHelper(t, "crash", path)
	defer release()
	line, _ := out.ReadString('\n')
	err := cmd.Wait()
	if line != "committed\n" {
		t.Fatalf("helper said %q", line)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper should have been killed, got %v", err)
	}

	s := openStore(t, path)
	defer s.Close()
	n := 0
	err = s.ForEach("src", func(k string, v []byte) error {
		if k == "uncommitted" {
			return fmt.Errorf("the write of the killed transaction is visible")
		}
		if string(v) != "committed" {
			return fmt.Errorf("%s = %q", k, v)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Errorf("%d committed keys survived, want 100", n)
	}
}
