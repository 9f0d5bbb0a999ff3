package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxReason bounds the response text kept for errors and the dead-letter file.
const maxReason = 300

// StatusError is a response other than 2xx.
type StatusError struct {
	Status int
	// Reason is what the service said, as its Protocol reads it.
	Reason string
	// RetryAfter is the wait the service asked for (0 when none).
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	s := strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Rejected reports whether the service refused the request in a way retrying
// cannot change: a 4xx other than 408 and 429, or a redirect (which is not
// followed, so a moved endpoint is noticed rather than silently posted to).
func (e *StatusError) Rejected() bool {
	switch {
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooManyRequests:
		return false
	case e.Status >= 300 && e.Status < 500:
		return true
	}
	return false
}

// post makes one attempt. It returns nil on a 2xx response, a *StatusError for
// other responses, and the transport error (without the URL, which may hold a
// secret) otherwise.
func (d *Deliverer) post(ctx context.Context, req *Request) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout.Std())
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(req.Body))
	if err != nil {
		return errors.New("cannot build the request (is the URL valid?)")
	}
	hr.Header.Set("User-Agent", "skywatch")
	if req.ContentType != "" {
		hr.Header.Set("Content-Type", req.ContentType)
	}
	for k, vs := range d.headers {
		hr.Header[k] = vs
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if s, ok := d.proto.(Signer); ok {
		s.Sign(hr.Header, req.Body, d.now())
	}
	d.stats.requests.Add(1)
	resp, err := d.client.Do(hr)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the full URL
		}
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	// Drain a little more so the connection can be reused; give up on huge bodies.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 256<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		d.stats.rateLimited.Add(1)
	}
	return &StatusError{
		Status:     resp.StatusCode,
		Reason:     d.scrub.clean(d.proto.Reason(resp.StatusCode, body)),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), d.now()),
	}
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// BodyReason is a Protocol.Reason for services that answer in plain text: the
// body's first line, printable characters only.
func BodyReason(body []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(body), []byte("\n"))
	return printable(string(line))
}

// printable keeps printable characters of s and bounds its length, so a
// response cannot inject control sequences into logs.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, s)
	return Truncate(strings.TrimSpace(s), maxReason)
}

// scrubber replaces secrets in text that may end up in errors, logs or the
// dead-letter file. Errors are built without secrets in the first place; this
// is the second line, for what a remote or a library echoes back.
type scrubber []string

func newScrubber(secrets ...string) scrubber {
	var s scrubber
	for _, v := range secrets {
		if len(v) >= 6 { // shorter values would redact ordinary words
			s = append(s, v)
		}
	}
	return s
}

// urlSecrets lists the parts of a URL that may be credentials: the whole URL,
// its query, its password and long path segments (Slack's token is the last
// segment of the path).
func urlSecrets(raw string) []string {
	out := []string{raw}
	p, err := url.Parse(raw)
	if err != nil {
		return out
	}
	out = append(out, p.RawQuery, p.Path)
	if pw, ok := p.User.Password(); ok {
		out = append(out, pw)
	}
	for _, seg := range strings.Split(p.Path, "/") {
		if len(seg) >= 16 {
			out = append(out, seg)
		}
	}
	for _, vs := range p.Query() {
		out = append(out, vs...)
	}
	return out
}

func (s scrubber) clean(text string) string {
	for _, v := range s {
		text = strings.ReplaceAll(text, v, "[redacted]")
	}
	return text
}

// scrubbedError is returned by the Deliverer's methods: its text has secrets
// replaced; errors.Is and errors.As still see the cause.
type scrubbedError struct {
	err error
	s   scrubber
}

func (e *scrubbedError) Error() string { return e.s.clean(e.err.Error()) }
func (e *scrubbedError) Unwrap() error { return e.err }

func (s scrubber) wrap(err error) error {
	if err == nil || len(s) == 0 {
		return err
	}
	return &scrubbedError{err: err, s: s}
}

// displayURL is how the endpoint appears in errors and logs: scheme and host
// only, as the path and query of webhook URLs often are the credential.
func displayURL(raw string) string {
	p, err := url.Parse(raw)
	if err != nil || p.Host == "" {
		return "[invalid URL]"
	}
	s := p.Scheme + "://" + p.Host
	if (p.Path != "" && p.Path != "/") || p.RawQuery != "" {
		s += "/…"
	}
	return s
}

// noRedirect keeps the client from following redirects: a secret-bearing
// request must not be replayed to wherever a response points.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func describe(err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Error()
	}
	return fmt.Sprint(err)
}
