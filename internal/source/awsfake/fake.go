// Package awsfake is a small, faithful fake of the AWS APIs the AWS sources call,
// for tests that drive the real SDK clients: Inspector2 ListFindings (restJson1,
// POST /findings/list), CloudWatch Logs DescribeLogStreams and GetLogEvents
// (awsJson1_1, X-Amz-Target Logs_20140328.*) and STS AssumeRole (awsQuery: form
// POST, XML reply). It listens on 127.0.0.1 only, checks every request's SigV4
// signature against the keys it knows, records the calls, and injects faults on
// demand: throttling, server errors, expired tokens, truncated bodies and empty
// pages.
//
// Only tests import it; it follows the wire formats documented in the AWS API
// references, not any emulator.
package awsfake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Fault is an error the server returns instead of the next reply to an operation.
type Fault int

// The faults the server can inject.
const (
	// Throttle answers with the protocol's throttling error (Inspector2: HTTP 429
	// ThrottlingException; CloudWatch Logs: 400 ThrottlingException; STS: 400
	// Throttling).
	Throttle Fault = iota + 1
	// ServerError answers 500 with the service's internal error code.
	ServerError
	// ExpiredToken answers as a service does when the session token expired.
	ExpiredToken
	// Truncate sends the real reply with its body cut in the middle: the
	// connection closes before Content-Length bytes were written.
	Truncate
	// EmptyPage makes GetLogEvents return no events and a new forward token, as
	// the service may do while more events are available.
	EmptyPage
)

// Call is one request the server received.
type Call struct {
	// Op is the operation name (ListFindings, GetLogEvents, AssumeRole, ...).
	Op string
	// Region and Service come from the SigV4 credential scope.
	Region, Service string
	// AccessKeyID signed the request; SessionToken is its X-Amz-Security-Token.
	AccessKeyID, SessionToken string
	// Body is the request body (JSON or the form).
	Body []byte
	// Form is the parsed form of awsQuery requests.
	Form url.Values
	// Fault is the fault injected into the reply, if any.
	Fault Fault
}

// Server is the fake endpoint. Point the SDK's BaseEndpoint (and the STS
// endpoint) at URL.
type Server struct {
	URL string

	Inspector *Inspector
	Logs      *Logs
	STS       *STS

	srv    *httptest.Server
	mu     sync.Mutex
	keys   map[string]key // access key id → secret and session token
	faults map[string][]Fault
	calls  []Call
}

type key struct{ secret, token string }

// New starts a server on 127.0.0.1; it stops when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{keys: map[string]key{}, faults: map[string][]Fault{}}
	s.Inspector = &Inspector{findings: map[string]*Finding{}}
	s.Logs = &Logs{groups: map[string]*logGroup{}}
	s.STS = &STS{server: s, roles: map[string]string{}}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// AddKey makes the server accept requests signed with this key.
func (s *Server) AddKey(accessKeyID, secret, sessionToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[accessKeyID] = key{secret, sessionToken}
}

// Inject queues faults for the next calls of op, one per call, in order.
func (s *Server) Inject(op string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], faults...)
}

// Calls returns the calls of op received so far (all calls when op is "").
func (s *Server) Calls(op string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if op == "" || c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// protocol is how one API family encodes operations and errors.
type protocol int

const (
	restJSON protocol = iota // Inspector2
	awsJSON                  // CloudWatch Logs
	awsQuery                 // STS
)

// ServeHTTP routes a request by its wire shape, checks its signature, records it
// and answers it (or injects the next queued fault).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	call := Call{Body: body}
	var proto protocol
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		proto = awsJSON
		target := r.Header.Get("X-Amz-Target")
		op, ok := strings.CutPrefix(target, "Logs_20140328.")
		if !ok || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			writeError(w, proto, http.StatusBadRequest, "UnknownOperationException", "unknown target "+target)
			return
		}
		call.Op = op
	case r.URL.Path == "/findings/list" && r.Method == http.MethodPost:
		proto, call.Op = restJSON, "ListFindings"
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		proto = awsQuery
		form, err := url.ParseQuery(string(body))
		if err != nil {
			writeError(w, proto, http.StatusBadRequest, "MalformedQueryString", err.Error())
			return
		}
		call.Form, call.Op = form, form.Get("Action")
	default:
		writeError(w, restJSON, http.StatusNotFound, "UnknownOperationException", r.Method+" "+r.URL.Path)
		return
	}
	sig, err := s.verify(r, body)
	call.Region, call.Service, call.AccessKeyID, call.SessionToken = sig.region, sig.service, sig.accessKeyID, sig.token
	fault := s.record(&call, err == nil)
	if err != nil {
		writeSigError(w, proto, err)
		return
	}
	if fault != 0 && fault != Truncate && fault != EmptyPage {
		writeFault(w, proto, fault)
		return
	}
	rec := httptest.NewRecorder()
	switch call.Op {
	case "ListFindings":
		s.Inspector.listFindings(rec, body, sig.region)
	case "DescribeLogStreams":
		s.Logs.describeLogStreams(rec, body, sig.region)
	case "GetLogEvents":
		s.Logs.getLogEvents(rec, body, sig.region, fault == EmptyPage)
	case "AssumeRole":
		s.STS.assumeRole(rec, call.Form, sig.accessKeyID)
	default:
		writeError(rec, proto, http.StatusBadRequest, "UnknownOperationException", "operation "+call.Op+" is not faked")
	}
	copyReply(w, rec, fault == Truncate)
}

