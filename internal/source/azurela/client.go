package azurela

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
)

// The source calls the query API through the SDK's azlogs client (request,
// bearer token from the configured credential, error replies), but reads the
// reply body itself: azlogs decodes rows into []any, which turns long values
// above 2^53 into rounded float64s and costs an allocation per cell. A per-call
// policy takes the body of a 200 reply and hands the SDK an empty result.

type bodyKey struct{}

// replyBody receives the body of a call's 200 reply.
type replyBody struct{ b []byte }

type keepBody struct{}

func (keepBody) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	rb, want := req.Raw().Context().Value(bodyKey{}).(*replyBody)
	if err != nil || !want || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	b, err := runtime.Payload(resp) // already read whole by the SDK's body download policy
	if err != nil {
		return resp, err
	}
	rb.b = b
	resp.Body = io.NopCloser(strings.NewReader(`{"tables":[]}`))
	return resp, nil
}

// client is the azlogs client with the credential it was built with. An
// expired or revoked token (401) makes the source build a new credential, whose
// empty cache forces a fresh token.
type client struct {
	cfg  *Config
	hc   *http.Client
	mu   sync.Mutex
	logs *azlogs.Client
}

func newClient(cfg *Config, hc *http.Client) (*client, error) {
	c := &client{cfg: cfg, hc: hc}
	if err := c.renew(); err != nil {
		return nil, err
	}
	return c, nil
}

// renew builds a new credential and azlogs client.
func (c *client) renew() error {
	cred, err := c.cfg.Azure.Credential(c.hc)
	if err != nil {
		return err
	}
	opts := &azlogs.ClientOptions{}
	opts.Cloud = cloud.Configuration{
		ActiveDirectoryAuthorityHost: c.cfg.Azure.CloudEndpoints().AuthorityHost,
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{azlogs.ServiceName: {
			Audience: c.cfg.Azure.CloudEndpoints().LogAnalytics, // the token's scope, whatever the endpoint
			Endpoint: c.cfg.endpoint(),
		}},
	}
	opts.Retry = policy.RetryOptions{MaxRetries: -1} // retried by the source (internal/retry)
	opts.PerCallPolicies = []policy.Policy{keepBody{}}
	if c.hc != nil {
		opts.Transport = c.hc
	}
	logs, err := azlogs.NewClient(cred, opts)
	if err != nil {
		return fmt.Errorf("log analytics client: %w", err)
	}
	c.mu.Lock()
	c.logs = logs
	c.mu.Unlock()
	return nil
}

func (c *client) current() *azlogs.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs
}

// callError is a failed query, with what the source needs to decide what next.
type callError struct {
	status     int // HTTP status; 0 when there was no reply
	code       string
	msg        string
	retryAfter time.Duration
	transient  bool
	err        error
}

func (e *callError) Error() string {
	switch {
	case e.status != 0 && e.code != "":
		return fmt.Sprintf("HTTP %d %s: %s", e.status, e.code, e.msg)
	case e.status != 0:
		return fmt.Sprintf("HTTP %d: %s", e.status, e.msg)
	default:
		return e.msg
	}
}

func (e *callError) Unwrap() error { return e.err }

// queryOnce runs one query and returns the reply body.
func (c *client) queryOnce(ctx context.Context, workspace, query string, from, to time.Time) ([]byte, error) {
	span := azlogs.TimeInterval(formatTime(from) + "/" + formatTime(to))
	wait := int(c.cfg.ServerTimeout.Std() / time.Second)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ServerTimeout.Std()+30*time.Second)
	defer cancel()
	rb := &replyBody{}
	ctx = context.WithValue(ctx, bodyKey{}, rb)
	_, err := c.current().QueryWorkspace(ctx, workspace, azlogs.QueryBody{Query: &query, Timespan: &span},
		&azlogs.QueryWorkspaceOptions{Options: &azlogs.QueryOptions{Wait: &wait}})
	if err != nil {
		return nil, classify(err)
	}
	if rb.b == nil {
		return nil, &callError{msg: "reply body not captured", transient: true}
	}
	return rb.b, nil
}

// classify turns an SDK error into a callError: transient (throttled, 5xx,
// transport, token service down) or not.
func classify(err error) *callError {
	var re *azcore.ResponseError
	var af *azidentity.AuthenticationFailedError
	switch {
	case errors.As(err, &re):
		ce := &callError{status: re.StatusCode, code: re.ErrorCode, err: err}
		ce.msg = http.StatusText(re.StatusCode)
		if re.RawResponse != nil {
			if body, berr := runtime.Payload(re.RawResponse); berr == nil {
				var e struct {
					Error apiError `json:"error"`
				}
				if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
					ce.msg = e.Error.Message
					if ce.code == "" {
						ce.code = e.Error.Code
					}
				}
			}
			ce.retryAfter = parseRetryAfter(re.RawResponse.Header.Get("Retry-After"))
		}
		switch re.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			ce.transient = true
		}
		return ce
	case errors.As(err, &af):
		// The authority's reason, never the request (which holds the secret).
		ce := &callError{msg: "get token: " + authReason(af.Error()), err: err}
		if af.RawResponse != nil {
			s := af.RawResponse.StatusCode
			ce.transient = s == http.StatusTooManyRequests || s >= 500
		}
		return ce
	case errors.Is(err, context.Canceled):
		return &callError{msg: err.Error(), err: err}
	default:
		// Transport errors, bodies cut short, our own deadline, a credential
		// that cannot get a token here (no managed identity endpoint).
		return &callError{msg: firstLine(err.Error()), transient: true, err: err}
	}
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// authReason shortens an azidentity error to its first line and the
// authority's reason (the AADSTS line), leaving out the request it describes.
func authReason(s string) string {
	out := firstLine(s)
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, "AADSTS"); i >= 0 {
			r := l[i:]
			if j := strings.IndexAny(r, "\"\\"); j > 0 {
				r = r[:j]
			}
			return out + " " + strings.TrimSpace(r)
		}
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// formatTime writes a timespan bound: RFC 3339 in UTC, with milliseconds
// when there are any (windows split below a second need them).
func formatTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}
