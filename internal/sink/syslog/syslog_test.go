package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

func newSink(t *testing.T, cfg Config) *Sink {
	t.Helper()
	s, err := New(cfg, Options{Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testConfig(network, addr string) Config {
	c := DefaultConfig()
	c.Network, c.Address = network, addr
	c.Hostname, c.ProcID = "sensor-1", "4242"
	return c
}

func TestUDPRFC5424(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newSink(t, testConfig(UDP, pc.LocalAddr().String()))

	recs := []sink.Record{
		testAlert(t, "a1", "300110", 12, "CloudTrail logging disabled", "203.0.113.7"),
		testAlert(t, "a2\"]\\", "300111", 3, "plain", "203.0.113.8"),
	}
	recs[1].Groups = []string{`we"ird]`, `back\slash`}
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	for i, r := range recs {
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		m, err := parse5424(string(buf[:n]))
		if err != nil {
			t.Fatalf("datagram %d %q: %v", i, buf[:n], err)
		}
		if want := 16*8 + Severity(r.Level); m.Pri != want {
			t.Errorf("PRI = %d, want %d (local0, level %d)", m.Pri, want, r.Level)
		}
		if m.Version != 1 || m.Hostname != "sensor-1" || m.AppName != "skywatch" || m.ProcID != "4242" || m.MsgID != r.RuleID {
			t.Errorf("header = %+v", m)
		}
		if m.Timestamp != "2024-05-01T12:30:45.123+02:00" {
			t.Errorf("TIMESTAMP = %q, want the alert's", m.Timestamp)
		}
		if m.Msg != string(r.JSON) {
			t.Errorf("MSG = %q, want the alert JSON", m.Msg)
		}
		if len(m.SD) != 1 || m.SD[0].ID != "skywatch@32473" {
			t.Fatalf("SD = %+v", m.SD)
		}
		for k, want := range map[string]string{"id": r.ID, "rule": r.RuleID, "level": strconv.Itoa(r.Level), "groups": strings.Join(r.Groups, ",")} {
			if got, _ := m.SD[0].param(k); got != want {
				t.Errorf("SD %s = %q, want %q", k, got, want)
			}
		}
	}
	if st := s.Stats(); st.Accepted != 2 || st.Sent != 2 || st.Truncated != 0 || st.Dropped != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestUDPTruncates(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	cfg := testConfig(UDP, pc.LocalAddr().String())
	cfg.Format, cfg.MaxMessageSize = FormatCEF, 480
	s := newSink(t, cfg)
	r := testAlert(t, "big", "300110", 10, strings.Repeat(`é|\=`, 300), "203.0.113.7")
	if err := s.Write(context.Background(), []sink.Record{r}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := buf[:n]
	if n > 480 || n < 470 {
		t.Errorf("datagram of %d bytes, want at most 480 and close to it", n)
	}
	if !utf8.Valid(got) {
		t.Error("truncation split a UTF-8 sequence")
	}
	if tail := strings.TrimRight(string(got), `\`); (len(got)-len(tail))%2 != 0 {
		t.Errorf("truncated message ends in a dangling escape: %q", got[n-10:])
	}
	if st := s.Stats(); st.Truncated != 1 || st.Sent != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestTCPCEFOctetCounting(t *testing.T) {
	srv := newStreamServer(t, nil, readFrame)
	cfg := testConfig(TCP, srv.addr)
	cfg.Format, cfg.Facility = FormatCEF, "authpriv"
	s := newSink(t, cfg)
	desc := "Trail a|b \\ c=d\nnext line"
	r := testAlert(t, "id-1", "300110", 12, desc, "203.0.113.7")
	v6 := testAlert(t, "id-2", "300111", 16, "v6", "2001:db8::5")
	if err := s.Write(context.Background(), []sink.Record{r, v6}); err != nil {
		t.Fatal(err)
	}
	srv.expectNone(t) // tcp waits for Flush
	if st := s.Stats(); st.Buffered != 2 || st.Sent != 0 {
		t.Errorf("before Flush: stats = %+v", st)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := parse5424(srv.next(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Pri != 10*8+2 || m.SD != nil {
		t.Errorf("PRI %d SD %+v, want authpriv.crit and no SD", m.Pri, m.SD)
	}
	hdr, ext, err := parseCEF(m.Msg)
	if err != nil {
		t.Fatalf("%q: %v", m.Msg, err)
	}
	wantHdr := []string{"0", "skywatch", "skywatch", "1.2.3", "300110", "Trail a|b \\ c=d next line", "8"}
	if strings.Join(hdr, "\x00") != strings.Join(wantHdr, "\x00") {
		t.Errorf("header = %q\nwant     %q", hdr, wantHdr)
	}
	want := map[string]string{
		"rt":  strconv.FormatInt(time.Date(2024, 5, 1, 10, 30, 45, 123e6, time.UTC).UnixMilli(), 10),
		"src": "203.0.113.7", "suser": "arn:aws:iam::123456789012:user/mallory",
		"cs1Label": "account", "cs1": "123456789012", "cs2Label": "provider", "cs2": "aws",
		"cs3Label": "technique", "cs3": "T1562.008", "cs4Label": "region", "cs4": "us-east-1",
		"cs5Label": "location", "cs5": "aws-cloudtrail", "cs6Label": "tactic", "cs6": "Defense Evasion",
		"cat": "aws,cloudtrail", "externalId": "id-1", "msg": desc,
	}
	for k, v := range want {
		if ext[k] != v {
			t.Errorf("extension %s = %q, want %q", k, ext[k], v)
		}
	}
	if len(ext) != len(want) {
		t.Errorf("extensions %v, want exactly %v", ext, want)
	}
	m, err = parse5424(srv.next(t))
	if err != nil {
		t.Fatal(err)
	}
	_, ext, err = parseCEF(m.Msg)
	if err != nil {
		t.Fatal(err)
	}
	if ext["c6a2"] != "2001:db8::5" || ext["c6a2Label"] != "Source IPv6 Address" || ext["src"] != "" {
		t.Errorf("IPv6 source: %v", ext)
	}
	if st := s.Stats(); st.Sent != 2 || st.Buffered != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestTCPJSONLines(t *testing.T) {
	srv := newStreamServer(t, nil, readLine)
	cfg := testConfig(TCP, srv.addr)
	cfg.Format = FormatJSON
	s := newSink(t, cfg)
	recs := []sink.Record{testAlert(t, "x1", "1", 3, "a", "1.2.3.4"), testAlert(t, "x2", "2", 5, "b", "1.2.3.4")}
	recs[1].JSON = []byte(`{"odd":"a` + "\n" + `b"}`) // not what the encoder writes, but must not split
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := srv.next(t); got != string(recs[0].JSON) {
		t.Errorf("line 1 = %q", got)
	}
	if got := srv.next(t); got != `{"odd":"a b"}` {
		t.Errorf("line 2 = %q", got)
	}
}

func TestTCPLFFramingText(t *testing.T) {
	srv := newStreamServer(t, nil, readLine)
	cfg := testConfig(TCP, srv.addr)
	cfg.Framing, cfg.Message, cfg.MsgID = FramingLF, MessageText, "ALERT"
	s := newSink(t, cfg)
	r := testAlert(t, "t1", "300110", 12, "two\nlines", "203.0.113.7")
	r.Groups = []string{"g\nh"}
	if err := s.Write(context.Background(), []sink.Record{r}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := parse5424(srv.next(t))
	if err != nil {
		t.Fatal(err)
	}
	want := "level 12 rule 300110: two lines provider=aws account=123456789012 region=us-east-1 principal=arn:aws:iam::123456789012:user/mallory src=203.0.113.7 technique=T1562.008 id=t1"
	if m.Msg != want || m.MsgID != "ALERT" {
		t.Errorf("MSGID %q MSG %q\nwant %q", m.MsgID, m.Msg, want)
	}
	srv.expectNone(t)
}

func tlsServerConfig(p *testPKI, clientCA bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.server}}
	if clientCA {
		c.ClientCAs, c.ClientAuth = p.pool, tls.RequireAndVerifyClientCert
	}
	return c
}

func TestTLSWithClientCertificate(t *testing.T) {
	p := newTestPKI(t)
	srv := newStreamServer(t, tlsServerConfig(p, true), readFrame)
	cfg := testConfig(TLS, srv.addr)
	cfg.CAFile, cfg.CertFile, cfg.KeyFile = config.Path(p.caFile), config.Path(p.certFile), config.Path(p.keyFile)
	s := newSink(t, cfg)
	r := testAlert(t, "tls-1", "300110", 12, "over TLS", "203.0.113.7")
	if err := s.Write(context.Background(), []sink.Record{r}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := parse5424(srv.next(t))
	if err != nil || m.Msg != string(r.JSON) {
		t.Fatalf("got %+v, %v", m, err)
	}
	st := <-srv.peers
	if len(st.PeerCertificates) != 1 || st.PeerCertificates[0].Subject.CommonName != "skywatch-client" {
		t.Errorf("server saw client certificates %v", st.PeerCertificates)
	}
	if st.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x", st.Version)
	}
}

func TestTLSRefusals(t *testing.T) {
	p := newTestPKI(t)
	tests := []struct {
		name   string
		server *tls.Config
		adjust func(*Config)
		want   string
	}{
		{name: "untrusted server", server: tlsServerConfig(p, false), adjust: func(c *Config) { c.CAFile = "" },
			want: "certificate signed by unknown authority"},
		{name: "wrong server name", server: tlsServerConfig(p, false), adjust: func(c *Config) { c.ServerName = "syslog.example.com" },
			want: "syslog.example.com"},
		{name: "TLS 1.1 only", server: func() *tls.Config { c := tlsServerConfig(p, false); c.MaxVersion = tls.VersionTLS11; return c }(),
			want: "protocol version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStreamServer(t, tt.server, readFrame)
			cfg := testConfig(TLS, srv.addr)
			cfg.CAFile = config.Path(p.caFile)
			if tt.adjust != nil {
				tt.adjust(&cfg)
			}
			s := newSink(t, cfg)
			if err := s.Write(context.Background(), []sink.Record{testAlert(t, "x", "1", 3, "d", "1.2.3.4")}); err != nil {
				t.Fatal(err)
			}
			err := s.Flush(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Flush error = %v, want one mentioning %q", err, tt.want)
			}
			srv.expectNone(t)
			if st := s.Stats(); st.Buffered != 1 || st.Failed != 1 || st.Sent != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestReconnectAfterServerCloses(t *testing.T) {
	p := newTestPKI(t)
	for _, network := range []string{TCP, TLS} {
		t.Run(network, func(t *testing.T) {
			var tc *tls.Config
			if network == TLS {
				tc = tlsServerConfig(p, false)
			}
			srv := newStreamServer(t, tc, readFrame)
			cfg := testConfig(network, srv.addr)
			cfg.CAFile = ""
			if network == TLS {
				cfg.CAFile = config.Path(p.caFile)
			}
			s := newSink(t, cfg)
			send := func(ids ...string) {
				t.Helper()
				var recs []sink.Record
				for _, id := range ids {
					recs = append(recs, testAlert(t, id, "1", 3, "d", "1.2.3.4"))
				}
				if err := s.Write(context.Background(), recs); err != nil {
					t.Fatal(err)
				}
				if err := s.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			expect := func(ids ...string) {
				t.Helper()
				for _, id := range ids {
					m, err := parse5424(srv.next(t))
					if err != nil {
						t.Fatal(err)
					}
					if got, _ := m.SD[0].param("id"); got != id {
						t.Fatalf("got alert %q, want %q", got, id)
					}
				}
			}
			send("r1", "r2")
			expect("r1", "r2")
			srv.dropConns()
			send("r3", "r4")
			expect("r3", "r4")
			srv.dropConns()
			send("r5")
			expect("r5")
			if st := s.Stats(); st.Reconnects != 2 || st.Sent != 5 || st.Failed != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestServerDownThenUp(t *testing.T) {
	srv := newStreamServer(t, nil, readFrame)
	addr := srv.addr
	s := newSink(t, testConfig(TCP, addr))
	ctx := context.Background()
	write := func(id string) {
		t.Helper()
		if err := s.Write(ctx, []sink.Record{testAlert(t, id, "1", 3, "d", "1.2.3.4")}); err != nil {
			t.Fatal(err)
		}
	}
	write("up-1")
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	srv.next(t)

	srv.stop()
	write("down-1")
	write("down-2")
	if err := s.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded with the receiver down")
	}
	if err := s.Flush(ctx); err == nil {
		t.Fatal("second Flush succeeded with the receiver down")
	}
	if st := s.Stats(); st.Buffered != 2 || st.Failed != 2 || st.Retries < 2 {
		t.Errorf("while down: stats = %+v", st)
	}

	srv.start(addr)
	write("up-2")
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush after the receiver came back: %v", err)
	}
	var got []string
	for range 3 {
		m, err := parse5424(srv.next(t))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := m.SD[0].param("id")
		got = append(got, id)
	}
	if strings.Join(got, ",") != "down-1,down-2,up-2" {
		t.Errorf("after recovery got %v", got)
	}
	if st := s.Stats(); st.Sent != 4 || st.Buffered != 0 || st.Reconnects != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestFlushHonoursContext(t *testing.T) {
	srv := newStreamServer(t, nil, readFrame)
	addr := srv.addr
	srv.stop()
	s := newSink(t, testConfig(TCP, addr))
	if err := s.Write(context.Background(), []sink.Record{testAlert(t, "c", "1", 3, "d", "1.2.3.4")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with a cancelled context = %v", err)
	}
}

func TestClosed(t *testing.T) {
	srv := newStreamServer(t, nil, readFrame)
	s := newSink(t, testConfig(TCP, srv.addr))
	if err := s.Write(context.Background(), []sink.Record{testAlert(t, "last", "1", 3, "d", "1.2.3.4")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if m, err := parse5424(srv.next(t)); err != nil || m.SD[0].Params[0][1] != "last" {
		t.Errorf("Close did not flush: %+v %v", m, err)
	}
	if err := s.Write(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := s.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
}

// TestRewriteAfterFailedFlush is what an output spool in front of the sink
// does: Write and Flush a batch, and on failure the same again. Each alert
// must still arrive once.
func TestRewriteAfterFailedFlush(t *testing.T) {
	srv := newStreamServer(t, nil, readFrame)
	addr := srv.addr
	srv.stop()
	s := newSink(t, testConfig(TCP, addr))
	ctx := context.Background()
	batch := []sink.Record{testAlert(t, "w1", "1", 3, "d", "1.2.3.4"), testAlert(t, "w2", "1", 3, "d", "1.2.3.4")}
	for range 3 {
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err == nil {
			t.Fatal("Flush succeeded with the receiver down")
		}
	}
	if st := s.Stats(); st.Buffered != 2 {
		t.Errorf("stats = %+v", st)
	}
	srv.start(addr)
	if err := s.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"w1", "w2"} {
		m, err := parse5424(srv.next(t))
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := m.SD[0].param("id"); id != want {
			t.Errorf("got %s, want %s", id, want)
		}
	}
	// Sent once: a new Write of the same alerts after success is a new delivery.
	if err := s.Write(ctx, batch[:1]); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := parse5424(srv.next(t)); m.SD == nil {
		t.Fatal("no message")
	}
	srv.expectNone(t)
	if st := s.Stats(); st.Sent != 3 || st.Accepted != 9 {
		t.Errorf("stats = %+v", st)
	}
}
