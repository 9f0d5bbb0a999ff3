package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// TestSinkOutageLosesNothing (issue 5: "the OpenSearch target goes away for a
// while and comes back: nothing lost") runs the service as a real process
// reading a local S3 bucket into a file output and an elasticsearch output
// (with its disk spool) pointed at a real VictoriaLogs. VictoriaLogs is
// stopped after the first alerts arrive; while it is down the bucket gets
// more objects, the service is stopped with SIGTERM and started again, and
// the bucket gets more. Then VictoriaLogs comes back on the same port and
// data directory. It proves that:
//   - the file output keeps receiving every alert during the outage (the
//     remote being down does not hold up the other outputs);
//   - the spool keeps what could not be delivered, across a restart of the
//     service;
//   - in the end VictoriaLogs holds every alert exactly once (it does not
//     deduplicate by _id, so a resent batch would show), and nothing else.
//
// It needs the VictoriaLogs binary in SKYWATCH_VICTORIALOGS (`make test`
// installs it and sets the variable); without it, it skips.
func TestSinkOutageLosesNothing(t *testing.T) {
	vlBin := os.Getenv("SKYWATCH_VICTORIALOGS")
	if vlBin == "" {
		msg := "SKIP: TestSinkOutageLosesNothing NEEDS VictoriaLogs: set SKYWATCH_VICTORIALOGS to the victoria-logs binary, or run `make test`, which installs it into ./.tools/bin and sets the variable"
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
	t.Setenv("AWS_CA_BUNDLE", "")
	const perObject = 100
	srv, _ := startBucket(t, "trail", 0, 0)
	bucket := newOutageBucket(t, srv.URL)
	var want []string // alert ids, in the order the objects are added
	put := func(n int) {
		t.Helper()
		want = append(want, bucket.put(t, n, perObject)...)
	}

	vl := startVL(t, vlBin)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "skywatch.yaml")
	alertsPath := filepath.Join(dir, "alerts.json")
	cfg := fmt.Sprintf(`data_dir: %s/var
api:
  listen: 127.0.0.1:0
outputs:
  - type: file
    path: %s
  - type: elasticsearch
    name: vl
    url: http://%s/insert/elasticsearch
    install_template: false
    headers:
      VL-Msg-Field: rule.description
      VL-Time-Field: "@timestamp"
      VL-Stream-Fields: location
    timeout: 10s
    retry_attempts: 1
    retry_initial: 100ms
    retry_max: 200ms
    spool:
      batch: 100
      retry_initial: 100ms
      retry_max: 500ms
      drain_timeout: 1s
sources:
  - name: trail
    type: aws-s3
    bucket: trail
    log_type: cloudtrail
    only_logs_after: %s
    interval: 1s
    region: us-east-1
    access_key_id: AKIDTEST
    secret_access_key: test-secret
    endpoint: %s
    path_style: true
`, dir, alertsPath, vl.addr, time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"), srv.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// Before the outage: 300 alerts reach both outputs.
	put(3)
	svc := startOutageService(t, cfgPath)
	waitFor(t, "300 alerts in VictoriaLogs", func() bool { return len(vl.ids(t)) >= 300 })
	waitFor(t, "the spool and the source idle", func() bool {
		return svc.metric(t, `skywatch_output_stat{output="vl",stat="spool_buffered_records"}`) == 0 &&
			svc.metric(t, `skywatch_source_in_flight_batches{source="trail"}`) == 0
	})

	// The outage: alerts keep coming, the file gets them, the spool keeps them.
	vl.stop(t)
	put(4)
	waitFor(t, "700 alerts in the file output during the outage", func() bool { return countLines(alertsPath) >= 700 })
	waitFor(t, "400 alerts spooled and a failed delivery", func() bool {
		return svc.metric(t, `skywatch_output_stat{output="vl",stat="spool_buffered_records"}`) >= 400 &&
			svc.metric(t, `skywatch_output_stat{output="vl",stat="spool_failed"}`) >= 1 &&
			svc.metric(t, `skywatch_source_in_flight_batches{source="trail"}`) == 0
	})

	// A restart during the outage: the backlog is on disk and still owed.
	svc.term(t)
	put(3)
	svc = startOutageService(t, cfgPath)
	waitFor(t, "1000 alerts in the file output after the restart", func() bool { return countLines(alertsPath) >= 1000 })
	waitFor(t, "700 alerts spooled after the restart", func() bool {
		return svc.metric(t, `skywatch_output_stat{output="vl",stat="spool_buffered_records"}`) >= 700 &&
			svc.metric(t, `skywatch_output_stat{output="vl",stat="spool_failed"}`) >= 1
	})

	// The end of the outage: everything arrives, once.
	vl.start(t)
	waitFor(t, "the spool drained", func() bool {
		return svc.metric(t, `skywatch_output_stat{output="vl",stat="spool_buffered_records"}`) == 0
	})
	failed := svc.metric(t, `skywatch_output_stat{output="vl",stat="spool_failed"}`)
	if !poll(30*time.Second, func() bool { return len(vl.ids(t)) >= len(want) }) {
		t.Errorf("VictoriaLogs has %d alerts 30s after the spool drained, want %d", len(vl.ids(t)), len(want))
	}
	time.Sleep(1500 * time.Millisecond) // let anything sent twice become searchable too
	svc.term(t)

	got := vl.ids(t)
	t.Logf("%d alerts; VictoriaLogs has %d rows; failed deliveries after the restart: %.0f", len(want), len(got), failed)
	checkOnce(t, "VictoriaLogs", got, want)
	checkOnce(t, "the file output", fileIDs(t, alertsPath), want)
	if t.Failed() {
		t.Logf("skywatch logs after the restart:\n%s", svc.logs.String())
	}
}

// checkOnce reports every id of want not seen exactly once in got, and every
// id in got that is not in want.
func checkOnce(t *testing.T, where string, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, id := range got {
		count[id]++
	}
	var missing, repeated []string
	for _, id := range want {
		switch n := count[id]; {
		case n == 0:
			missing = append(missing, id)
		case n > 1:
			repeated = append(repeated, fmt.Sprintf("%s ×%d", id, n))
		}
		delete(count, id)
	}
	if len(missing) > 0 || len(repeated) > 0 || len(count) > 0 {
		t.Errorf("%s: %d rows for %d alerts: %d missing (first: %v), %d repeated (first: %v), %d unexpected ids",
			where, len(got), len(want), len(missing), missing[:min(5, len(missing))], len(repeated), repeated[:min(5, len(repeated))], len(count))
	}
}

func fileIDs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var a struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("%s: a line is not JSON: %v: %.80s", path, err, sc.Text())
		}
		ids = append(ids, a.ID)
	}
	return ids
}

