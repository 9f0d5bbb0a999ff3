package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/skywatch-dev/skywatch/internal/azureclient"
	"github.com/skywatch-dev/skywatch/internal/retry"
)

// maxPage bounds one page's body; 1000 sign-ins are a few MiB.
const maxPage = 64 << 20

// DefaultRetry is how Graph calls are retried when Settings.Retry is zero.
var DefaultRetry = retry.Policy{Initial: time.Second, Max: 30 * time.Second, Attempts: 8}

// client calls Graph with a bearer token from the configured credential. A
// token Graph refuses (InvalidAuthenticationToken: expired or revoked before
// its time) is dropped by building a fresh credential, whose cache is empty.
type client struct {
	cfg        *Config
	hc         *http.Client
	policy     retry.Policy
	sleep      func(context.Context, time.Duration) error
	maxWait    time.Duration
	tokenScope string

	mu   sync.Mutex
	cred azcore.TokenCredential
	gen  int // credential generation, so concurrent refusals renew once
}

// page is one reply of a Graph collection.
type page struct {
	Value []json.RawMessage `json:"value"`
	Next  string            `json:"@odata.nextLink"`
}

// graphError is Graph's error body.
type graphError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// statusError is a non-2xx reply.
type statusError struct {
	status     int
	code, msg  string
	retryAfter time.Duration
}

func (e *statusError) Error() string {
	if e.code == "" {
		return fmt.Sprintf("HTTP %d", e.status)
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.status, e.code, e.msg)
}

func (c *client) credential() (azcore.TokenCredential, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cred == nil {
		cred, err := c.cfg.Azure.Credential(c.hc)
		if err != nil {
			return nil, 0, err
		}
		c.cred = cred
		c.gen++
	}
	return c.cred, c.gen, nil
}

// renew drops the credential of generation gen, so the next call signs in anew.
func (c *client) renew(gen int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.cred = nil
	}
}

// get reads one page, retrying throttling (after Retry-After, capped), 5xx,
// broken connections, bodies cut short and a refused token; other errors are
// final.
func (c *client) get(ctx context.Context, u string) (*page, error) {
	var p *page
	err := retry.Do(ctx, c.policy, func(ctx context.Context) error {
		var err error
		p, err = c.getOnce(ctx, u)
		var se *statusError
		if errors.As(err, &se) && se.retryAfter > 0 {
			if werr := c.sleep(ctx, min(se.retryAfter, c.maxWait)); werr != nil {
				return errors.Join(err, werr)
			}
		}
		return err
	})
	return p, err
}

func (c *client) getOnce(ctx context.Context, u string) (*page, error) {
	cred, gen, err := c.credential()
	if err != nil {
		return nil, retry.Permanent(err)
	}
	tok, err := cred.GetToken(ctx, azureclient.TokenOptions(c.tokenScope))
	if err != nil {
		var af *azidentity.AuthenticationFailedError
		if errors.As(err, &af) && af.RawResponse != nil && af.RawResponse.StatusCode >= 400 && af.RawResponse.StatusCode < 500 {
			return nil, retry.Permanent(err) // wrong secret, unknown client: asking again will not help
		}
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, retry.Permanent(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		if len(body) > maxPage {
			return nil, retry.Permanent(fmt.Errorf("reply larger than %d bytes", maxPage))
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, fmt.Errorf("decode reply (cut short?): %w", err) // retried: a dropped connection looks like this
		}
		return &p, nil
	}
	se := &statusError{status: resp.StatusCode}
	var ge graphError
	if json.Unmarshal(body, &ge) == nil {
		se.code, se.msg = ge.Error.Code, ge.Error.Message
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && se.code == "InvalidAuthenticationToken":
		c.renew(gen)
		return nil, se
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		se.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		return nil, se
	default:
		return nil, retry.Permanent(se)
	}
}

// retryAfter reads Retry-After: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sameOrigin reports whether a nextLink points at the configured endpoint; the
// source follows no other, as it carries the bearer token.
func sameOrigin(next, base string) bool {
	n, err1 := url.Parse(next)
	b, err2 := url.Parse(base)
	return err1 == nil && err2 == nil && n.Scheme == b.Scheme && strings.EqualFold(n.Host, b.Host)
}
