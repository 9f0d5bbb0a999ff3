// Package webhook is the generic HTTP output: it POSTs alerts as JSON (one per
// request, or batches as a JSON array or NDJSON) to a URL, with custom headers,
// an optional HMAC-SHA256 signature, retries and a dead-letter file.
//
// See README.md for configuration, the signature scheme and delivery semantics.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
)

// Headers the output sets on every request.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256, keyed with
	// hmac_key, of the timestamp, a dot and the body.
	SignatureHeader = "X-Skywatch-Signature"
	// TimestampHeader carries the Unix time (seconds) the request was signed.
	TimestampHeader = "X-Skywatch-Timestamp"
	// AlertIDHeader carries the alert id (single format only); Idempotency-Key
	// carries it too, or for batches a digest of the batch's ids.
	AlertIDHeader = "X-Skywatch-Alert-Id"
	// AlertCountHeader carries the number of alerts in the body.
	AlertCountHeader = "X-Skywatch-Alert-Count"
)

// Options are the collaborators of a Sink besides its configuration.
type Options = notify.Env

// Sink posts alerts to the webhook. Its Write, Flush, Close and Stats are
// those of notify.Deliverer.
type Sink struct {
	*notify.Deliverer
}

var _ sink.Sink = (*Sink)(nil)

// New validates cfg and returns the output. Nothing is sent until Flush.
func New(cfg Config, opts Options) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	batch := 1
	if cfg.Format != FormatSingle {
		batch = cfg.BatchSize
	}
	secrets := []string{cfg.HMACKey.Reveal()}
	for _, v := range cfg.Headers {
		secrets = append(secrets, v.Reveal())
	}
	del, err := notify.New(&protocol{format: cfg.Format, key: []byte(cfg.HMACKey.Reveal())}, notify.Options{
		Service:   "webhook",
		URL:       cfg.URL.Reveal(),
		Header:    cfg.header(),
		Secrets:   secrets,
		Delivery:  cfg.Delivery,
		BatchSize: batch,
		Env:       opts,
	})
	if err != nil {
		return nil, err
	}
	return &Sink{del}, nil
}

// protocol encodes alerts as the configured format and signs requests.
type protocol struct {
	format string
	key    []byte
}

func (p *protocol) Encode(alerts []notify.Alert) (notify.Request, error) {
	h := http.Header{}
	h.Set(AlertCountHeader, strconv.Itoa(len(alerts)))
	var body []byte
	switch p.format {
	case FormatSingle:
		a := alerts[0]
		body = a.JSON
		h.Set(AlertIDHeader, a.ID)
		h.Set("Idempotency-Key", a.ID)
		return notify.Request{Body: body, ContentType: "application/json", Header: h}, nil
	case FormatArray:
		body = append(body, '[')
		for i, a := range alerts {
			if i > 0 {
				body = append(body, ',')
			}
			body = append(body, a.JSON...)
		}
		body = append(body, ']')
		h.Set("Idempotency-Key", batchKey(alerts))
		return notify.Request{Body: body, ContentType: "application/json", Header: h}, nil
	default: // ndjson
		for _, a := range alerts {
			body = append(body, a.JSON...)
			body = append(body, '\n')
		}
		h.Set("Idempotency-Key", batchKey(alerts))
		return notify.Request{Body: body, ContentType: "application/x-ndjson", Header: h}, nil
	}
}

// batchKey is the Idempotency-Key of a batch: the same alerts in the same
// order give the same key, so a retried request is recognisable.
func batchKey(alerts []notify.Alert) string {
	h := sha256.New()
	for _, a := range alerts {
		h.Write([]byte(a.ID))
		h.Write([]byte{'\n'})
	}
	return "batch-" + hex.EncodeToString(h.Sum(nil)[:16])
}

func (p *protocol) Reason(_ int, body []byte) string { return notify.BodyReason(body) }

// Sign sets the timestamp and signature headers. The signed string is
// "<unix seconds>.<body>", so a captured request cannot be replayed with a
// fresh timestamp.
func (p *protocol) Sign(h http.Header, body []byte, now time.Time) {
	if len(p.key) == 0 {
		return
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	h.Set(TimestampHeader, ts)
	h.Set(SignatureHeader, "sha256="+Signature(p.key, ts, body))
}

// Signature returns the hex HMAC-SHA256 of "<timestamp>.<body>" keyed with key.
func Signature(key []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a request's signature headers against body, refusing
// timestamps further than tolerance from now. Receivers written in Go can use
// it; the README shows the same steps for others.
func Verify(key []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook signature: bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook signature: timestamp outside the %s tolerance", tolerance)
	}
	got, ok := strings.CutPrefix(signature, "sha256=")
	want := Signature(key, timestamp, body)
	if !ok || !hmac.Equal([]byte(got), []byte(want)) {
		return fmt.Errorf("webhook signature: mismatch")
	}
	return nil
}
