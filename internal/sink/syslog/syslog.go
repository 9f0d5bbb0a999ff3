// Package syslog is the syslog output: it sends each alert as an RFC 5424
// message (the alert's JSON or a line of text, with structured data naming the
// rule), as ArcSight CEF carried in a syslog message, or as a bare JSON line,
// over UDP, TCP or TLS.
//
// See README.md for configuration, formats and delivery semantics.
package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// ErrClosed is returned by calls after Close.
var ErrClosed = errors.New("syslog sink is closed")

// ErrBufferFull is returned by Write when so much is waiting for a successful
// Flush (the receiver being down) that taking more would only grow memory.
var ErrBufferFull = errors.New("syslog sink: send buffer full, receiver unreachable")

// maxPending bounds the framed messages waiting for Flush on tcp and tls. The
// pipeline flushes at 16 MiB, so only an unreachable receiver gets here.
const maxPending = 64 << 20

// Default message sizes: 2048 is what RFC 5426 says every UDP receiver should
// take; stream receivers commonly take 64 KiB.
const (
	defaultUDPSize    = 2048
	defaultStreamSize = 64 << 10
)

// flushRetry reconnects and resends a few times within one Flush; the pipeline
// retries the Flush itself with longer waits.
var flushRetry = retry.Policy{Initial: 100 * time.Millisecond, Max: 2 * time.Second, Attempts: 3}

// Options are the collaborators a Sink uses besides its configuration.
type Options struct {
	// Version is skywatch's version, the CEF Device Version (default "dev").
	Version string
	// Now stamps messages of alerts without a timestamp; nil means time.Now.
	Now func() time.Time
}

// Stats are the sink's counters since New.
type Stats struct {
	// Accepted counts alerts taken by Write.
	Accepted int64
	// Sent counts messages handed to the socket (for tcp and tls: by a Flush
	// that succeeded).
	Sent int64
	// Truncated counts messages cut to max_message_size.
	Truncated int64
	// Retries counts repeated send attempts within Flush.
	Retries int64
	// Reconnects counts connections opened after the first.
	Reconnects int64
	// Failed counts Write and Flush calls that returned an error.
	Failed int64
	// Dropped counts alerts given up on; it stays 0.
	Dropped int64
	// Buffered is the number of messages waiting for Flush.
	Buffered int64
}

type counters struct {
	accepted, sent, truncated, retries, reconnects, failed, dropped, buffered atomic.Int64
}

// Sink sends alerts to a syslog receiver. The pipeline's delivery loop calls
// Write, Flush and Close from one goroutine; Stats may be called from any.
type Sink struct {
	network, addr string
	framing       string
	timeout       time.Duration
	tlsConf       *tls.Config
	fmt           formatter

	conn    net.Conn     // tcp/tls, nil when not connected
	dials   int          // connections opened so far
	udp     *net.UDPConn // udp, nil until first use or after an error
	udpAddr *net.UDPAddr

	pending     []byte // framed messages not yet handed to the socket
	pendingMsgs int64
	pendingIDs  map[string]struct{} // alerts in pending: a batch written again after a failed Flush is not queued twice
	msg         []byte              // scratch for one message
	closed      bool
	stats       counters
}

var _ sink.Sink = (*Sink)(nil)

