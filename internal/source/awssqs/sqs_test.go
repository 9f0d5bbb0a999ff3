package awssqs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// TestEnvelopes: S3 notifications straight, through SNS and through
// EventBridge each have their objects read and are deleted; S3's test event and
// events that create nothing are deleted without a read; keys are decoded as S3
// encodes them (+ for a space, %2B for a plus) but EventBridge's are taken as
// they are.
func TestEnvelopes(t *testing.T) {
	e := newEnv(t)
	keys := []string{"AWSLogs/direct.json.gz", "AWSLogs/via sns+plus.json.gz", "AWSLogs/eb: colon.json.gz"}
	for i, k := range keys {
		e.s3.put(t, k, trail(3+i, fmt.Sprint("k", i)))
	}
	e.sqs.Send("notifications", s3Event(keys[0]))
	e.sqs.Send("notifications", snsWrap(s3Event(keys[1])))
	e.sqs.Send("notifications", eventBridge(keys[2]))
	e.sqs.Send("notifications", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-05-01T10:00:00.000Z","Bucket":"logs","RequestId":"R","HostId":"H"}`)
	e.sqs.Send("notifications", strings.Replace(s3Event("AWSLogs/removed.json.gz"), "ObjectCreated:Put", "ObjectRemoved:Delete", 1))
	c := &collector{}
	s := e.drain(t, e.cfg, c)

	got := c.count()
	for i, k := range keys {
		if n := got["s3://logs/"+k]; n != 3+i {
			t.Errorf("%s: %d events, want %d (all: %v)", k, n, 3+i, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("units read: %v", got)
	}
	if left := e.sqs.Messages("notifications"); len(left) != 0 {
		t.Errorf("messages left: %+v", left)
	}
	ms := s.MessageStats()
	if ms.Received != 5 || ms.Deleted != 5 || ms.Ignored != 2 || ms.Left != 0 {
		t.Errorf("message stats %+v", ms)
	}
	if st := s.Stats(); st.Units != 3 || st.Events != 12 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
	// The events are aws-s3's: Wazuh's envelope at Wazuh-AWS.
	ev := c.all()[0]
	var doc struct {
		Integration string `json:"integration"`
		AWS         struct {
			LogInfo struct {
				S3Bucket string `json:"s3bucket"`
				LogFile  string `json:"log_file"`
			} `json:"log_info"`
			Source string `json:"source"`
		} `json:"aws"`
	}
	if err := json.Unmarshal(ev.Log, &doc); err != nil || doc.Integration != "aws" || doc.AWS.Source != "cloudtrail" ||
		doc.AWS.LogInfo.S3Bucket != "logs" || ev.Location != "Wazuh-AWS" || ev.AgentName != "manager" || ev.Origin.Source != "queue" {
		t.Errorf("event %s at %q: %v", ev.Log, ev.Location, err)
	}
}

// TestDeletedOnlyAfterAllObjects: a message naming two objects stays in flight
// until the batches of both are acknowledged, then is deleted.
func TestDeletedOnlyAfterAllObjects(t *testing.T) {
	e := newEnv(t)
	e.s3.put(t, "a.json.gz", trail(2, "a"))
	e.s3.put(t, "b.json.gz", trail(3, "b"))
	e.sqs.Send("notifications", s3Event("a.json.gz", "b.json.gz"))
	c := &collector{hold: true}
	s := e.serve(t, e.cfg, c)
	waitFor(t, 5*time.Second, "both objects read", func() bool { return len(c.all()) == 5 })
	time.Sleep(100 * time.Millisecond)
	if m := e.sqs.Messages("notifications"); len(m) != 1 || !m[0].InFlight {
		t.Fatalf("before any ack: %+v", m)
	}
	if c.release("s3://logs/a.json.gz", nil) == 0 {
		t.Fatal("no batch held for a")
	}
	time.Sleep(200 * time.Millisecond)
	if m := e.sqs.Messages("notifications"); len(m) != 1 {
		t.Fatalf("deleted after one object of two: %+v", m)
	}
	c.release("s3://logs/b.json.gz", nil)
	waitDeleted(t, e, s, 1)
	if ms := s.MessageStats(); ms.Deleted != 1 || ms.Received != 1 {
		t.Errorf("message stats %+v", ms)
	}
}

// TestAckFailureRedelivers: when an output fails a batch, the message is not
// deleted; it reappears after the visibility timeout and its second reading
// gives the same origins (so the same alert ids).
func TestAckFailureRedelivers(t *testing.T) {
	e := newEnv(t)
	e.cfg.VisibilityTimeout = config.Duration(time.Second)
	e.s3.put(t, "a.json.gz", trail(300, "a")) // two batches
	e.sqs.Send("notifications", s3Event("a.json.gz"))
	var mu sync.Mutex
	failures := 1
	c := &collector{ackErr: func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return errors.New("output down")
		}
		return nil
	}}
	start := time.Now()
	s := e.serve(t, e.cfg, c)
	waitDeleted(t, e, s, 1)
	if d := time.Since(start); d < time.Second {
		t.Errorf("redelivered after %v, before the visibility timeout", d)
	}
	for o, n := range c.origins() {
		if n != 2 || o.unit != "s3://logs/a.json.gz" || o.offset < 0 || o.offset >= 300 {
			t.Fatalf("origin %+v emitted %d times", o, n)
		}
	}
	if n := len(c.origins()); n != 300 {
		t.Errorf("%d distinct origins, want 300", n)
	}
	if ms := s.MessageStats(); ms.Received != 2 || ms.Left != 1 || ms.Deleted != 1 {
		t.Errorf("message stats %+v", ms)
	}
}

// TestVisibilityExtended: while a slow object is read, the message's visibility
// is extended, so a second consumer on the queue never receives it.
func TestVisibilityExtended(t *testing.T) {
	e := newEnv(t)
	e.cfg.VisibilityTimeout = config.Duration(time.Second)
	e.s3.put(t, "slow.json.gz", trail(5, "slow"))
	e.s3.setFault(func(_ http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "slow") {
			time.Sleep(2500 * time.Millisecond)
		}
		return false
	})
	e.sqs.Send("notifications", s3Event("slow.json.gz"))
	c1, c2 := &collector{}, &collector{}
	s1 := e.serve(t, e.cfg, c1)
	waitFor(t, 5*time.Second, "first receipt", func() bool { return s1.MessageStats().Received == 1 })
	s2 := e.serve(t, e.cfg, c2)
	waitDeleted(t, e, s1, 1)
	if n := len(e.sqs.Calls("ChangeMessageVisibility")); n < 3 {
		t.Errorf("%d visibility extensions during a 2.5s read with a 1s timeout", n)
	}
	if s1.MessageStats().Extended < 3 || s2.MessageStats().Received != 0 || len(c2.all()) != 0 || len(c1.all()) != 5 {
		t.Errorf("consumer 1 %+v, consumer 2 %+v (%d events)", s1.MessageStats(), s2.MessageStats(), len(c2.all()))
	}
}

