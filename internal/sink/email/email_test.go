package email

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

func write(t *testing.T, s *Sink, recs ...sink.Record) {
	t.Helper()
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDigestOverSTARTTLS(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	cfg := testConfig(t, srv)
	cfg.BatchMax = 3
	cfg.To = []string{"soc@example.com", "Ops Team <ops@example.com>"}
	s, logs := newSink(t, cfg)
	write(t, s,
		testAlert(t, "a1", 5, "Console login without MFA"),
		testAlert(t, "a2", 12, "AWS CloudTrail logging disabled"),
		testAlert(t, "a3", 7, "Security group opened to <0.0.0.0/0> & \"world\""),
	)
	m := srv.next(t)
	if !m.tls || m.authed != testUser {
		t.Errorf("tls %v, authenticated as %q", m.tls, m.authed)
	}
	if m.from != "alerts@example.com" || strings.Join(m.to, ",") != "soc@example.com,ops@example.com" {
		t.Errorf("envelope from %q to %q", m.from, m.to)
	}
	p := parseDigest(t, m.data)
	if want := "[skywatch] 3 alerts, highest level 12: AWS CloudTrail logging disabled"; p.subject != want {
		t.Errorf("Subject %q\nwant    %q", p.subject, want)
	}
	if from, err := p.header.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "alerts@example.com" || from[0].Name != "skywatch" {
		t.Errorf("From %v %v", from, err)
	}
	if to, err := p.header.AddressList("To"); err != nil || len(to) != 2 || to[1].Name != "Ops Team" {
		t.Errorf("To %v %v", to, err)
	}
	if d, err := p.header.Date(); err != nil || time.Since(d) > time.Hour || time.Since(d) < -time.Hour {
		t.Errorf("Date %q: %v", p.header.Get("Date"), err)
	}
	if !regexp.MustCompile(`^<[0-9a-f]{32}@example\.com>$`).MatchString(p.header.Get("Message-ID")) {
		t.Errorf("Message-ID %q", p.header.Get("Message-ID"))
	}
	if p.header.Get("MIME-Version") != "1.0" || p.header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("headers %v", p.header)
	}
	// Highest level first, with the summary's facts.
	i12, i7, i5 := strings.Index(p.text, "[level 12]"), strings.Index(p.text, "[level 7]"), strings.Index(p.text, "[level 5]")
	if i12 < 0 || !(i12 < i7 && i7 < i5) {
		t.Errorf("text part order wrong:\n%s", p.text)
	}
	for _, want := range []string{"AWS CloudTrail logging disabled", "123456789012", "eu-west-1", "arn:aws:iam::123456789012:user/<mallory>",
		"203.0.113.9", "T1562.008 (Defense Evasion)", "alert id   a2", "2024-05-01 12:30:45 UTC"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("text part lacks %q:\n%s", want, p.text)
		}
	}
	for _, want := range []string{"Security group opened to &lt;0.0.0.0/0&gt; &amp; &#34;world&#34;", "user/&lt;mallory&gt;"} {
		if !strings.Contains(p.html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, p.html)
		}
	}
	if strings.Contains(p.html, "<mallory>") {
		t.Error("HTML part carries unescaped alert text")
	}
	waitFor(t, func() bool { return s.Stats().Messages == 1 })
	if st := s.Stats(); st.Accepted != 3 || st.Sent != 3 || st.Messages != 1 || st.Buffered != 0 || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("stats = %+v", st)
	}
	if strings.Contains(logs.String(), testPassword) {
		t.Error("the password is in the log")
	}
}

func TestHeaderInjectionAndEncodedWords(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	cfg := testConfig(t, srv)
	cfg.BatchMax = 1
	s, _ := newSink(t, cfg)
	tests := []struct {
		desc, want string
	}{
		{"Evil\r\nBcc: victim@example.net\r\n\r\nbody text", "[skywatch] 1 alert, level 10: Evil  Bcc: victim@example.net    body text"},
		{"Zugriff verweigert für Müller\nX-Injected: yes", "[skywatch] 1 alert, level 10: Zugriff verweigert für Müller X-Injected: yes"},
		{strings.Repeat("Überwachung deaktiviert ", 20), ""},
	}
	for i, tt := range tests {
		write(t, s, testAlert(t, fmt.Sprint("inj", i), 10, tt.desc))
		m := srv.next(t)
		p := parseDigest(t, m.data)
		for _, h := range []string{"Bcc", "X-Injected"} {
			if v, ok := p.header[h]; ok {
				t.Errorf("injected header %s: %q", h, v)
			}
		}
		head, _, _ := strings.Cut(string(m.data), "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if strings.HasPrefix(line, "Bcc:") || strings.HasPrefix(line, "X-Injected") || len(line) > 78 {
				t.Errorf("header line %q", line)
			}
		}
		if tt.want != "" && p.subject != tt.want {
			t.Errorf("Subject %q\nwant    %q", p.subject, tt.want)
		}
		if i > 0 && !strings.Contains(head, "=?utf-8?q?") {
			t.Errorf("non-ASCII subject not encoded:\n%s", head)
		}
		if i == 2 && (!strings.HasSuffix(p.subject, "…") || !strings.HasPrefix(p.subject, "[skywatch] 1 alert, level 10: Überwachung")) {
			t.Errorf("long subject %q", p.subject)
		}
	}
}

