package awssqs

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// TestPoisonMessages: an unparseable message and one whose object always fails
// are read max_receives times, then moved to the dead-letter queue (bodies
// intact) with an error log and a counter; a good message alongside is read
// once.
func TestPoisonMessages(t *testing.T) {
	e := newEnv(t)
	e.sqs.CreateQueue("poison", 0)
	e.cfg.VisibilityTimeout = config.Duration(time.Second)
	e.cfg.MaxReceives = 2
	e.cfg.DeadLetterQueue = "poison"
	e.s3.put(t, "good.json.gz", trail(3, "good"))
	e.s3.put(t, "denied.json.gz", trail(3, "denied"))
	e.s3.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "denied") {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
			return true
		}
		return false
	})
	bad := "this is not a notification"
	denied := s3Event("denied.json.gz")
	e.sqs.Send("notifications", bad)
	e.sqs.Send("notifications", denied)
	e.sqs.Send("notifications", s3Event("good.json.gz"))
	c := &collector{}
	s := e.serve(t, e.cfg, c)
	waitFor(t, 15*time.Second, "poison moved aside", func() bool {
		ms := s.MessageStats()
		return len(e.sqs.Messages("notifications")) == 0 && ms.MovedAside == 2 && ms.Deleted == 3
	})
	dlq := e.sqs.Messages("poison")
	if len(dlq) != 2 || dlq[0].Body+dlq[1].Body != bad+denied && dlq[0].Body+dlq[1].Body != denied+bad {
		t.Fatalf("dead-letter queue: %+v", dlq)
	}
	ms := s.MessageStats()
	if ms.MovedAside != 2 || ms.Received != 7 || ms.Left != 4 || ms.Deleted != 3 {
		t.Errorf("message stats %+v", ms)
	}
	if got := c.count(); got["s3://logs/good.json.gz"] != 3 || len(got) != 1 {
		t.Errorf("events %v", got)
	}
	logs := e.logs.String()
	if strings.Count(logs, "received too many times") != 2 || !strings.Contains(logs, "denied.json.gz") || !strings.Contains(logs, "AccessDenied") {
		t.Errorf("logs:\n%s", logs)
	}
	if s.Stats().Errors < 2 {
		t.Errorf("stats %+v", s.Stats())
	}
}

// TestPoisonWithoutDeadLetterQueue: without a dead-letter queue the message is
// deleted once received more than max_receives times.
func TestPoisonWithoutDeadLetterQueue(t *testing.T) {
	e := newEnv(t)
	e.cfg.VisibilityTimeout = config.Duration(time.Second)
	e.cfg.MaxReceives = 1
	e.sqs.Send("notifications", `{"Records":"nope"}`)
	s := e.serve(t, e.cfg, &collector{})
	waitFor(t, 10*time.Second, "deletion", func() bool { return s.MessageStats().MovedAside == 1 })
	if ms := s.MessageStats(); len(e.sqs.Messages("notifications")) != 0 || ms.Received != 2 {
		t.Errorf("message stats %+v", ms)
	}
	if !strings.Contains(e.logs.String(), "deleted (no dead_letter_queue)") {
		t.Errorf("logs:\n%s", e.logs.String())
	}
}

// TestSQSFaults: throttling, server errors, dropped connections and cut replies
// on every call the source makes are retried; every object is still read once
// (a ReceiveMessage reply lost after the receive only delays its messages by a
// visibility timeout) and every message deleted.
func TestSQSFaults(t *testing.T) {
	e := newEnv(t)
	e.cfg.VisibilityTimeout = config.Duration(time.Second)
	const n = 6
	for i := range n {
		k := fmt.Sprintf("o%d.json.gz", i)
		e.s3.put(t, k, trail(2, k))
		e.sqs.Send("notifications", s3Event(k))
	}
	e.s3.setFault(func(_ http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "o0") {
			time.Sleep(1200 * time.Millisecond) // long enough for visibility extensions
		}
		return false
	})
	e.sqs.Inject("GetQueueUrl", awsfake.Throttle, awsfake.DropConnection)
	e.sqs.Inject("ReceiveMessage", awsfake.Throttle, awsfake.ServerError, awsfake.DropConnection, awsfake.ExpiredToken)
	e.sqs.Inject("DeleteMessage", awsfake.ServerError, awsfake.Truncate, awsfake.DropConnection, awsfake.Throttle)
	e.sqs.Inject("ChangeMessageVisibility", awsfake.Throttle)
	e.cfg.MaxMessages = 2
	c := &collector{}
	s := e.serve(t, e.cfg, c)
	waitDeleted(t, e, s, n)
	if got := c.count(); len(got) != n {
		t.Errorf("objects read: %v", got)
	}
	for o, k := range c.origins() {
		if k != 1 {
			t.Errorf("%+v emitted %d times", o, k)
		}
	}
	if ms := s.MessageStats(); ms.Deleted != n || ms.Left != 0 {
		t.Errorf("message stats %+v", ms)
	}
	if s.MessageStats().Extended == 0 {
		t.Error("no visibility extension succeeded after the throttled one")
	}
}

// TestTruncatedReceive: a ReceiveMessage whose reply is lost after the service
// handed the messages out: they are received again after their visibility
// timeout, and read once.
func TestTruncatedReceive(t *testing.T) {
	e := newEnv(t)
	e.cfg.VisibilityTimeout = config.Duration(time.Second)
	e.s3.put(t, "a.json.gz", trail(2, "a"))
	e.sqs.Send("notifications", s3Event("a.json.gz"))
	e.sqs.Inject("ReceiveMessage", awsfake.Truncate)
	c := &collector{}
	s := e.serve(t, e.cfg, c)
	waitDeleted(t, e, s, 1)
	if got := c.count(); got["s3://logs/a.json.gz"] != 2 {
		t.Errorf("events %v", got)
	}
	if ms := s.MessageStats(); ms.Received != 1 || ms.Deleted != 1 {
		t.Errorf("message stats %+v", ms)
	}
}
