package syslog

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// testAlert returns an encoded CloudTrail alert with the given description.
func testAlert(t testing.TB, id, ruleID string, level int, desc, srcIP string) sink.Record {
	t.Helper()
	a := alert.Alert{
		Timestamp: time.Date(2024, 5, 1, 12, 30, 45, 123e6, time.FixedZone("", 2*3600)),
		Rule: alert.Rule{
			Level: level, ID: ruleID, Description: desc, Groups: []string{"aws", "cloudtrail"},
			Mitre: &alert.Mitre{ID: []string{"T1562.008"}, Tactic: []string{"Defense Evasion"}, Technique: []string{"Disable Cloud Logs"}},
		},
		Agent:    alert.Agent{ID: "000", Name: "manager"},
		Manager:  "manager",
		ID:       id,
		Decoder:  alert.Decoder{Name: "json"},
		Data:     []byte(`{"aws":{"eventName":"StopLogging","recipientAccountId":"123456789012","awsRegion":"us-east-1","userIdentity":{"arn":"arn:aws:iam::123456789012:user/mallory"},"sourceIPAddress":"` + srcIP + `"}}`),
		Location: "aws-cloudtrail",
	}
	return sink.Record{JSON: a.AppendJSON(nil), ID: id, Level: level, RuleID: ruleID, Groups: a.Rule.Groups}
}

// msg5424 is a message as the test's own RFC 5424 parser reads it.
type msg5424 struct {
	Pri, Version                                int
	Timestamp, Hostname, AppName, ProcID, MsgID string
	SD                                          []sdElement
	Msg                                         string
}

type sdElement struct {
	ID     string
	Params [][2]string
}

// parse5424 parses an RFC 5424 message (§6), independently of the sink's code.
func parse5424(s string) (msg5424, error) {
	var m msg5424
	if !strings.HasPrefix(s, "<") {
		return m, errors.New("no PRI")
	}
	end := strings.IndexByte(s, '>')
	if end < 2 || end > 4 {
		return m, errors.New("bad PRI")
	}
	pri, err := strconv.Atoi(s[1:end])
	if err != nil || pri < 0 || pri > 191 {
		return m, fmt.Errorf("bad PRI %q", s[1:end])
	}
	m.Pri = pri
	s = s[end+1:]
	var tok [6]string
	for i := range tok {
		j := strings.IndexByte(s, ' ')
		if j <= 0 {
			return m, fmt.Errorf("header field %d missing", i)
		}
		tok[i], s = s[:j], s[j+1:]
		for k := 0; k < len(tok[i]); k++ {
			if tok[i][k] < 33 || tok[i][k] > 126 {
				return m, fmt.Errorf("header field %d has byte %#x", i, tok[i][k])
			}
		}
	}
	if m.Version, err = strconv.Atoi(tok[0]); err != nil {
		return m, err
	}
	m.Timestamp, m.Hostname, m.AppName, m.ProcID, m.MsgID = tok[1], tok[2], tok[3], tok[4], tok[5]
	limits := []int{255, 48, 128, 32}
	for i, f := range []string{m.Hostname, m.AppName, m.ProcID, m.MsgID} {
		if len(f) > limits[i] {
			return m, fmt.Errorf("header field %q longer than %d", f, limits[i])
		}
	}
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	} else {
		for strings.HasPrefix(s, "[") {
			var e sdElement
			if e, s, err = parseSDElement(s[1:]); err != nil {
				return m, err
			}
			m.SD = append(m.SD, e)
		}
		if m.SD == nil {
			return m, errors.New("no STRUCTURED-DATA")
		}
	}
	if s != "" {
		if s[0] != ' ' {
			return m, fmt.Errorf("no space before MSG: %q", s)
		}
		m.Msg = s[1:]
	}
	return m, nil
}