// TestTwoConsumers: two processes draining one queue read every object exactly
// once between them.
func TestTwoConsumers(t *testing.T) {
	e := newEnv(t)
	const n = 60
	for i := range n {
		k := fmt.Sprintf("AWSLogs/o%03d.json.gz", i)
		e.s3.put(t, k, trail(4, k))
		e.sqs.Send("notifications", s3Event(k))
	}
	e.cfg.MaxMessages = 3
	c := &collector{}
	var wg sync.WaitGroup
	srcs := []*Source{e.source(t, e.cfg, true), e.source(t, e.cfg, true)}
	for _, s := range srcs {
		wg.Go(func() {
			if err := s.Run(t.Context(), c.emit); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	wg.Wait()
	if got := c.count(); len(got) != n {
		t.Fatalf("%d objects read, want %d", len(got), n)
	}
	for o, k := range c.origins() {
		if k != 1 {
			t.Errorf("%+v emitted %d times", o, k)
		}
	}
	a, b := srcs[0].MessageStats(), srcs[1].MessageStats()
	if a.Received+b.Received != n || a.Deleted+b.Deleted != n || a.Received == 0 || b.Received == 0 {
		t.Errorf("consumers received %d and %d, deleted %d and %d", a.Received, b.Received, a.Deleted, b.Deleted)
	}
	if left := e.sqs.Messages("notifications"); len(left) != 0 {
		t.Errorf("%d messages left", len(left))
	}
}

// TestDeletedObject: a notification for an object that no longer exists is
// logged once and deleted, with one GET.
func TestDeletedObject(t *testing.T) {
	e := newEnv(t)
	e.s3.put(t, "here.json.gz", trail(2, "here"))
	e.sqs.Send("notifications", s3Event("gone.json.gz", "here.json.gz"))
	c := &collector{}
	s := e.drain(t, e.cfg, c)
	if len(e.sqs.Messages("notifications")) != 0 || c.count()["s3://logs/here.json.gz"] != 2 {
		t.Fatalf("messages %+v, events %v", e.sqs.Messages("notifications"), c.count())
	}
	if n := e.s3.getCount("gone.json.gz"); n != 1 {
		t.Errorf("%d GETs of the missing object", n)
	}
	logs := e.logs.String()
	if strings.Count(logs, "gone.json.gz") != 1 || !strings.Contains(logs, "no longer exists") || strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("logs:\n%s", logs)
	}
	if ms := s.MessageStats(); ms.MissingObjects != 1 || ms.Deleted != 1 {
		t.Errorf("message stats %+v", ms)
	}
}

// TestTruncatedGzip: a truncated object among good ones keeps the records
// before the break, counts the error, names the object, and lets every message
// be deleted.
func TestTruncatedGzip(t *testing.T) {
	e := newEnv(t)
	bad := trail(2000, "cut")
	e.s3.put(t, "good1.json.gz", trail(5, "g1"))
	e.s3.put(t, "cut.json.gz", bad[:len(bad)/2])
	e.s3.put(t, "good2.json.gz", trail(7, "g2"))
	e.sqs.Send("notifications", s3Event("good1.json.gz"))
	e.sqs.Send("notifications", s3Event("cut.json.gz", "good2.json.gz"))
	c := &collector{}
	s := e.drain(t, e.cfg, c)
	got := c.count()
	if got["s3://logs/good1.json.gz"] != 5 || got["s3://logs/good2.json.gz"] != 7 || got["s3://logs/cut.json.gz"] == 0 || got["s3://logs/cut.json.gz"] >= 2000 {
		t.Errorf("events per object: %v", got)
	}
	if st := s.Stats(); st.Errors == 0 {
		t.Errorf("stats %+v: the truncated object was not counted", st)
	}
	if !strings.Contains(e.logs.String(), "cut.json.gz") {
		t.Errorf("the error does not name the object:\n%s", e.logs.String())
	}
	if left := e.sqs.Messages("notifications"); len(left) != 0 {
		t.Errorf("messages left: %+v", left)
	}
}

// TestQueueErrors: a queue that does not exist fails Run with its name; the
// secret key never reaches the logs.
func TestQueueErrors(t *testing.T) {
	e := newEnv(t)
	cfg := e.cfg
	cfg.Queue = "no-such-queue"
	s := e.source(t, cfg, true)
	err := s.Run(t.Context(), (&collector{}).emit)
	if err == nil || !strings.Contains(err.Error(), "no-such-queue") {
		t.Fatalf("Run: %v", err)
	}
	e.sqs.Send("notifications", "not json")
	e.drain(t, e.cfg, &collector{})
	logs := e.logs.String()
	if !strings.Contains(logs, e.sqs.URL+"/123456789012/notifications") || strings.Contains(logs, "s3cr3t") {
		t.Errorf("logs:\n%s", logs)
	}
}

// TestOnlyLogsAfter: objects whose notification is older than only_logs_after
// are not read; their messages are deleted.
func TestOnlyLogsAfter(t *testing.T) {
	e := newEnv(t)
	e.s3.put(t, "old.json.gz", trail(2, "old"))
	e.s3.put(t, "new.json.gz", trail(2, "new"))
	e.sqs.Send("notifications", s3Event("old.json.gz"))
	e.sqs.Send("notifications", strings.Replace(s3Event("new.json.gz"), "2024-05-01T", "2024-07-01T", 1))
	cfg := e.cfg
	cfg.OnlyLogsAfter = "2024-06-01"
	c := &collector{}
	s := e.drain(t, cfg, c)
	if got := c.count(); len(got) != 1 || got["s3://logs/new.json.gz"] != 2 {
		t.Errorf("events %v", got)
	}
	if ms := s.MessageStats(); ms.OldObjects != 1 || ms.Deleted != 2 || e.s3.getCount("old.json.gz") != 0 {
		t.Errorf("message stats %+v", ms)
	}
}