// New validates cfg and prepares the sink; it connects on the first Flush (tcp,
// tls) or Write (udp), so a receiver that is down does not stop the start.
func New(cfg Config, opts Options) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("syslog sink: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	host, port, _ := splitAddress(cfg.Address)
	if port == "" {
		port = "514"
		if cfg.Network == TLS {
			port = "6514"
		}
	}
	s := &Sink{
		network:    cfg.Network,
		addr:       net.JoinHostPort(host, port),
		framing:    cfg.Framing,
		timeout:    cfg.Timeout.Std(),
		pendingIDs: map[string]struct{}{},
	}
	if s.framing == "" {
		s.framing = FramingOctetCounting
		if cfg.Format == FormatJSON {
			s.framing = FramingLF
		}
	}
	maxSize := int(cfg.MaxMessageSize)
	if maxSize == 0 {
		maxSize = defaultStreamSize
		if cfg.Network == UDP {
			maxSize = defaultUDPSize
		}
	}
	hostname := cfg.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname() // "" gives the NILVALUE
	}
	procID := cfg.ProcID
	if procID == "" {
		procID = strconv.Itoa(os.Getpid())
	}
	s.fmt = formatter{
		format: cfg.Format, message: cfg.Message, facility: facilities[cfg.Facility],
		hostname: hostname, appName: cfg.AppName, procID: procID, msgID: cfg.MsgID,
		sdID: cfg.SDID, version: opts.Version, maxSize: maxSize, now: opts.Now,
		escapeLFForFraming: cfg.Network != UDP && s.framing == FramingLF,
	}
	if cfg.Network == TLS {
		tc, err := tlsConfig(cfg, host)
		if err != nil {
			return nil, fmt.Errorf("syslog sink: %w", err)
		}
		s.tlsConf = tc
	}
	return s, nil
}

