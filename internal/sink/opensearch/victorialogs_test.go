package opensearch_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/opensearch"
)

// VictoriaLogs v1.52.1 speaks the Elasticsearch _bulk protocol (on /_bulk
// only, with no index, template or search API): it is the real server these
// tests deliver to.
const vlInstall = "GOPROXY=https://proxy.golang.org go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@v1.52.1"

func victoriaLogsBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("SKYWATCH_VICTORIALOGS"); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("SKYWATCH_VICTORIALOGS=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("victoria-logs"); err == nil {
		return p
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		if p := filepath.Join(gp, "bin", "victoria-logs"); fileExists(p) {
			return p
		}
	}
	msg := "SKIP: victoria-logs not found (SKYWATCH_VICTORIALOGS, PATH, $(go env GOPATH)/bin): install with " + vlInstall
	fmt.Fprintln(os.Stderr, msg)
	tb.Skip(msg)
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// victoriaLogs is one victoria-logs process on 127.0.0.1.
type victoriaLogs struct {
	tb   testing.TB
	bin  string
	addr string
	data string
	cmd  *exec.Cmd
	out  *logBuffer
}

func startVictoriaLogs(tb testing.TB) *victoriaLogs {
	tb.Helper()
	bin := victoriaLogsBinary(tb)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	v := &victoriaLogs{tb: tb, bin: bin, addr: addr, data: tb.TempDir(), out: &logBuffer{}}
	v.start()
	tb.Cleanup(v.stop)
	return v
}

func (v *victoriaLogs) start() {
	v.tb.Helper()
	v.cmd = exec.Command(v.bin, "-httpListenAddr="+v.addr, "-storageDataPath="+v.data, "-loggerLevel=WARN")
	v.cmd.Stdout, v.cmd.Stderr = v.out, v.out
	if err := v.cmd.Start(); err != nil {
		v.tb.Fatalf("start victoria-logs: %v", err)
	}
	exited := make(chan struct{})
	go func(c *exec.Cmd) { _ = c.Wait(); close(exited) }(v.cmd)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + v.addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-exited:
			v.tb.Fatalf("victoria-logs exited: %s", v.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			v.tb.Fatalf("victoria-logs not ready on %s: %s", v.addr, v.out)
		}
	}
}

// stop ends the process by its pid: SIGINT, so it writes its data, then
// SIGKILL if it lingers.
func (v *victoriaLogs) stop() {
	if v.cmd == nil || v.cmd.Process == nil {
		return
	}
	p := v.cmd.Process
	v.cmd = nil
	_ = p.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		for {
			if err := p.Signal(syscall.Signal(0)); err != nil {
				close(done)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.Kill()
	}
}

func (v *victoriaLogs) url() string { return "http://" + v.addr + "/insert/elasticsearch" }

// config points an elasticsearch output at it, with the headers that tell
// VictoriaLogs which fields are the message, the time and the stream.
func (v *victoriaLogs) config() opensearch.Config {
	c := testConfig(v.url())
	c.InstallTemplate = false // VictoriaLogs has no template API
	c.Headers = map[string]config.Secret{
		"VL-Msg-Field":     "rule.description",
		"VL-Time-Field":    "@timestamp",
		"VL-Stream-Fields": "location",
	}
	return c
}

// query runs a LogsQL query and returns the rows.
func (v *victoriaLogs) query(q string) []map[string]any {
	v.tb.Helper()
	resp, err := http.PostForm("http://"+v.addr+"/select/logsql/query", url.Values{"query": {q}})
	if err != nil {
		v.tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		v.tb.Fatalf("query %q: %s: %s", q, resp.Status, b.String())
	}
	var rows []map[string]any
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			v.tb.Fatalf("query row %q: %v", sc.Text(), err)
		}
		rows = append(rows, row)
	}
	return rows
}

// checkArrivedOnce waits for want's alerts to become searchable under
// location, then checks each is there exactly once and nothing else is.
func (v *victoriaLogs) checkArrivedOnce(location string, want []sink.Record) {
	v.tb.Helper()
	q := fmt.Sprintf(`location:=%q | fields id`, location)
	var rows []map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if rows = v.query(q); len(rows) >= len(want) {
			break
		}
	}
	time.Sleep(1500 * time.Millisecond) // let anything sent twice become searchable too
	rows = v.query(q)
	count := map[string]int{}
	for _, r := range rows {
		count[fmt.Sprint(r["id"])]++
	}
	for _, r := range want {
		if n := count[r.ID]; n != 1 {
			v.tb.Errorf("alert %s arrived %d times", r.ID, n)
		}
		delete(count, r.ID)
	}
	if len(rows) != len(want) || len(count) != 0 {
		v.tb.Errorf("%d rows for %d alerts; unexpected ids %v", len(rows), len(want), count)
	}
}

