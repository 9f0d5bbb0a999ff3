package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped unit must run the service, reload with SIGHUP and give skywatch more
// time to stop than its own default shutdown timeout.
func TestSystemdUnitAgreesWithTheService(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "systemd", "skywatch.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{"ExecStart=/usr/local/bin/skywatch run --config ", "ExecReload=/bin/kill -HUP $MAINPID", "TimeoutStopSec=45s", "User=skywatch"} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if strings.Contains(unit, "--once") {
		t.Error("the unit must run the service, not --once")
	}
	d, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d), `"run", "--config"`) || !strings.Contains(string(d), "USER nonroot") {
		t.Error("Dockerfile must run the service as a non-root user")
	}
}