// tlsConfig builds the client TLS configuration: TLS 1.2 or later, the
// system's or ca_file's authorities, an optional client certificate.
func tlsConfig(cfg Config, host string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(string(cfg.CAFile))
		if err != nil {
			return nil, fmt.Errorf("read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(string(cfg.CertFile), string(cfg.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("load cert_file and key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Write formats the records. Over udp each is sent at once, one datagram per
// message, and on error some of the batch may already be sent. Over tcp and
// tls they wait, framed, for Flush; an alert already waiting (same id, as when
// a batch is written again after a failed Flush) is not queued twice.
func (s *Sink) Write(ctx context.Context, alerts []sink.Record) error {
	if s.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.network != UDP && len(s.pending) >= maxPending {
		s.stats.failed.Add(1)
		return ErrBufferFull
	}
	for i := range alerts {
		r := &alerts[i]
		s.stats.accepted.Add(1)
		if _, dup := s.pendingIDs[r.ID]; dup && r.ID != "" {
			continue
		}
		var cut bool
		s.msg, cut = s.fmt.appendMessage(s.msg[:0], r)
		if cut {
			s.stats.truncated.Add(1)
		}
		if s.fmt.format == FormatJSON {
			s.msg = append(s.msg, '\n')
		}
		if s.network == UDP {
			if err := s.sendDatagram(s.msg); err != nil {
				s.stats.failed.Add(1)
				return err
			}
			s.stats.sent.Add(1)
			continue
		}
		s.appendFrame(s.msg)
		s.pendingIDs[r.ID] = struct{}{}
		s.pendingMsgs++
		s.stats.buffered.Store(s.pendingMsgs)
	}
	return nil
}

// appendFrame adds msg to pending with the configured framing (RFC 6587).
func (s *Sink) appendFrame(msg []byte) {
	if s.framing == FramingOctetCounting {
		if s.fmt.format == FormatJSON {
			msg = msg[:len(msg)-1] // the length delimits; no line feed needed
		}
		s.pending = strconv.AppendInt(s.pending, int64(len(msg)), 10)
		s.pending = append(s.pending, ' ')
		s.pending = append(s.pending, msg...)
		return
	}
	s.pending = append(s.pending, msg...)
	if len(msg) == 0 || msg[len(msg)-1] != '\n' {
		s.pending = append(s.pending, '\n')
	}
}

// sendDatagram sends one UDP message. The socket is not connected, so ICMP
// "port unreachable" from an earlier datagram does not fail a later one: UDP
// gives no delivery feedback, and pretending otherwise would only stall the
// pipeline on retries that cannot help.
func (s *Sink) sendDatagram(msg []byte) error {
	if s.udp == nil {
		ua, err := net.ResolveUDPAddr("udp", s.addr)
		if err != nil {
			return fmt.Errorf("syslog: resolve udp %s: %w", s.addr, err)
		}
		network := "udp6"
		if ua.IP.To4() != nil {
			network = "udp4"
		}
		c, err := net.ListenUDP(network, nil)
		if err != nil {
			return fmt.Errorf("syslog: open udp socket: %w", err)
		}
		s.udp, s.udpAddr = c, ua
	}
	_ = s.udp.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.udp.WriteToUDP(msg, s.udpAddr); err != nil {
		// Resolve and open afresh next time: the address may have moved.
		s.udp.Close()
		s.udp = nil
		return fmt.Errorf("syslog: send udp to %s: %w", s.addr, err)
	}
	return nil
}

// Flush hands everything written to the socket. For tcp and tls it returns nil
// once every message since the last successful Flush was written to the
// connection — accepted by the kernel, not acknowledged by the receiver, which
// syslog has no way to do. On failure it reconnects and resends them all, a
// few times, then returns the error with the messages still pending. For udp
// it does nothing: Write already sent them.
func (s *Sink) Flush(ctx context.Context) error {
	if s.closed {
		return ErrClosed
	}
	if s.network == UDP || len(s.pending) == 0 {
		return nil
	}
	attempt := 0
	err := retry.Do(ctx, flushRetry, func(ctx context.Context) error {
		if attempt++; attempt > 1 {
			s.stats.retries.Add(1)
		}
		if err := s.connect(ctx); err != nil {
			return err
		}
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
		if _, err := s.conn.Write(s.pending); err != nil {
			// The receiver drops a torn frame with the connection; all of
			// pending goes again on the next connection.
			s.disconnect()
			return err
		}
		return nil
	})
	if err != nil {
		s.stats.failed.Add(1)
		return fmt.Errorf("syslog: send to %s %s: %w", s.network, s.addr, err)
	}
	s.stats.sent.Add(s.pendingMsgs)
	s.pending, s.pendingMsgs = s.pending[:0], 0
	clear(s.pendingIDs)
	if cap(s.pending) > 4<<20 {
		s.pending = nil // do not hold on to a backlog's worth of memory
	}
	s.stats.buffered.Store(0)
	return nil
}

// connect makes sure s.conn is an open connection. Receivers never write to
// us, so a readable connection is one the peer has closed: writing to it would
// be accepted locally and lost, hence the check before reuse.
func (s *Sink) connect(ctx context.Context) error {
	if s.conn != nil && !s.alive() {
		s.disconnect()
	}
	if s.conn != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	d := &net.Dialer{}
	var c net.Conn
	var err error
	if s.tlsConf != nil {
		c, err = (&tls.Dialer{NetDialer: d, Config: s.tlsConf}).DialContext(ctx, "tcp", s.addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return err
	}
	if s.dials++; s.dials > 1 {
		s.stats.reconnects.Add(1)
	}
	s.conn = c
	return nil
}

// alive reports whether the connection is still open from the peer's side: a
// read that times out means nothing arrived, neither data nor end of stream.
func (s *Sink) alive() bool {
	var buf [512]byte
	_ = s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := s.conn.Read(buf[:])
	_ = s.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	return err == nil || errors.As(err, &ne) && ne.Timeout()
}

func (s *Sink) disconnect() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// Close flushes and closes the connection. It returns the flush error, if any:
// the messages it concerned were not sent.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	err := s.Flush(context.Background())
	s.closed = true
	s.disconnect()
	if s.udp != nil {
		s.udp.Close()
		s.udp = nil
	}
	return err
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Accepted: s.stats.accepted.Load(), Sent: s.stats.sent.Load(), Truncated: s.stats.truncated.Load(),
		Retries: s.stats.retries.Load(), Reconnects: s.stats.reconnects.Load(), Failed: s.stats.failed.Load(),
		Dropped: s.stats.dropped.Load(), Buffered: s.stats.buffered.Load(),
	}
}