// vlAlerts are n alerts stamped now (VictoriaLogs drops logs outside its
// retention) at location loc.
func vlAlerts(from, n int, loc string) []sink.Record {
	recs := make([]sink.Record, n)
	now := time.Now().Truncate(time.Millisecond)
	for i := range recs {
		r := mkAlert(from+i, now, cloudtrail(`{"instancesSet":{"items":[{"instanceId":"i-`+fmt.Sprint(from+i)+`"}]}}`))
		r.JSON = bytes.Replace(r.JSON, []byte(`"location":"aws-cloudtrail"`), []byte(`"location":"`+loc+`"`), 1)
		recs[i] = r
	}
	return recs
}

func TestVictoriaLogsBulk(t *testing.T) {
	v := startVictoriaLogs(t)
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			cfg := v.config()
			cfg.Compress = compress
			cfg.BulkMaxDocs = 500
			h := newSink(t, opensearch.Elasticsearch, cfg)
			loc := fmt.Sprintf("vl-bulk-%v", compress)
			recs := vlAlerts(0, 2000, loc)
			for i := 0; i < len(recs); i += 700 { // several Write/Flush cycles
				h.deliver(t, recs[i:min(i+700, len(recs))])
			}
			if st := h.s.Stats(); st.Sent != 2000 || st.Requests < 4 || st.Buffered != 0 {
				t.Errorf("stats %+v", st)
			}
			v.checkArrivedOnce(loc, recs)

			// The fields arrived as the alert has them, with the
			// configured message and time fields.
			rows := v.query(fmt.Sprintf(`location:=%q id:=%q`, loc, recs[7].ID))
			if len(rows) != 1 {
				t.Fatalf("rows %v", rows)
			}
			row := rows[0]
			var a map[string]any
			_ = json.Unmarshal(recs[7].JSON, &a)
			wantTime := a["timestamp"].(string)
			ts, _ := time.Parse("2006-01-02T15:04:05.000-0700", wantTime)
			gotTime, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(row["_time"]))
			if row["_msg"] != "AWS: DescribeInstances" || !gotTime.Equal(ts) || row["rule.level"] != "10" ||
				row["data.aws.requestParameters.instancesSet.items"] != `[{"instanceId":"i-7"}]` || row["data.aws.sourceIPAddress"] != "cloudformation.amazonaws.com" {
				t.Errorf("row %v (alert time %s)", row, wantTime)
			}
		})
	}
}

// The server is stopped, alerts pile up and every flush fails; it is
// started again on the same port and data, and every alert is there once.
func TestVictoriaLogsOutage(t *testing.T) {
	v := startVictoriaLogs(t)
	cfg := v.config()
	cfg.RetryAttempts = 2
	h := newSink(t, opensearch.Elasticsearch, cfg)
	ctx := context.Background()
	loc := "vl-outage"
	batch1, batch2, batch3 := vlAlerts(0, 300, loc), vlAlerts(300, 300, loc), vlAlerts(600, 300, loc)
	h.deliver(t, batch1)

	v.stop()
	if err := h.s.Write(ctx, batch2); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Flush(ctx); err == nil {
		t.Fatal("flush succeeded with victoria-logs stopped")
	}
	if err := h.s.Write(ctx, batch2); err != nil { // redelivered by its source
		t.Fatal(err)
	}
	if err := h.s.Write(ctx, batch3); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Flush(ctx); err == nil {
		t.Fatal("flush succeeded with victoria-logs stopped")
	}

	v.start()
	if err := h.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	all := append(append(append([]sink.Record(nil), batch1...), batch2...), batch3...)
	v.checkArrivedOnce(loc, all)
	if st := h.s.Stats(); st.Sent != 900 || st.Failed != 2 || st.Coalesced != 300 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// BenchmarkVictoriaLogs measures alerts per second delivered to a local
// VictoriaLogs, in flushes of 1000 alerts.
func BenchmarkVictoriaLogs(b *testing.B) {
	for _, compress := range []bool{false, true} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) {
			v := startVictoriaLogs(b)
			cfg := v.config()
			cfg.Compress = compress
			s, err := opensearch.New(cfg, opensearch.Options{Product: opensearch.Elasticsearch, DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const batch = 1000
			recs := vlAlerts(0, batch, "vl-bench")
			ctx := context.Background()
			var bytesIn int64
			for _, r := range recs {
				bytesIn += int64(len(r.JSON))
			}
			b.SetBytes(bytesIn / batch)
			b.ResetTimer()
			for sent := 0; sent < b.N; sent += batch {
				n := min(batch, b.N-sent)
				for i := range recs[:n] { // new ids, as new alerts have
					recs[i].ID = fmt.Sprintf("%d-%d", sent, i)
				}
				if err := s.Write(ctx, recs[:n]); err != nil {
					b.Fatal(err)
				}
				if err := s.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
			b.ReportMetric(float64(s.Stats().BytesSent)/float64(b.N), "wire-B/alert")
		})
	}
}
