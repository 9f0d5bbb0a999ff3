// Package notify is what the HTTP notification outputs (webhook, slack,
// pagerduty) share: holding accepted alerts until Flush, posting them with
// retries (internal/retry) that honour Retry-After, writing alerts a service
// refuses to a dead-letter file, keeping secrets out of errors, the common
// configuration keys, and the severity bands alerts are shown with.
//
// A service package supplies a Protocol — how alerts become a request body and
// how to read a refusal — and a Deliverer does the rest. Delivery semantics are
// described in each output's README.
package notify

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Alert is one accepted alert, copied out of the pipeline's record.
type Alert struct {
	ID     string
	Level  int
	RuleID string
	// JSON is the alert as the engine encoded it (compact, one object).
	JSON []byte
}

// Request is what one HTTP POST carries.
type Request struct {
	Body        []byte
	ContentType string
	// Header holds request-specific headers (e.g. Idempotency-Key); may be nil.
	Header http.Header
}

// Protocol is the part of delivery that differs between services.
type Protocol interface {
	// Encode builds the request for alerts: one alert, or up to the batch size
	// when the service takes batches. An error means the alerts cannot be sent
	// in any form, and they go to the dead-letter file with the error as the
	// reason.
	Encode(alerts []Alert) (Request, error)
	// Reason turns a refusal's body into a short reason for errors and the
	// dead-letter file ("invalid_payload", "Event object is invalid: ...").
	Reason(status int, body []byte) string
}

// Signer is implemented by protocols that sign each attempt (the webhook's
// HMAC). It is called before every attempt, so a retry carries a fresh
// timestamp.
type Signer interface {
	Sign(h http.Header, body []byte, now time.Time)
}

// Severity is how an alert level is presented by the notification outputs.
type Severity struct {
	// Word names the band: notable, suspicious, likely malicious, high, critical.
	Word string
	// Emoji is the Slack shortcode shown before the word.
	Emoji string
	// PagerDuty is the Events API v2 payload.severity: info, warning, error or
	// critical.
	PagerDuty string
}

// SeverityOf maps a rule level (0–16) to its band: up to 4 notable, 5–6
// suspicious, 7–9 likely malicious, 10–12 high, 13 and above critical.
func SeverityOf(level int) Severity {
	switch {
	case level >= 13:
		return Severity{Word: "critical", Emoji: ":rotating_light:", PagerDuty: "critical"}
	case level >= 10:
		return Severity{Word: "high", Emoji: ":red_circle:", PagerDuty: "error"}
	case level >= 7:
		return Severity{Word: "likely malicious", Emoji: ":large_orange_circle:", PagerDuty: "warning"}
	case level >= 5:
		return Severity{Word: "suspicious", Emoji: ":large_yellow_circle:", PagerDuty: "warning"}
	default:
		return Severity{Word: "notable", Emoji: ":large_blue_circle:", PagerDuty: "info"}
	}
}

// AlertLink returns <dashboard>/alerts/<id>, or "" when no dashboard is
// configured or the alert has no id.
func AlertLink(dashboard, id string) string {
	if dashboard == "" || id == "" {
		return ""
	}
	return strings.TrimRight(dashboard, "/") + "/alerts/" + url.PathEscape(id)
}

// Truncate shortens s to at most n bytes without splitting a UTF-8 sequence,
// marking the cut with "…" (counted in n).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	if n < len(ell) {
		return ""
	}
	cut := n - len(ell)
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
