package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// sendError is a failed SMTP conversation: the step that failed, and whether
// the server refused the message itself for good (a 5xx reply to MAIL, RCPT or
// the end of DATA), as opposed to the connection, TLS or login failing.
type sendError struct {
	step      string
	err       error
	permanent bool
}

func (e *sendError) Error() string { return e.step + ": " + e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// rejected is a message-level reply: 5xx is final, except 530 (authentication
// or STARTTLS required), which says the configuration is wrong, not the message.
func rejected(step string, err error) error {
	var te *textproto.Error
	perm := errors.As(err, &te) && te.Code >= 500 && te.Code < 600 && te.Code != 530
	return &sendError{step: step, err: err, permanent: perm}
}

func failed(step string, err error) error { return &sendError{step: step, err: err} }

// isPermanent reports a message the server refused for good.
func isPermanent(err error) bool {
	var se *sendError
	return errors.As(err, &se) && se.permanent
}

// mailer speaks SMTP to one server with net/smtp.
type mailer struct {
	addr, host string
	tlsMode    string
	tlsConf    *tls.Config
	helo       string
	username   string
	password   func() string
	auth       string
	timeout    time.Duration
}

// send delivers d in one conversation. Recipients refused for good are
// skipped as long as one is accepted, and returned with the server's reply.
func (m *mailer) send(ctx context.Context, d *digest) (refused []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	dialer := &net.Dialer{}
	var conn net.Conn
	if m.tlsMode == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: m.tlsConf}).DialContext(ctx, "tcp", m.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", m.addr)
	}
	if err != nil {
		return nil, failed("connect", err)
	}
	// net/smtp has no deadlines of its own: bound the whole conversation, and
	// cut it short when ctx ends.
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return nil, failed("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(m.helo); err != nil {
		return nil, failed("EHLO", err)
	}
	if m.tlsMode == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return nil, failed("STARTTLS", errors.New("the server does not offer STARTTLS; refusing to send in clear text (set tls: implicit for port 465)"))
		}
		if err := c.StartTLS(m.tlsConf); err != nil {
			return nil, failed("STARTTLS", err)
		}
	}
	if m.username != "" {
		a, err := m.chooseAuth(c)
		if err != nil {
			return nil, failed("AUTH", err)
		}
		if err := c.Auth(a); err != nil {
			return nil, failed("AUTH", err)
		}
	}
	if err := c.Mail(d.from); err != nil {
		return nil, rejected("MAIL FROM", err)
	}
	accepted := 0
	for _, to := range d.to {
		err := c.Rcpt(to)
		if err == nil {
			accepted++
			continue
		}
		if !isPermanent(rejected("", err)) {
			return nil, rejected("RCPT TO <"+to+">", err) // try the whole message again later
		}
		refused = append(refused, to+": "+err.Error())
	}
	if accepted == 0 {
		return nil, &sendError{step: "RCPT TO", err: errors.New("every recipient refused: " + strings.Join(refused, "; ")), permanent: true}
	}
	w, err := c.Data()
	if err != nil {
		return nil, rejected("DATA", err)
	}
	if _, err := w.Write(d.data); err != nil {
		return nil, failed("DATA", err)
	}
	if err := w.Close(); err != nil {
		return nil, rejected("DATA", err)
	}
	_ = c.Quit() // the message is accepted; a failing QUIT changes nothing
	return refused, nil
}

func (m *mailer) chooseAuth(c *smtp.Client) (smtp.Auth, error) {
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return nil, errors.New("username is set but the server offers no authentication")
	}
	offered := strings.Fields(strings.ToUpper(mechs))
	has := func(m string) bool {
		for _, o := range offered {
			if o == m {
				return true
			}
		}
		return false
	}
	mech := strings.ToUpper(m.auth)
	if m.auth == AuthAuto {
		switch {
		case has("PLAIN"):
			mech = "PLAIN"
		case has("LOGIN"):
			mech = "LOGIN"
		default:
			return nil, fmt.Errorf("the server offers %q, none of PLAIN and LOGIN", mechs)
		}
	}
	if mech == "PLAIN" {
		return &plainAuth{user: m.username, pass: m.password}, nil
	}
	return &loginAuth{user: m.username, pass: m.password}, nil
}

// plainAuth is SASL PLAIN (RFC 4616). net/smtp's own refuses unencrypted
// connections other than localhost by name; the configuration already allows
// clear text only to loopback addresses or when insecure is set.
type plainAuth struct {
	user string
	pass func() string
}

func (a *plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass()), nil
}

func (a *plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge after PLAIN")
	}
	return nil, nil
}

// loginAuth is the LOGIN mechanism: the server asks for the user name, then
// the password. Servers word the prompts differently, so the order counts, not
// the words.
type loginAuth struct {
	user string
	pass func() string
	step int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass()), nil
	}
	return nil, errors.New("unexpected third LOGIN challenge")
}
