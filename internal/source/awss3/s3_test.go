package awss3

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source/daycursor"
)

const bucket = "trail-bucket"

func ctKey(acct, region, day, name string) string {
	return "AWSLogs/" + acct + "/CloudTrail/" + region + "/" + day + "/" + acct + "_CloudTrail_" + region + "_" + name + ".json.gz"
}

func TestDiscoversAccountsRegionsAndOrgTrails(t *testing.T) {
	f := newFakeS3(t, bucket)
	f.put(t, bucket, ctKey("111122223333", "us-east-1", "2024/05/01", "a"), gzipped(trail(3, "ListUsers")))
	f.put(t, bucket, ctKey("111122223333", "eu-west-1", "2024/05/01", "b"), gzipped(trail(2, "ListUsers")))
	f.put(t, bucket, ctKey("444455556666", "us-east-1", "2024/05/01", "c"), gzipped(trail(1, "ListUsers")))
	f.put(t, bucket, "AWSLogs/o-abcdefghij/777788889999/CloudTrail/us-east-1/2024/05/01/777788889999_CloudTrail_us-east-1_d.json.gz", gzipped(trail(4, "CreateUser")))
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

	c := &collector{}
	poll(t, f, testConfig(f.srv.URL, bucket), openState(t), now, c)
	if len(c.events) != 10 {
		t.Fatalf("%d events, want 10 from 4 objects", len(c.events))
	}
	var ev struct {
		Integration string `json:"integration"`
		AWS         struct {
			Source  string `json:"source"`
			Account string `json:"aws_account_id"`
			LogInfo struct {
				LogFile string `json:"log_file"`
				Bucket  string `json:"s3bucket"`
			} `json:"log_info"`
		} `json:"aws"`
	}
	for i, e := range c.events {
		if err := json.Unmarshal([]byte(e), &ev); err != nil {
			t.Fatalf("event %d not JSON: %v", i, err)
		}
		if ev.Integration != "aws" || ev.AWS.Source != "cloudtrail" || ev.AWS.LogInfo.Bucket != bucket ||
			!strings.HasSuffix(c.units[i], ev.AWS.LogInfo.LogFile) || !strings.Contains(ev.AWS.LogInfo.LogFile, ev.AWS.Account) {
			t.Errorf("event %d not wrapped like Wazuh's module: %s (unit %s)", i, e, c.units[i])
		}
	}

	// Filters: one account, one region.
	cfg := testConfig(f.srv.URL, bucket)
	cfg.Accounts, cfg.Regions = []string{"111122223333"}, []string{"eu-west-1"}
	c2 := &collector{}
	poll(t, f, cfg, openState(t), now, c2)
	if len(c2.events) != 2 {
		t.Fatalf("filtered to one account and region: %d events, want 2", len(c2.events))
	}
}