func TestBatchingAndCloseSendsTheRest(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	cfg := testConfig(t, srv)
	cfg.BatchMax = 2
	s, _ := newSink(t, cfg)
	var recs []sink.Record
	for i := range 5 {
		recs = append(recs, testAlert(t, fmt.Sprint("b", i), 3+i, "alert"))
	}
	recs = append(recs, recs[0]) // the same alert again is not spooled twice
	write(t, s, recs...)
	for _, want := range []string{"2 alerts, highest level 4", "2 alerts, highest level 6"} {
		if p := parseDigest(t, srv.next(t).data); !strings.Contains(p.subject, want) {
			t.Errorf("subject %q, want %q", p.subject, want)
		}
	}
	waitFor(t, func() bool { return s.Stats().Messages == 2 })
	if st := s.Stats(); st.Buffered != 1 || st.Sent != 4 || st.Accepted != 6 {
		t.Errorf("stats = %+v", st)
	}
	srv.expectNone(t) // the fifth waits for its window
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if p := parseDigest(t, srv.next(t).data); !strings.Contains(p.subject, "1 alert, level 7") {
		t.Errorf("subject %q", p.subject)
	}
	if st := s.Stats(); st.Buffered != 0 || st.Sent != 5 || st.Messages != 3 {
		t.Errorf("stats = %+v", st)
	}
	if b, err := os.ReadFile(string(cfg.SpoolPath)); err != nil || len(b) != 0 {
		t.Errorf("spool after everything was sent: %q %v", b, err)
	}
}

func TestBatchWindow(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	cfg := testConfig(t, srv)
	cfg.BatchWindow = config.Duration(300 * time.Millisecond)
	s, _ := newSink(t, cfg)
	write(t, s, testAlert(t, "w1", 3, "first"), testAlert(t, "w2", 4, "second"))
	if p := parseDigest(t, srv.next(t).data); !strings.Contains(p.subject, "2 alerts, highest level 4: second") {
		t.Errorf("subject %q", p.subject)
	}
}

func TestImmediateLevel(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	cfg := testConfig(t, srv)
	cfg.ImmediateLevel = 12
	s, _ := newSink(t, cfg)
	write(t, s, testAlert(t, "low", 3, "low"))
	if st := s.Stats(); st.Buffered != 1 || st.Messages != 0 {
		t.Errorf("stats = %+v", st)
	}
	write(t, s, testAlert(t, "high", 13, "root login"))
	p := parseDigest(t, srv.next(t).data)
	if p.subject != "[skywatch] 2 alerts, highest level 13: root login" {
		t.Errorf("subject %q", p.subject)
	}
}

func TestTemporaryFailureIsRetried(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	tempErr := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	srv.be.dataFaults = []error{tempErr, tempErr}
	cfg := testConfig(t, srv)
	cfg.BatchMax = 1
	s, logs := newSink(t, cfg)
	write(t, s, testAlert(t, "t1", 9, "retry me"))
	m := srv.next(t)
	waitFor(t, func() bool { return s.Stats().Messages == 1 })
	if st := s.Stats(); st.Retries != 2 || st.Sent != 1 || st.Failed != 0 || st.Buffered != 0 {
		t.Errorf("stats = %+v", st)
	}
	srv.be.mu.Lock()
	seen := srv.be.dataSeen
	srv.be.mu.Unlock()
	id := parseDigest(t, m.data).header.Get("Message-ID")
	for i, d := range seen {
		if got := parseDigest(t, d).header.Get("Message-ID"); got != id {
			t.Errorf("attempt %d had Message-ID %s, the delivered one %s", i, got, id)
		}
	}
	if len(seen) != 3 || !strings.Contains(logs.String(), "451") {
		t.Errorf("%d attempts; logs:\n%s", len(seen), logs)
	}
	srv.expectNone(t)
}