// parseSDElement parses one element after its "[" and returns the rest after "]".
func parseSDElement(s string) (sdElement, string, error) {
	var e sdElement
	i := strings.IndexAny(s, " ]")
	if i <= 0 {
		return e, "", errors.New("bad SD-ID")
	}
	e.ID, s = s[:i], s[i:]
	for {
		if strings.HasPrefix(s, "]") {
			return e, s[1:], nil
		}
		if !strings.HasPrefix(s, " ") {
			return e, "", fmt.Errorf("bad SD-PARAM at %q", s)
		}
		eq := strings.Index(s, `="`)
		if eq < 2 {
			return e, "", fmt.Errorf("bad PARAM-NAME at %q", s)
		}
		name := s[1:eq]
		s = s[eq+2:]
		var v strings.Builder
		for {
			if s == "" {
				return e, "", errors.New("unterminated PARAM-VALUE")
			}
			c := s[0]
			s = s[1:]
			if c == '"' {
				break
			}
			if c == ']' {
				return e, "", errors.New("unescaped ] in PARAM-VALUE")
			}
			if c == '\\' && s != "" && (s[0] == '"' || s[0] == '\\' || s[0] == ']') {
				c, s = s[0], s[1:]
			}
			v.WriteByte(c)
		}
		e.Params = append(e.Params, [2]string{name, v.String()})
	}
}

// param returns the value of name in e.
func (e sdElement) param(name string) (string, bool) {
	for _, p := range e.Params {
		if p[0] == name {
			return p[1], true
		}
	}
	return "", false
}

// parseCEF parses "CEF:..." into its 7 header fields and its extensions.
func parseCEF(s string) ([]string, map[string]string, error) {
	rest, ok := strings.CutPrefix(s, "CEF:")
	if !ok {
		return nil, nil, errors.New("no CEF: prefix")
	}
	var hdr []string
	var f strings.Builder
	i := 0
	for len(hdr) < 7 {
		if i >= len(rest) {
			return nil, nil, fmt.Errorf("only %d header fields", len(hdr))
		}
		c := rest[i]
		switch {
		case c == '\\':
			if i+1 >= len(rest) || (rest[i+1] != '\\' && rest[i+1] != '|') {
				return nil, nil, fmt.Errorf("bad header escape at %d", i)
			}
			f.WriteByte(rest[i+1])
			i += 2
		case c == '|':
			hdr = append(hdr, f.String())
			f.Reset()
			i++
		case c == '\n' || c == '\r':
			return nil, nil, errors.New("line break in header")
		default:
			f.WriteByte(c)
			i++
		}
	}
	ext := map[string]string{}
	rest = rest[i:]
	for rest != "" {
		k := keyAt(rest)
		if k == 0 {
			return nil, nil, fmt.Errorf("no extension key at %q", rest)
		}
		key := rest[:k]
		rest = rest[k+1:]
		var v strings.Builder
		for rest != "" {
			if rest[0] == ' ' && keyAt(rest[1:]) > 0 {
				rest = rest[1:]
				break
			}
			c := rest[0]
			switch c {
			case '\\':
				if len(rest) < 2 {
					return nil, nil, errors.New("dangling backslash")
				}
				switch rest[1] {
				case '\\', '=':
					v.WriteByte(rest[1])
				case 'n':
					v.WriteByte('\n')
				case 'r':
					v.WriteByte('\r')
				default:
					return nil, nil, fmt.Errorf("bad extension escape \\%c", rest[1])
				}
				rest = rest[2:]
				continue
			case '=':
				return nil, nil, fmt.Errorf("unescaped = in value of %s", key)
			case '\n', '\r':
				return nil, nil, fmt.Errorf("raw line break in value of %s", key)
			}
			v.WriteByte(c)
			rest = rest[1:]
		}
		if _, dup := ext[key]; dup {
			return nil, nil, fmt.Errorf("key %s twice", key)
		}
		ext[key] = v.String()
	}
	return hdr, ext, nil
}

