package awsclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/skywatch-dev/skywatch/internal/retry"
)

// DefaultRetry is how a Session retries API calls when no policy is given. The
// service clients are to have the SDK's own retries off (aws.NopRetryer), so
// throttling, 5xx replies and broken connections are all retried by
// Session.Call, with backoff, up to 10 times.
var DefaultRetry = retry.Policy{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Attempts: 10}

// Session is what a source that reads several regions makes its API calls with.
type Session struct {
	// Config is the resolved SDK configuration (see Config.Load).
	Config aws.Config
	// Regions are the regions to read: those configured, or Config.Region.
	Regions []string
	// Retry is how Call retries.
	Retry retry.Policy
}

// NewSession resolves the configuration (see Load) for a source that reads the
// given regions (none: the configuration's own region) and retries its calls
// with p (zero: DefaultRetry).
func (c *Config) NewSession(ctx context.Context, hc *http.Client, regions []string, p retry.Policy) (*Session, error) {
	cfg, err := c.Load(ctx, hc)
	if err != nil {
		return nil, err
	}
	if len(regions) == 0 {
		regions = []string{cfg.Region}
	}
	if p == (retry.Policy{}) {
		p = DefaultRetry
	}
	return &Session{Config: cfg, Regions: regions, Retry: p}, nil
}

// Call runs one API call, fn, with the session's retry policy. An expired
// session token refreshes the credentials once (an assumed role gets a new
// session); other errors are retried only when transient.
func (s *Session) Call(ctx context.Context, fn func(ctx context.Context) error) error {
	refreshed := false
	return retry.Do(ctx, s.Retry, func(ctx context.Context) error {
		err := fn(ctx)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return retry.Permanent(err)
		case expiredToken(err) && !refreshed:
			refreshed = true
			if c, ok := s.Config.Credentials.(*aws.CredentialsCache); ok {
				c.Invalidate()
			}
			return err
		case transient(err):
			return err
		}
		return retry.Permanent(err)
	})
}

// transient reports errors worth another attempt: the SDK's retryable set
// (throttling codes, 429 and 5xx, connection errors) and replies that broke off.
func transient(err error) bool {
	if awsretry.IsErrorRetryables(awsretry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	var de *smithy.DeserializationError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &de)
}

// expiredToken reports the errors a service answers with when the session token
// has expired.
func expiredToken(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
		return true
	}
	return false
}
