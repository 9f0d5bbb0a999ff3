package awsfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
)

// SQSAccount is the account id in the fake's queue URLs and ARNs.
const SQSAccount = "123456789012"

// DropConnection closes the connection without any reply, before the request
// takes effect (SQS fake only).
const DropConnection Fault = 1000

// SQS is a fake Amazon SQS endpoint speaking the AWS JSON 1.0 protocol the v2
// SDK uses (POST /, Content-Type application/x-amz-json-1.0, X-Amz-Target
// AmazonSQS.<Operation>), for CreateQueue, GetQueueUrl, GetQueueAttributes,
// SendMessage, ReceiveMessage (with long polling), DeleteMessage and
// ChangeMessageVisibility. It keeps standard-queue semantics: a received
// message is invisible for its visibility timeout and then reappears with a new
// receipt handle and a higher ApproximateReceiveCount; only the latest receipt
// handle deletes a message (an older one "succeeds" without deleting, as the
// service documents); ChangeMessageVisibility on a message whose timeout ran
// out fails with MessageNotInflight. Requests must carry a valid SigV4
// signature for a key added with AddKey. Faults are injected per operation
// with Inject: Throttle (400 RequestThrottled), ServerError (500
// InternalFailure), ExpiredToken, Truncate (the request takes effect, the reply
// is cut) and DropConnection (the connection closes, the request is lost).
type SQS struct {
	URL string

	srv   *httptest.Server
	sig   *Server // signature checks and fault queues (never started)
	mu    sync.Mutex
	wake  chan struct{} // closed and replaced whenever a message may have become visible
	queue map[string]*sqsQueue
	seq   int64
}

type sqsQueue struct {
	name, url string
	created   time.Time
	// visibility is the queue's default visibility timeout (30s unless set).
	visibility time.Duration
	msgs       []*sqsMessage // in arrival order; deleted ones are removed
}

type sqsMessage struct {
	id, body, md5 string
	sent          time.Time
	firstReceive  time.Time
	received      time.Time // of the latest receive: visibility may not extend 12h past it
	visibleAt     time.Time
	receives      int
	// handle is the latest receipt handle; old ones stay valid for Delete
	// (as a no-op) but not for ChangeMessageVisibility.
	handle string
}

// SQSMessage is a message as the test sees it.
type SQSMessage struct {
	ID, Body string
	// Receives is the ApproximateReceiveCount; InFlight says it is invisible.
	Receives int
	InFlight bool
}

// NewSQS starts an SQS fake on 127.0.0.1; it stops when the test ends.
func NewSQS(tb testing.TB) *SQS {
	s := &SQS{sig: &Server{keys: map[string]key{}, faults: map[string][]Fault{}},
		wake: make(chan struct{}), queue: map[string]*sqsQueue{}}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// StartSQS isolates the test from this machine's AWS settings, starts an SQS
// fake that accepts TestKey, and returns it with a credentials configuration
// that points at it.
func StartSQS(tb testing.TB) (*SQS, awsclient.Config) {
	tb.Helper()
	IsolateEnv(tb)
	s := NewSQS(tb)
	s.AddKey(TestKey, TestSecret, "")
	return s, awsclient.Config{Region: "us-east-1", AccessKeyID: TestKey, SecretAccessKey: TestSecret, Endpoint: s.URL}
}

// AddKey makes the fake accept requests signed with this key.
func (s *SQS) AddKey(accessKeyID, secret, sessionToken string) {
	s.sig.AddKey(accessKeyID, secret, sessionToken)
}

// Inject queues faults for the next calls of op (ReceiveMessage, ...), one per
// call, in order.
func (s *SQS) Inject(op string, faults ...Fault) { s.sig.Inject(op, faults...) }

// Calls returns the calls of op received so far (all calls when op is "").
func (s *SQS) Calls(op string) []Call { return s.sig.Calls(op) }

// CreateQueue creates a queue (or returns the existing one's URL) with the
// given default visibility timeout (0: 30s).
func (s *SQS) CreateQueue(name string, visibility time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.create(name, visibility).url
}

func (s *SQS) create(name string, visibility time.Duration) *sqsQueue {
	if q := s.queue[name]; q != nil {
		return q
	}
	if visibility == 0 {
		visibility = 30 * time.Second
	}
	q := &sqsQueue{name: name, url: s.URL + "/" + SQSAccount + "/" + name, created: time.Now(), visibility: visibility}
	s.queue[name] = q
	return q
}

// Send adds a message to a queue (created when needed) and returns its id.
func (s *SQS) Send(queue, body string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.send(s.create(queue, 0), body)
}

func (s *SQS) send(q *sqsQueue, body string) string {
	s.seq++
	sum := md5.Sum([]byte(body))
	m := &sqsMessage{id: fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq), body: body,
		md5: hex.EncodeToString(sum[:]), sent: time.Now()}
	q.msgs = append(q.msgs, m)
	s.signal()
	return m.id
}

