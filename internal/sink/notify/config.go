package notify

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// What to do with alerts whose retries ran out on transient failures.
const (
	// GiveUpFail keeps the alerts and makes Flush fail, so the pipeline does not
	// acknowledge them and tries again (the default).
	GiveUpFail = "fail"
	// GiveUpDeadLetter writes them to the dead-letter file and lets Flush
	// succeed, so a long outage of the service does not hold up the other
	// outputs.
	GiveUpDeadLetter = "dead_letter"
)

// Delivery holds the keys every notification output shares. Outputs embed it
// inline, so its keys sit beside the output's own.
type Delivery struct {
	// Timeout bounds one HTTP request, response included (default 10s).
	Timeout config.Duration `yaml:"timeout"`
	// MaxAttempts is how many times one request is tried within one Flush
	// (default 4).
	MaxAttempts int `yaml:"max_attempts"`
	// RetryInitial and RetryMax bound the backoff between attempts (defaults
	// 500ms and 30s); a Retry-After from the service is waited on top.
	RetryInitial config.Duration `yaml:"retry_initial"`
	RetryMax     config.Duration `yaml:"retry_max"`
	// MaxRetryAfter caps how long one Retry-After is honoured (default 1m), as
	// Flush holds up the pipeline while it waits.
	MaxRetryAfter config.Duration `yaml:"max_retry_after"`
	// MaxBuffered is how many alerts may wait for delivery; beyond it Write
	// refuses more until a Flush gets through (default 10000).
	MaxBuffered int `yaml:"max_buffered"`
	// DeadLetter is the JSON-lines file refused alerts are appended to
	// (default <data_dir>/dead-letter/<output name>.jsonl).
	DeadLetter config.Path `yaml:"dead_letter"`
	// OnGiveUp is GiveUpFail or GiveUpDeadLetter (default fail).
	OnGiveUp string `yaml:"on_give_up"`
}

// DefaultDelivery returns the defaults of the shared keys.
func DefaultDelivery() Delivery {
	return Delivery{
		Timeout:       config.Duration(10 * time.Second),
		MaxAttempts:   4,
		RetryInitial:  config.Duration(500 * time.Millisecond),
		RetryMax:      config.Duration(30 * time.Second),
		MaxRetryAfter: config.Duration(time.Minute),
		MaxBuffered:   10000,
		OnGiveUp:      GiveUpFail,
	}
}

// Validate returns a config.FieldError for each bad shared key.
func (d *Delivery) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if d.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	if d.MaxAttempts < 1 || d.MaxAttempts > 100 {
		bad("max_attempts", "must be between 1 and 100, got %d", d.MaxAttempts)
	}
	if d.RetryInitial <= 0 {
		bad("retry_initial", "must be positive")
	}
	if d.RetryMax < d.RetryInitial {
		bad("retry_max", "must not be below retry_initial (%s)", d.RetryInitial)
	}
	if d.MaxRetryAfter < 0 {
		bad("max_retry_after", "must not be negative")
	}
	if d.MaxBuffered < 1 {
		bad("max_buffered", "must be at least 1, got %d", d.MaxBuffered)
	}
	switch d.OnGiveUp {
	case GiveUpFail, GiveUpDeadLetter:
	default:
		bad("on_give_up", "must be %q or %q, got %q", GiveUpFail, GiveUpDeadLetter, d.OnGiveUp)
	}
	return errors.Join(errs...)
}

// ValidateURL checks that u is an absolute http or https URL. The message
// never repeats the value, which may hold a token.
func ValidateURL(field string, u config.Secret, required bool) error {
	if u == "" {
		if required {
			return config.FieldError{Field: field, Msg: "required"}
		}
		return nil
	}
	p, err := url.Parse(u.Reveal())
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return config.FieldError{Field: field, Msg: "must be an absolute http:// or https:// URL"}
	}
	return nil
}
