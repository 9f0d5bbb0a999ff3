package awsinspector

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/skywatch-dev/skywatch/internal/retry"
)

// DefaultRetry is how API calls are retried when Settings.Retry is zero: the
// SDK's own retries are off, so throttling, 5xx replies and broken connections
// are all retried here, with backoff, up to 10 times.
var DefaultRetry = retry.Policy{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Attempts: 10}

// call runs one API call with the retry policy. An expired session token
// refreshes the credentials once (an assumed role gets a new session); other
// errors are retried only when transient.
func call(ctx context.Context, p retry.Policy, creds aws.CredentialsProvider, fn func(ctx context.Context) error) error {
	refreshed := false
	return retry.Do(ctx, p, func(ctx context.Context) error {
		err := fn(ctx)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return retry.Permanent(err)
		case expiredToken(err) && !refreshed:
			refreshed = true
			if c, ok := creds.(*aws.CredentialsCache); ok {
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

// inflight counts batches handed to the pipeline and not yet acknowledged, so a
// pass can wait for the previous one's fate before reading on from its state.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{}
}

func (f *inflight) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
}

func (f *inflight) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// wait returns when nothing is in flight, or when ctx ends.
func (f *inflight) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