// Messages returns the messages of a queue not deleted yet, in arrival order.
func (s *SQS) Messages(queue string) []SQSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue[queue]
	if q == nil {
		return nil
	}
	now := time.Now()
	out := make([]SQSMessage, 0, len(q.msgs))
	for _, m := range q.msgs {
		out = append(out, SQSMessage{ID: m.id, Body: m.body, Receives: m.receives, InFlight: m.visibleAt.After(now)})
	}
	return out
}

// signal wakes the long polls. Called with s.mu held.
func (s *SQS) signal() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// byURL finds a queue by its URL. Called with s.mu held.
func (s *SQS) byURL(u string) *sqsQueue {
	for _, q := range s.queue {
		if q.url == u {
			return q
		}
	}
	return nil
}

// sqsError is an error reply: its code (the __type, whose namespace the SDK
// drops), the query-compatible code the SDK reports (X-Amzn-Query-Error) and the
// HTTP status.
type sqsError struct {
	status          int
	typ, query, msg string
}

func (e *sqsError) Error() string { return e.typ + ": " + e.msg }

func errQueueMissing() *sqsError {
	return &sqsError{400, "com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."}
}

func errInvalidParameter(format string, args ...any) *sqsError {
	return &sqsError{400, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

// ServeHTTP checks the protocol and the signature, records the call, injects
// the next fault queued for the operation or answers it.
func (s *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AmazonSQS.")
	if !ok || r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		writeSQSError(w, &sqsError{400, "com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation",
			fmt.Sprintf("not an AWS JSON 1.0 SQS request: %s %s target %q", r.Method, r.URL.Path, target)})
		return
	}
	call := Call{Op: op, Body: body}
	sig, err := s.sig.verify(r, body)
	call.Region, call.Service, call.AccessKeyID, call.SessionToken = sig.region, sig.service, sig.accessKeyID, sig.token
	fault := s.sig.record(&call, err == nil)
	if err != nil {
		writeSQSError(w, &sqsError{403, "com.amazonaws.sqs#InvalidSecurity", "InvalidClientTokenId", err.Error()})
		return
	}
	switch fault {
	case Throttle:
		writeSQSError(w, &sqsError{400, "com.amazonaws.sqs#RequestThrottled", "RequestThrottled", "Rate exceeded"})
		return
	case ServerError:
		writeSQSError(w, &sqsError{500, "com.amazon.coral.service#InternalFailure", "InternalFailure", "Internal failure"})
		return
	case ExpiredToken:
		writeSQSError(w, &sqsError{400, "com.amazon.coral.service#ExpiredTokenException", "ExpiredToken", "The security token included in the request is expired"})
		return
	case DropConnection:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	rec := httptest.NewRecorder()
	reply, serr := s.do(r, op, body)
	if serr != nil {
		writeSQSError(rec, serr)
	} else {
		writeJSON(rec, "application/x-amz-json-1.0", reply)
	}
	copyReply(w, rec, fault == Truncate)
}

// do runs one operation.
func (s *SQS) do(r *http.Request, op string, body []byte) (any, *sqsError) {
	switch op {
	case "CreateQueue":
		return s.createQueue(body)
	case "GetQueueUrl":
		return s.getQueueURL(body)
	case "GetQueueAttributes":
		return s.getQueueAttributes(body)
	case "SendMessage":
		return s.sendMessage(body)
	case "ReceiveMessage":
		return s.receiveMessage(r, body)
	case "DeleteMessage":
		return s.deleteMessage(body)
	case "ChangeMessageVisibility":
		return s.changeVisibility(body)
	}
	return nil, &sqsError{400, "com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "operation " + op + " is not faked"}
}

// writeSQSError writes an AWS JSON 1.0 error as SQS does: the shape's
// namespaced __type in the body and the legacy query code in
// X-Amzn-Query-Error, which the SDK reports as the error code.
func writeSQSError(w http.ResponseWriter, e *sqsError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	fault := "Sender"
	if e.status >= 500 {
		fault = "Receiver"
	}
	w.Header().Set("X-Amzn-Query-Error", e.query+";"+fault)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.msg})
}

// decode reads a request body strictly enough to catch client mistakes.
func decode(body []byte, v any) *sqsError {
	if err := json.Unmarshal(body, v); err != nil {
		return &sqsError{400, "com.amazon.coral.service#SerializationException", "SerializationException", err.Error()}
	}
	return nil
}

// attributeSet is the set of names requested, "All" meaning every one.
type attributeSet []string

func (a attributeSet) has(name string) bool {
	for _, n := range a {
		if n == "All" || n == name {
			return true
		}
	}
	return false
}
