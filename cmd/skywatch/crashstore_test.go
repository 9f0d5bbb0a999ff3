package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/store"
)

// storeIDs reads every alert id in the store at path, and the number of rows.
func storeIDs(t *testing.T, path string) (map[string]bool, int64) {
	t.Helper()
	st, err := store.Open(path, store.Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	n, err := st.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	q := store.Query{Limit: store.MaxLimit}
	for {
		page, err := st.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range page.Alerts {
			var a struct{ ID string }
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatal(err)
			}
			if ids[a.ID] {
				t.Fatalf("alert %s listed twice", a.ID)
			}
			ids[a.ID] = true
		}
		if page.Next == "" {
			return ids, n
		}
		q.Cursor = page.Next
	}
}

func storeConfig(t *testing.T, dir, bucketURL string) string {
	t.Helper()
	p := filepath.Join(dir, "skywatch.yaml")
	cfg := fmt.Sprintf(`data_dir: %s/var
outputs:
  - type: store
sources:
  - name: trail
    type: aws-s3
    bucket: trail
    log_type: cloudtrail
    only_logs_after: 2024-05-01
    workers: 2
    region: us-east-1
    access_key_id: AKIDTEST
    secret_access_key: test-secret
    endpoint: %s
    path_style: true
`, dir, bucketURL)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The service reading a 50,000-event bucket into the alert store is killed with
// SIGKILL at 20 random moments and restarted each time; in the end the store holds
// exactly the alerts of a clean run: none missing, none doubled, none extra.
func TestKillNineTwentyTimesStoreMatchesCleanRun(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: the 20-kill crash test takes about half a minute")
	}
	t.Setenv("AWS_CA_BUNDLE", "")
	srv, _ := startBucket(t, "trail", 100, 500)

	cleanDir := t.TempDir()
	clean := skywatchProcess(t, "run", "--config", storeConfig(t, cleanDir, srv.URL), "--once")
	if out, err := clean.CombinedOutput(); err != nil {
		t.Fatalf("clean run: %v\n%s", err, out)
	}
	want, wantRows := storeIDs(t, filepath.Join(cleanDir, "var", "alerts.db"))
	if len(want) != 50000 || wantRows != 50000 {
		t.Fatalf("clean run stored %d alerts (%d rows), want 50000", len(want), wantRows)
	}

	dir := t.TempDir()
	cfgPath := storeConfig(t, dir, srv.URL)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	killedRunning, midRun := 0, 0
	var progress []int64
	for i := 0; i < 20; i++ {
		p := skywatchProcess(t, "run", "--config", cfgPath)
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(400)) * time.Millisecond)
		if p.Process.Signal(syscall.Signal(0)) == nil {
			killedRunning++
		}
		p.Process.Signal(syscall.SIGKILL)
		p.Wait()
		if _, err := os.Stat(filepath.Join(dir, "var", "alerts.db")); err == nil {
			_, n := storeIDs(t, filepath.Join(dir, "var", "alerts.db"))
			progress = append(progress, n)
			if n < 50000 {
				midRun++
			}
		}
	}
	final := skywatchProcess(t, "run", "--config", cfgPath, "--once")
	if out, err := final.CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	got, rows := storeIDs(t, filepath.Join(dir, "var", "alerts.db"))
	missing, extra := 0, 0
	for id := range want {
		if !got[id] {
			missing++
		}
	}
	for id := range got {
		if !want[id] {
			extra++
		}
	}
	t.Logf("20 kills (%d of a running process, %d before the bucket was done; stored after each: %v); store has %d alerts in %d rows",
		killedRunning, midRun, progress, len(got), rows)
	if missing > 0 || extra > 0 || rows != int64(len(want)) {
		t.Fatalf("after the kills: %d alerts missing, %d not in the clean run, %d rows for %d alerts", missing, extra, rows, len(want))
	}
	if killedRunning < 20 || midRun < 3 {
		t.Fatalf("only %d of 20 kills hit a running process, %d in the middle of the bucket: the test proved little", killedRunning, midRun)
	}
}
