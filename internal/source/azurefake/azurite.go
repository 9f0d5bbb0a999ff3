package azurefake

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Azurite's well-known development account.
const (
	DevAccount = "devstoreaccount1"
	DevKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azurite is one Azurite blob service process shared by a test binary's tests,
// started on first use on a free loopback port with a fresh data directory.
// The executable is $SKYWATCH_AZURITE (make test installs it) or azurite-blob
// on PATH. Call Stop from TestMain.
type Azurite struct {
	once     sync.Once
	endpoint string
	skip     string
	err      error
	cmd      *exec.Cmd
	dir      string
}

// Endpoint returns the blob endpoint (http://127.0.0.1:PORT/devstoreaccount1),
// starting Azurite if needed. Without Azurite the test is skipped, loudly.
func (a *Azurite) Endpoint(t testing.TB) string {
	t.Helper()
	a.once.Do(a.start)
	if a.skip != "" {
		t.Skip(a.skip)
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	return a.endpoint
}

// URL is the endpoint of an Azurite that Endpoint has started ("" before).
func (a *Azurite) URL() string { return a.endpoint }

// Stop kills the process (by its PID) and removes its data.
func (a *Azurite) Stop() {
	if a.cmd != nil {
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
	}
	if a.dir != "" {
		_ = os.RemoveAll(a.dir)
	}
}

func (a *Azurite) start() {
	bin := os.Getenv("SKYWATCH_AZURITE")
	if bin == "" {
		p, err := exec.LookPath("azurite-blob")
		if err != nil {
			a.skip = "SKIP: needs Azurite: run make test (or set SKYWATCH_AZURITE to an azurite-blob executable)"
			// go test shows skip messages only with -v; this one must be seen.
			fmt.Fprintln(os.Stderr, "Azure Blob tests: "+a.skip)
			return
		}
		bin = p
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.err = err
		return
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	if a.dir, err = os.MkdirTemp("", "skywatch-azurite-"); err != nil {
		a.err = err
		return
	}
	// --skipApiVersionCheck: the SDK asks for an API version newer than
	// Azurite knows.
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port),
		"--location", a.dir, "--silent", "--skipApiVersionCheck")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		a.err = fmt.Errorf("start azurite (%s): %w", bin, err)
		return
	}
	a.cmd = cmd
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			a.endpoint = "http://" + addr + "/" + DevAccount
			return
		}
	}
	a.err = fmt.Errorf("azurite did not listen on %s within 60s: %s", addr, out.String())
}
