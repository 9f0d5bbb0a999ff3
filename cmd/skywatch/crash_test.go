package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// TestMain lets the test binary act as the skywatch command, so tests can run it as
// a separate process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("SKYWATCH_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestKillNineLosesNothing kills `skywatch run --once` with SIGKILL while it reads an
// S3 bucket, runs it again, and checks that every alert is in alerts.json, with
// repeats only for what was in flight at the kill (the same deterministic ids).
func TestKillNineLosesNothing(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "")
	const objects, perObject = 100, 500
	srv, keys := startBucket(t, "trail", objects, perObject)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "skywatch.yaml")
	cfg := fmt.Sprintf(`data_dir: %s/var
rules: [builtin]
outputs:
  - type: file
    path: %s/alerts.json
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
`, dir, dir, srv.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	alerts := filepath.Join(dir, "alerts.json")

	first := skywatchProcess(t, "run", "--config", cfgPath, "--once")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once part of the bucket has been written.
	deadline := time.Now().Add(60 * time.Second)
	for countLines(alerts) < objects*perObject*6/10 {
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatal("the first run wrote too little in a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	killedAt := countLines(alerts)
	if killedAt >= objects*perObject {
		t.Skipf("SKIP: the run finished before the kill (%d alerts); nothing was tested", killedAt)
	}

	second := skywatchProcess(t, "run", "--config", cfgPath, "--once")
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}

	seen := map[string]int{}
	f, err := os.Open(alerts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var a struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("alerts.json has a line that is not JSON (torn write?): %v: %.80s", err, sc.Text())
		}
		seen[a.ID]++
	}
	missing, repeats := 0, 0
	for _, key := range keys {
		for r := 0; r < perObject; r++ {
			id := alert.ID("trail", "s3://trail/"+key, int64(r), "80202")
			switch n := seen[id]; {
			case n == 0:
				missing++
			case n > 1:
				repeats += n - 1
			}
		}
	}
	t.Logf("killed after %d alerts; afterwards %d distinct alerts, %d repeats", killedAt, len(seen), repeats)
	if missing > 0 {
		t.Fatalf("%d alerts lost across the kill", missing)
	}
	// Only what was not yet durable at the kill comes again (objects in flight and
	// alerts written since the last flush): the progress committed before the kill
	// must hold.
	if repeats >= killedAt {
		t.Fatalf("%d repeated alerts of %d written before the kill: no progress survived it", repeats, killedAt)
	}
}

func skywatchProcess(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SKYWATCH_TEST_AS_MAIN=1", "AWS_CA_BUNDLE=")
	return cmd
}

func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// startBucket serves a CloudTrail bucket from gofakes3 on 127.0.0.1.
func startBucket(t *testing.T, bucket string, objects, perObject int) (*httptest.Server, []string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(gofakes3.New(s3mem.New()).Server())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
	})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < objects; i++ {
		key := fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T%04dZ_k.json.gz", i)
		var recs []string
		for r := 0; r < perObject; r++ {
			recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"CreateTags","readOnly":false,"requestID":"%d-%d","sourceIPAddress":"10.1.%d.%d"}`, i, r, i%250, r%250))
		}
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write([]byte(`{"Records":[` + strings.Join(recs, ",") + `]}`))
		w.Close()
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return srv, keys
}