// keyAt returns the length of the extension key at the start of s when one is
// followed by "=", else 0.
func keyAt(s string) int {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
		i++
	}
	if i > 0 && i < len(s) && s[i] == '=' {
		return i
	}
	return 0
}

// readFrame reads one RFC 5425 octet-counted frame.
func readFrame(r *bufio.Reader) (string, error) {
	n, err := r.ReadString(' ')
	if err != nil {
		return "", err
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
	if err != nil || size <= 0 || n[0] == '0' {
		return "", fmt.Errorf("bad MSG-LEN %q", n)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

// readLine reads one LF-terminated frame.
func readLine(r *bufio.Reader) (string, error) {
	l, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(l, "\n"), nil
}

// streamServer is a syslog receiver over TCP or TLS on 127.0.0.1 that reports
// each frame it reads. It can drop its connections and be stopped and started
// again on the same port.
type streamServer struct {
	t       *testing.T
	addr    string
	tlsConf *tls.Config
	read    func(*bufio.Reader) (string, error)
	frames  chan string
	peers   chan *tls.ConnectionState

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newStreamServer(t *testing.T, tlsConf *tls.Config, read func(*bufio.Reader) (string, error)) *streamServer {
	s := &streamServer{t: t, tlsConf: tlsConf, read: read, frames: make(chan string, 1000),
		peers: make(chan *tls.ConnectionState, 100), conns: map[net.Conn]bool{}}
	s.start("127.0.0.1:0")
	t.Cleanup(s.stop)
	return s
}

func (s *streamServer) start(addr string) {
	var ln net.Listener
	var err error
	for range 50 { // the port of a just-closed listener can take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	if s.tlsConf != nil {
		ln = tls.NewListener(ln, s.tlsConf)
	}
	s.mu.Lock()
	s.ln, s.addr = ln, ln.Addr().String()
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go s.serve(c)
		}
	}()
}

func (s *streamServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			return
		}
		st := tc.ConnectionState()
		s.peers <- &st
	}
	r := bufio.NewReader(c)
	for {
		f, err := s.read(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.frames <- "ERROR: " + err.Error()
			}
			return
		}
		s.frames <- f
	}
}

// dropConns closes the server's side of every open connection.
func (s *streamServer) dropConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
		delete(s.conns, c)
	}
}

// stop closes the listener and every connection and waits for the goroutines.
func (s *streamServer) stop() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	s.mu.Unlock()
	s.dropConns()
	s.wg.Wait()
}

// next returns the next frame, failing the test after a generous wait.
func (s *streamServer) next(t *testing.T) string {
	t.Helper()
	select {
	case f := <-s.frames:
		if strings.HasPrefix(f, "ERROR: ") {
			t.Fatalf("server read: %s", f)
		}
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("no frame arrived")
		return ""
	}
}

// expectNone checks that no frame is waiting.
func (s *streamServer) expectNone(t *testing.T) {
	t.Helper()
	select {
	case f := <-s.frames:
		t.Fatalf("unexpected frame %q", f)
	default:
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1/localhost and a
// client certificate, written as PEM files.
type testPKI struct {
	dir                       string
	caFile, certFile, keyFile string // client side
	pool                      *x509.CertPool
	server                    tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := mustKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "skywatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{dir: dir, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)

	issue := func(serial int64, leaf *x509.Certificate) ([]byte, *ecdsa.PrivateKey) {
		k := mustKey(t)
		leaf.SerialNumber = big.NewInt(serial)
		leaf.NotBefore, leaf.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		leaf.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	srvDER, srvKey := issue(2, &x509.Certificate{Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, &x509.Certificate{Subject: pkix.Name{CommonName: "skywatch-client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	p.certFile = writePEM(t, dir, "client.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	p.keyFile = writePEM(t, dir, "client-key.pem", "EC PRIVATE KEY", keyDER)
	return p
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
