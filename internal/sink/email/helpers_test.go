package email

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

const (
	testUser     = "alerts@example.com"
	testPassword = "s3cret-Pa55-do-not-log"
)

// received is one message the test server accepted.
type received struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed string
}

// backend is a go-smtp backend with authentication and injected faults.
type backend struct {
	mechs      []string // offered AUTH mechanisms; nil: no AUTH
	msgs       chan received
	mu         sync.Mutex
	dataFaults []error           // returned by successive DATA commands, after reading the message
	rcptReject map[string]error  // per recipient
	dataSeen   [][]byte          // every message body read, accepted or not
	mails      int               // MAIL commands seen
	creds      map[string]string // what clients authenticated with
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, c: c}, nil
}

type session struct {
	b      *backend
	c      *smtp.Conn
	authed string
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return s.b.mechs }

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		s.b.mu.Lock()
		s.b.creds[user] = pass
		s.b.mu.Unlock()
		if user != testUser || pass != testPassword {
			return smtp.ErrAuthFailed
		}
		s.authed = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.b.mu.Lock()
	s.b.mails++
	s.b.mu.Unlock()
	if s.b.mechs != nil && s.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	err := s.b.rcptReject[to]
	s.b.mu.Unlock()
	if err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.dataSeen = append(s.b.dataSeen, data)
	var fault error
	if len(s.b.dataFaults) > 0 {
		fault, s.b.dataFaults = s.b.dataFaults[0], s.b.dataFaults[1:]
	}
	s.b.mu.Unlock()
	if fault != nil {
		return fault
	}
	_, isTLS := s.c.TLSConnectionState()
	s.b.msgs <- received{from: s.from, to: s.to, data: data, tls: isTLS, authed: s.authed}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl does not have.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if resp != nil {
			return nil, false, errors.New("LOGIN takes no initial response here")
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// testServer is a go-smtp server on 127.0.0.1 offering STARTTLS (or speaking
// TLS from the start) with a certificate from a CA written to caFile.
type testServer struct {
	addr   string
	caFile string
	be     *backend
	srv    *smtp.Server
}

type serverOpts struct {
	implicit bool // TLS from the first byte
	noTLS    bool // no STARTTLS offered
	mechs    []string
}

func newTestServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	cert, caFile := testCert(t)
	be := &backend{mechs: o.mechs, msgs: make(chan received, 100), rcptReject: map[string]error{}, creds: map[string]string{}}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 10 << 20
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	if !o.noTLS {
		srv.TLSConfig = tc
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicit {
		ln = tls.NewListener(ln, tc)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return &testServer{addr: ln.Addr().String(), caFile: caFile, be: be, srv: srv}
}

// next returns the next accepted message, failing after a generous wait.
func (s *testServer) next(t *testing.T) received {
	t.Helper()
	select {
	case m := <-s.be.msgs:
		return m
	case <-time.After(15 * time.Second):
		t.Fatal("no message arrived")
		return received{}
	}
}

func (s *testServer) expectNone(t *testing.T) {
	t.Helper()
	select {
	case m := <-s.be.msgs:
		t.Fatalf("unexpected message:\n%s", m.data)
	default:
	}
}

// testCert returns a server certificate for 127.0.0.1 and localhost and the
// path of its CA's PEM file.
func testCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, leafKey := key(), key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: leafKey}, caFile
}

// testConfig is a configuration for srv with STARTTLS and authentication.
func testConfig(t *testing.T, srv *testServer) Config {
	host, port, _ := net.SplitHostPort(srv.addr)
	c := DefaultConfig()
	c.Host = host
	var err error
	if c.Port, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	c.CAFile = config.Path(srv.caFile)
	c.Username, c.Password = testUser, testPassword
	c.From = "skywatch <alerts@example.com>"
	c.To = []string{"soc@example.com"}
	c.BatchWindow = config.Duration(time.Hour)
	c.Timeout = config.Duration(10 * time.Second)
	dir := t.TempDir()
	c.SpoolPath = config.Path(filepath.Join(dir, "spool", "mail.jsonl"))
	c.DeadLetterPath = config.Path(filepath.Join(dir, "dead-letter", "mail.jsonl"))
	return c
}

// logBuffer collects what the sink logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newSink starts a sink with fast retries, logging into the returned buffer.
func newSink(t *testing.T, cfg Config) (*Sink, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	s, err := New(cfg, Options{Name: "mail", Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Retry: retry.Policy{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

// testAlert returns an encoded CloudTrail alert.
func testAlert(t testing.TB, id string, level int, desc string) sink.Record {
	t.Helper()
	a := alert.Alert{
		Timestamp: time.Date(2024, 5, 1, 12, 30, 45, 123e6, time.UTC),
		Rule: alert.Rule{Level: level, ID: "3001" + id, Description: desc, Groups: []string{"aws", "cloudtrail"},
			Mitre: &alert.Mitre{ID: []string{"T1562.008"}, Tactic: []string{"Defense Evasion"}}},
		Agent: alert.Agent{ID: "000", Name: "manager"}, Manager: "manager", ID: id,
		Data:     []byte(`{"aws":{"recipientAccountId":"123456789012","awsRegion":"eu-west-1","userIdentity":{"arn":"arn:aws:iam::123456789012:user/<mallory>"},"sourceIPAddress":"203.0.113.9"}}`),
		Location: "aws-cloudtrail",
	}
	return sink.Record{JSON: a.AppendJSON(nil), ID: id, Level: level, RuleID: a.Rule.ID, Groups: a.Rule.Groups}
}

// parsed is a digest read back with net/mail and mime/multipart.
type parsed struct {
	header  mail.Header
	subject string
	text    string
	html    string
}

func parseDigest(t *testing.T, data []byte) parsed {
	t.Helper()
	for i, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes long", i, len(line))
		}
	}
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("bare LF in message")
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{header: m.Header}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for i := 0; ; i++ {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			if i != 2 {
				t.Errorf("%d parts, want 2", i)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if cte := part.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Errorf("part %d Content-Transfer-Encoding %q", i, cte)
		}
		raw, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(raw), "\r\n") {
			if len(line) > 76 {
				t.Errorf("quoted-printable line of %d characters", len(line))
			}
		}
		body, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		switch ct := part.Header.Get("Content-Type"); ct {
		case "text/plain; charset=utf-8":
			p.text = string(body)
		case "text/html; charset=utf-8":
			p.html = string(body)
		default:
			t.Errorf("part %d Content-Type %q", i, ct)
		}
	}
	return p
}