// record logs the call and pops the fault queued for its operation (only for
// correctly signed calls).
func (s *Server) record(c *Call, signed bool) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.faults[c.Op]; signed && len(q) > 0 {
		c.Fault, s.faults[c.Op] = q[0], q[1:]
	}
	s.calls = append(s.calls, *c)
	return c.Fault
}

// copyReply writes a recorded reply; truncated, it declares the full length and
// writes half of the body, so the client sees the connection end early.
func copyReply(w http.ResponseWriter, rec *httptest.ResponseRecorder, truncate bool) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	b := rec.Body.Bytes()
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Amzn-Requestid", "fake-request-id")
	w.WriteHeader(rec.Code)
	if truncate {
		b = b[:len(b)/2]
	}
	_, _ = w.Write(b)
}

// writeSigError answers a request whose signature was refused as each protocol
// does: JSON services with 400 UnrecognizedClientException (unknown key or token)
// or InvalidSignatureException, Inspector2 and STS with 403.
func writeSigError(w http.ResponseWriter, proto protocol, err error) {
	var se *sigError
	unknown := errors.As(err, &se) && se.unknown
	status, code := http.StatusForbidden, "InvalidSignatureException"
	switch {
	case proto == awsQuery && unknown:
		code = "InvalidClientTokenId"
	case proto == awsQuery:
		code = "SignatureDoesNotMatch"
	case unknown:
		code = "UnrecognizedClientException"
	}
	if proto == awsJSON {
		status = http.StatusBadRequest
	}
	writeError(w, proto, status, code, err.Error())
}

// writeFault answers with the error each protocol uses for the fault.
func writeFault(w http.ResponseWriter, proto protocol, f Fault) {
	switch {
	case f == Throttle && proto == restJSON:
		writeError(w, proto, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	case f == Throttle && proto == awsJSON:
		writeError(w, proto, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	case f == Throttle:
		writeError(w, proto, http.StatusBadRequest, "Throttling", "Rate exceeded")
	case f == ServerError && proto == awsJSON:
		writeError(w, proto, http.StatusInternalServerError, "ServiceUnavailableException", "The service cannot complete the request.")
	case f == ServerError && proto == restJSON:
		writeError(w, proto, http.StatusInternalServerError, "InternalServerException", "Internal server error")
	case f == ServerError:
		writeError(w, proto, http.StatusInternalServerError, "InternalFailure", "Internal failure")
	case f == ExpiredToken && proto == awsJSON:
		writeError(w, proto, http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired")
	case f == ExpiredToken && proto == restJSON:
		writeError(w, proto, http.StatusForbidden, "ExpiredTokenException", "The security token included in the request is expired")
	default:
		writeError(w, proto, http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired")
	}
}

// writeError writes an error in the protocol's shape: restJson1 puts the code
// in X-Amzn-ErrorType, awsJson1_1 in the body's __type, awsQuery in an
// ErrorResponse document.
func writeError(w http.ResponseWriter, proto protocol, status int, code, msg string) {
	switch proto {
	case awsQuery:
		var doc struct {
			XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
			Type    string   `xml:"Error>Type"`
			Code    string   `xml:"Error>Code"`
			Message string   `xml:"Error>Message"`
			ReqID   string   `xml:"RequestId"`
		}
		doc.Type, doc.Code, doc.Message, doc.ReqID = "Sender", code, msg, "fake-request-id"
		if status >= 500 {
			doc.Type = "Receiver"
		}
		b, _ := xml.Marshal(doc)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	case awsJSON:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", code)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
	}
}

// writeJSON writes a successful JSON reply.
func writeJSON(w http.ResponseWriter, contentType string, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}