func TestLateAndEarlierSortingObjectsReadExactlyOnce(t *testing.T) {
	f := newFakeS3(t, bucket)
	day := "2024/05/01"
	f.put(t, bucket, ctKey("111122223333", "us-east-1", day, "20240501T1000Z_m"), gzipped(trail(2, "B")))
	f.put(t, bucket, ctKey("111122223333", "us-east-1", day, "20240501T1100Z_n"), gzipped(trail(2, "C")))
	state := openState(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	c := &collector{}
	poll(t, f, testConfig(f.srv.URL, bucket), state, now, c)
	if len(c.events) != 4 {
		t.Fatalf("first poll: %d events, want 4", len(c.events))
	}
	// Delivered late, and its key sorts before the keys already read (Wazuh #33108).
	f.put(t, bucket, ctKey("111122223333", "us-east-1", day, "20240501T0900Z_a"), gzipped(trail(3, "A")))
	c2 := &collector{}
	poll(t, f, testConfig(f.srv.URL, bucket), state, now.Add(time.Hour), c2)
	if len(c2.events) != 3 || c2.count("0900Z_a.json.gz") != 3 {
		t.Fatalf("second poll: %d events %v, want exactly the 3 of the late object", len(c2.events), c2.units)
	}
	c3 := &collector{}
	poll(t, f, testConfig(f.srv.URL, bucket), state, now.Add(2*time.Hour), c3)
	if len(c3.events) != 0 {
		t.Fatalf("third poll read %d events again", len(c3.events))
	}
}

func TestDaysCloseAfterTheRereadWindowAndStateStaysSmall(t *testing.T) {
	f := newFakeS3(t, bucket)
	for d := 1; d <= 4; d++ {
		day := time.Date(2024, 5, d, 0, 0, 0, 0, time.UTC).Format("2006/01/02")
		for i := 0; i < 5; i++ {
			f.put(t, bucket, ctKey("111122223333", "us-east-1", day, day[8:]+"_"+string(rune('a'+i))), gzipped(trail(1, "X")))
		}
	}
	state := openState(t)
	now := time.Date(2024, 5, 4, 3, 0, 0, 0, time.UTC) // 3h into May 4: May 3 still in the 6h window
	c := &collector{}
	poll(t, f, testConfig(f.srv.URL, bucket), state, now, c)
	if len(c.events) != 20 {
		t.Fatalf("%d events, want 20", len(c.events))
	}
	keys, cursors := stateKeys(t, state)
	if keys != 10 || cursors != 1 {
		t.Fatalf("state holds %d object keys and %d cursors; want only the 10 objects of May 3-4 and 1 cursor", keys, cursors)
	}
	if b, _, _ := state.Get("trail", daycursor.CursorPrefix+"AWSLogs/111122223333/CloudTrail/us-east-1/"); string(b) != "2024-05-03" {
		t.Fatalf("cursor %q, want 2024-05-03", b)
	}
	// Later the same day May 3 closes too, and nothing is read twice.
	c2 := &collector{}
	poll(t, f, testConfig(f.srv.URL, bucket), state, now.Add(4*time.Hour), c2)
	if len(c2.events) != 0 {
		t.Fatalf("re-read %d events", len(c2.events))
	}
	if keys, _ := stateKeys(t, state); keys != 5 {
		t.Fatalf("%d object keys kept, want the 5 of May 4", keys)
	}
}

func TestUnacknowledgedObjectsAreReadAgain(t *testing.T) {
	f := newFakeS3(t, bucket)
	f.put(t, bucket, ctKey("111122223333", "us-east-1", "2024/05/01", "ok"), gzipped(trail(2, "A")))
	f.put(t, bucket, ctKey("111122223333", "us-east-1", "2024/05/01", "lost"), gzipped(trail(3, "B")))
	state := openState(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	// The alerts of "lost" never became durable (the process died, an output failed).
	c := &collector{ackErr: func(unit string) error {
		if strings.Contains(unit, "_lost.") {
			return errors.New("output down")
		}
		return nil
	}}
	poll(t, f, testConfig(f.srv.URL, bucket), state, now, c)
	c2 := &collector{}
	poll(t, f, testConfig(f.srv.URL, bucket), state, now, c2)
	if len(c2.events) != 3 || c2.count("_lost.json.gz") != 3 {
		t.Fatalf("second poll read %v; want only the 3 records of the unacknowledged object", c2.units)
	}
}

func TestFaultsAreRetriedWithoutLossOrRepeats(t *testing.T) {
	f := newFakeS3(t, bucket)
	key := ctKey("111122223333", "us-east-1", "2024/05/01", "big")
	f.put(t, bucket, key, gzipped(trail(600, "A")))
	var calls int
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "_big.json.gz") {
			return false
		}
		calls++
		switch calls {
		case 1: // throttled
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`))
			return true
		case 2: // the connection breaks in the middle of the object
			hj, ok := w.(http.Hijacker)
			if !ok {
				return false
			}
			conn, buf, _ := hj.Hijack()
			body := gzipped(trail(600, "A"))
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: " + itoa(len(body)) + "\r\nContent-Type: application/octet-stream\r\n\r\n")
			buf.Write(body[:len(body)/2])
			buf.Flush()
			conn.Close()
			return true
		}
		return false
	})
	c := &collector{}
	s := poll(t, f, testConfig(f.srv.URL, bucket), openState(t), time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), c)
	if len(c.events) != 600 {
		t.Fatalf("%d events, want all 600", len(c.events))
	}
	seen := map[int64]bool{}
	for _, o := range c.offs {
		if seen[o] {
			t.Fatalf("record %d delivered twice", o)
		}
		seen[o] = true
	}
	if calls < 3 {
		t.Fatalf("%d GETs, want the throttled one, the broken one and a good one", calls)
	}
	_ = s
}

func TestBadContentIsCountedAndGoodRecordsKept(t *testing.T) {
	f := newFakeS3(t, bucket)
	good := gzipped(trail(200, "A"))
	f.put(t, bucket, ctKey("111122223333", "us-east-1", "2024/05/01", "trunc"), good[:len(good)/2])
	f.put(t, bucket, ctKey("111122223333", "us-east-1", "2024/05/01", "ok"), gzipped(trail(2, "B")))
	c := &collector{}
	s := poll(t, f, testConfig(f.srv.URL, bucket), openState(t), time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), c)
	if n := c.count("_trunc.json.gz"); n == 0 || n >= 200 {
		t.Errorf("truncated object gave %d events, want the records before the break", n)
	}
	if c.count("_ok.json.gz") != 2 {
		t.Errorf("the good object lost events")
	}
	if s.Stats().Errors == 0 {
		t.Error("the truncated object was not counted as an error")
	}
}

func TestRemoveFromBucketAfterCommit(t *testing.T) {
	f := newFakeS3(t, bucket)
	key := ctKey("111122223333", "us-east-1", "2024/05/01", "gone")
	f.put(t, bucket, key, gzipped(trail(1, "A")))
	cfg := testConfig(f.srv.URL, bucket)
	cfg.RemoveFromBucket = true
	poll(t, f, cfg, openState(t), time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), &collector{})
	out, err := f.client.ListObjectsV2(t.Context(), listInput(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Fatalf("%d objects left after remove_from_bucket", len(out.Contents))
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	c.LogType = "nope"
	c.OnlyLogsAfter = "2024-AUG-01"
	c.Workers = 0
	c.Discard.Field = "x"
	err := c.Validate()
	for _, want := range []string{"bucket", "log_type", "only_logs_after", "workers", "discard"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error about %s", err, want)
		}
	}
}

func itoa(n int) string {
	var b []byte
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestExpiredCredentialsLeaveObjectsForTheNextPoll(t *testing.T) {
	f := newFakeS3(t, bucket)
	f.put(t, bucket, ctKey("111122223333", "us-east-1", "2024/05/01", "x"), gzipped(trail(3, "A")))
	expired := true
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !expired || r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, ".json.gz") {
			return false
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>`))
		return true
	})
	state := openState(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var logs strings.Builder
	cfg := testConfig(f.srv.URL, bucket)
	s := newWithClient(cfg, Settings{Name: "trail", State: state, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, f.client)
	c := &collector{}
	if err := s.Run(t.Context(), c.emit); err != nil {
		t.Fatal(err)
	}
	s.Commit()
	if len(c.events) != 0 || s.Stats().Errors == 0 {
		t.Fatalf("with expired credentials: %d events, %d errors", len(c.events), s.Stats().Errors)
	}
	if !strings.Contains(logs.String(), "ExpiredToken") || !strings.Contains(logs.String(), "_x.json.gz") {
		t.Errorf("the error does not name the cause and the key:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "secret-test-key") {
		t.Fatal("the secret key appears in the logs")
	}
	expired = false
	c2 := &collector{}
	poll(t, f, cfg, state, now, c2)
	if len(c2.events) != 3 {
		t.Fatalf("after renewal: %d events, want the 3 left unread", len(c2.events))
	}
}

// A backfill reports its progress in day folders and the newest object it read.
func TestBackfillProgressAndNewest(t *testing.T) {
	f := newFakeS3(t, bucket)
	f.put(t, bucket, ctKey("111122223333", "us-east-1", "2024/04/20", "a"), gzipped(trail(1, "ListUsers")))
	f.put(t, bucket, ctKey("111122223333", "us-east-1", "2024/05/01", "b"), gzipped(trail(1, "ListUsers")))
	cfg := testConfig(f.srv.URL, bucket)
	cfg.OnlyLogsAfter = "2024-04-15"
	before := time.Now().Add(-time.Minute)
	s := poll(t, f, cfg, openState(t), time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), &collector{})
	p := s.Progress()
	// 2024-04-15 .. 2024-05-01 is 17 days, all passed.
	if p.Total != 17 || p.Done != 17 || p.Unit != "days" {
		t.Fatalf("progress %+v; want 17 of 17 days", p)
	}
	if n := s.Stats().Newest; n.Before(before) {
		t.Fatalf("newest object time %v; want the fake's LastModified (about now)", n)
	}
}