func TestPermanentFailureGoesToDeadLetter(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	srv.be.dataFaults = []error{&smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}}
	cfg := testConfig(t, srv)
	cfg.BatchMax = 2
	s, _ := newSink(t, cfg)
	recs := []sink.Record{testAlert(t, "d1", 9, "one"), testAlert(t, "d2", 10, "two")}
	write(t, s, recs...)
	waitFor(t, func() bool { return s.Stats().Failed == 2 })

	f, err := os.Open(string(cfg.DeadLetterPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var n int
	for sc.Scan() {
		var l struct {
			Time   time.Time       `json:"time"`
			Output string          `json:"output"`
			Reason string          `json:"reason"`
			ID     string          `json:"id"`
			Alert  json.RawMessage `json:"alert"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.ID != recs[n].ID || string(l.Alert) != string(recs[n].JSON) || l.Output != "mail" || l.Time.IsZero() ||
			!strings.Contains(l.Reason, "554") || !strings.Contains(l.Reason, "content rejected") {
			t.Errorf("dead letter %d: %+v", n, l)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d dead letters, want 2", n)
	}
	if fi, err := os.Stat(string(cfg.DeadLetterPath)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dead-letter file mode %v %v", fi.Mode(), err)
	}
	// The sink goes on with the next alerts.
	write(t, s, testAlert(t, "d3", 3, "three"), testAlert(t, "d4", 3, "four"))
	srv.next(t)
	waitFor(t, func() bool { return s.Stats().Messages == 1 })
	if st := s.Stats(); st.Failed != 2 || st.Sent != 2 || st.Buffered != 0 || st.Retries != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestRecipientsRefused(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	srv.be.rcptReject["gone@example.com"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	cfg := testConfig(t, srv)
	cfg.BatchMax = 1
	cfg.To = []string{"gone@example.com", "soc@example.com"}
	s, logs := newSink(t, cfg)
	write(t, s, testAlert(t, "r1", 9, "one"))
	if m := srv.next(t); strings.Join(m.to, ",") != "soc@example.com" {
		t.Errorf("delivered to %v", m.to)
	}
	waitFor(t, func() bool { return s.Stats().Messages == 1 })
	if st := s.Stats(); st.RefusedRecipients != 1 || st.Failed != 0 {
		t.Errorf("stats = %+v", st)
	}
	if !strings.Contains(logs.String(), "gone@example.com") {
		t.Errorf("refused recipient not logged:\n%s", logs)
	}

	// Every recipient refused: the digest is dead-lettered.
	srv.be.mu.Lock()
	srv.be.rcptReject["soc@example.com"] = srv.be.rcptReject["gone@example.com"]
	srv.be.mu.Unlock()
	write(t, s, testAlert(t, "r2", 9, "two"))
	waitFor(t, func() bool { return s.Stats().Failed == 1 })
	srv.expectNone(t)
}

func TestAuthLogin(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Login}})
	cfg := testConfig(t, srv)
	cfg.BatchMax = 1
	s, _ := newSink(t, cfg)
	write(t, s, testAlert(t, "l1", 9, "login"))
	if m := srv.next(t); m.authed != testUser {
		t.Errorf("authenticated as %q", m.authed)
	}
}

func TestImplicitTLS(t *testing.T) {
	srv := newTestServer(t, serverOpts{implicit: true, noTLS: true, mechs: []string{sasl.Plain}})
	cfg := testConfig(t, srv)
	cfg.TLS, cfg.BatchMax = TLSImplicit, 1
	s, _ := newSink(t, cfg)
	write(t, s, testAlert(t, "i1", 9, "implicit"))
	if m := srv.next(t); m.authed != testUser {
		t.Errorf("authenticated as %q", m.authed)
	}
}

func TestWrongPasswordIsRetriedAndNeverShown(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	cfg := testConfig(t, srv)
	cfg.BatchMax = 1
	const wrong = "wr0ng-Passw0rd-value"
	cfg.Password = wrong
	s, logs := newSink(t, cfg)
	write(t, s, testAlert(t, "p1", 9, "x"))
	waitFor(t, func() bool { return s.Stats().Retries >= 2 })
	if st := s.Stats(); st.Sent != 0 || st.Failed != 0 || st.Buffered != 1 {
		t.Errorf("stats = %+v", st)
	}
	srv.be.mu.Lock()
	got := srv.be.creds[testUser]
	srv.be.mu.Unlock()
	if got != wrong {
		t.Fatalf("server saw password %q", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "535") {
		t.Errorf("authentication failure not logged:\n%s", out)
	}
	if strings.Contains(out, wrong) {
		t.Errorf("the password is in the log:\n%s", out)
	}
	// Nor in the error of a conversation, nor in the configuration printed.
	_, err := s.mailer.send(context.Background(), &digest{from: "a@example.com", to: []string{"b@example.com"}, data: []byte("x")})
	if err == nil || strings.Contains(err.Error(), wrong) {
		t.Errorf("send error %v", err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if strings.Contains(fmt.Sprintf(f, cfg), wrong) {
			t.Errorf("%s of the configuration shows the password", f)
		}
	}
	if b, _ := os.ReadFile(string(cfg.SpoolPath)); strings.Contains(string(b), wrong) {
		t.Error("the password is in the spool")
	}
}

func TestStartTLSRequired(t *testing.T) {
	srv := newTestServer(t, serverOpts{noTLS: true, mechs: []string{sasl.Plain}})
	cfg := testConfig(t, srv)
	cfg.BatchMax = 1
	s, logs := newSink(t, cfg)
	write(t, s, testAlert(t, "s1", 9, "x"))
	waitFor(t, func() bool { return s.Stats().Retries >= 1 })
	s.Close()
	srv.be.mu.Lock()
	mails := srv.be.mails
	srv.be.mu.Unlock()
	if mails != 0 {
		t.Errorf("%d MAIL commands sent without TLS", mails)
	}
	if !strings.Contains(logs.String(), "does not offer STARTTLS") {
		t.Errorf("logs:\n%s", logs)
	}
	srv.expectNone(t)
}

func TestClearTextToLoopback(t *testing.T) {
	srv := newTestServer(t, serverOpts{noTLS: true})
	cfg := testConfig(t, srv)
	cfg.TLS, cfg.CAFile, cfg.Username, cfg.Password, cfg.BatchMax = TLSNone, "", "", "", 1
	s, _ := newSink(t, cfg)
	write(t, s, testAlert(t, "n1", 9, "relay"))
	if m := srv.next(t); m.tls || m.authed != "" {
		t.Errorf("got %+v", m)
	}
}

func TestSpoolSurvivesRestart(t *testing.T) {
	// The server is down: alerts wait in the spool, durable after Flush.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	cfg := testConfig(t, srv)
	good := cfg
	_, port, _ := net.SplitHostPort(deadAddr)
	fmt.Sscan(port, &cfg.Port)
	cfg.BatchMax, cfg.MaxPending = 2, 3
	s, _ := newSink(t, cfg)
	recs := []sink.Record{testAlert(t, "s1", 5, "one"), testAlert(t, "s2", 6, "two"), testAlert(t, "s3", 7, "three")}
	write(t, s, recs...)
	spooled, err := os.ReadFile(string(cfg.SpoolPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !strings.Contains(string(spooled), string(r.JSON)) {
			t.Errorf("alert %s not in the spool after Flush", r.ID)
		}
	}
	if err := s.Write(context.Background(), []sink.Record{testAlert(t, "s4", 3, "four")}); !errors.Is(err, ErrSpoolFull) {
		t.Errorf("Write beyond max_pending = %v", err)
	}
	waitFor(t, func() bool { return s.Stats().Retries >= 1 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash mid-append leaves a torn line; it was never flushed, so never acknowledged.
	f, err := os.OpenFile(string(cfg.SpoolPath), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":"torn","level":3,"alert":{"ti`)
	f.Close()

	// Restart with the server reachable: the spooled alerts go out.
	good.BatchMax = 10
	good.BatchWindow = config.Duration(10 * time.Millisecond)
	s2, _ := newSink(t, good)
	p := parseDigest(t, srv.next(t).data)
	if p.subject != "[skywatch] 3 alerts, highest level 7: three" {
		t.Errorf("subject %q", p.subject)
	}
	if strings.Contains(p.text, "torn") {
		t.Error("the torn line was sent")
	}
	waitFor(t, func() bool { return s2.Stats().Messages == 1 })
	if st := s2.Stats(); st.Sent != 3 || st.Buffered != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestWriteRejectsBadRecordsAndClosed(t *testing.T) {
	srv := newTestServer(t, serverOpts{mechs: []string{sasl.Plain}})
	s, _ := newSink(t, testConfig(t, srv))
	bad := testAlert(t, "x", 3, "x")
	bad.JSON = []byte("{\"a\":\n1}")
	if err := s.Write(context.Background(), []sink.Record{testAlert(t, "ok", 3, "x"), bad}); !errors.Is(err, ErrBadRecord) {
		t.Errorf("Write = %v", err)
	}
	if st := s.Stats(); st.Accepted != 0 {
		t.Errorf("a batch with a bad record was partly taken: %+v", st)
	}
	s.Close()
	if err := s.Write(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := s.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