// poll reports whether cond became true within d.
func poll(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// waitFor polls cond for up to a minute, and fails the test if it stays false.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !poll(time.Minute, cond) {
		t.Fatalf("no %s within a minute", what)
	}
}

// outageBucket adds CloudTrail objects to the bucket, in today's (UTC) day
// folder: a day long past is no longer listed by the polls after the first.
type outageBucket struct {
	client *s3.Client
	next   int
}

func newOutageBucket(t *testing.T, endpoint string) *outageBucket {
	t.Helper()
	return &outageBucket{client: s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
	})}
}

// put adds n objects of perObject events each and returns the ids of the
// alerts they raise (rule 80202, one per event).
func (b *outageBucket) put(t *testing.T, n, perObject int) []string {
	t.Helper()
	var ids []string
	for range n {
		i := b.next
		b.next++
		now := time.Now().UTC()
		key := fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/%s/111122223333_CloudTrail_us-east-1_%sT%04dZ_o.json.gz",
			now.Format("2006/01/02"), now.Format("20060102"), i)
		var recs []string
		for r := range perObject {
			recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"%s","eventSource":"ec2.amazonaws.com","eventName":"CreateTags","readOnly":false,"requestID":"%d-%d","sourceIPAddress":"10.2.%d.%d"}`,
				now.Format(time.RFC3339), i, r, i%250, r%250))
			ids = append(ids, alert.ID("trail", "s3://trail/"+key, int64(r), "80202"))
		}
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write([]byte(`{"Records":[` + strings.Join(recs, ",") + `]}`))
		w.Close()
		if _, err := b.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// outageService is a `skywatch run` process with its API on 127.0.0.1.
type outageService struct {
	cmd    *exec.Cmd
	logs   *lockedBuffer
	base   string
	exited chan error
}

func startOutageService(t *testing.T, cfgPath string) *outageService {
	t.Helper()
	s := &outageService{logs: &lockedBuffer{}, exited: make(chan error, 1)}
	s.cmd = skywatchProcess(t, "run", "--config", cfgPath, "--log-format", "json")
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	addrRE := regexp.MustCompile(`"addr":"(https?://127\.0\.0\.1:\d+)/api/v1/"`)
	for deadline := time.Now().Add(60 * time.Second); s.base == ""; time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(s.logs.String()); m != nil {
			s.base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the API did not start:\n%s", s.logs.String())
		}
		select {
		case err := <-s.exited:
			t.Fatalf("skywatch exited: %v\n%s", err, s.logs.String())
		default:
		}
	}
	return s
}

// metric returns the value of the sample named (with its labels) exactly
// as in /metrics, or -1 when it is not there.
func (s *outageService) metric(t *testing.T, sample string) float64 {
	t.Helper()
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", l, err)
			}
			return f
		}
	}
	return -1
}

// term stops the service with SIGTERM and expects a clean exit.
func (s *outageService) term(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no exit a minute after SIGTERM:\n%s", s.logs.String())
	}
}

// vlServer is a victoria-logs process on 127.0.0.1, stopped and started again
// on the same port and data directory.
type vlServer struct {
	bin, addr, data string
	cmd             *exec.Cmd
	out             *lockedBuffer
	exited          chan struct{}
}

func startVL(t *testing.T, bin string) *vlServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	v := &vlServer{bin: bin, addr: l.Addr().String(), data: t.TempDir(), out: &lockedBuffer{}}
	l.Close()
	v.start(t)
	t.Cleanup(func() { v.stop(t) })
	return v
}

func (v *vlServer) start(t *testing.T) {
	t.Helper()
	v.cmd = exec.Command(v.bin, "-httpListenAddr="+v.addr, "-storageDataPath="+v.data, "-loggerLevel=WARN")
	v.cmd.Stdout, v.cmd.Stderr = v.out, v.out
	if err := v.cmd.Start(); err != nil {
		t.Fatalf("start victoria-logs: %v", err)
	}
	v.exited = make(chan struct{})
	go func(c *exec.Cmd, exited chan struct{}) { _ = c.Wait(); close(exited) }(v.cmd, v.exited)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + v.addr + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-v.exited:
			t.Fatalf("victoria-logs exited: %s", v.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("victoria-logs not ready on %s: %s", v.addr, v.out)
		}
	}
}

// stop ends the process with SIGINT, so that what it acknowledged is on disk
// (SIGKILL could lose acknowledged data from its memory buffers, a loss that
// would not be skywatch's), and waits for it to exit.
func (v *vlServer) stop(t *testing.T) {
	if v.cmd == nil {
		return
	}
	_ = v.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-v.exited:
	case <-time.After(30 * time.Second):
		_ = v.cmd.Process.Kill()
		<-v.exited
		t.Errorf("victoria-logs did not stop in 30s after SIGINT: %s", v.out)
	}
	v.cmd = nil
}

// ids returns the id of every alert VictoriaLogs holds, repeats included.
func (v *vlServer) ids(t *testing.T) []string {
	t.Helper()
	resp, err := http.PostForm("http://"+v.addr+"/select/logsql/query", url.Values{"query": {"* | fields id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("query: %s: %s", resp.Status, b)
	}
	var ids []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var row struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("query row %q: %v", sc.Text(), err)
		}
		ids = append(ids, row.ID)
	}
	return ids
}
