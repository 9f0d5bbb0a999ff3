package awsinspector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The SDK decodes findings into Go structs whose JSON form is not the service's
// (field names, timestamps, enums as Go values). Rules written for Wazuh see the
// service's own member names, so the source keeps the reply body as it came over
// the wire: a deserialize middleware reads it, hands a copy back to the SDK and
// stores it in the call's context.

type bodyKey struct{}

// rawBody receives the body of the last successful reply of one call.
type rawBody struct{ b []byte }

// maxBody bounds a reply body: a ListFindings page holds at most 100 findings.
const maxBody = 64 << 20

// withRawBody returns ctx carrying a place for the reply body.
func withRawBody(ctx context.Context) (context.Context, *rawBody) {
	rb := &rawBody{}
	return context.WithValue(ctx, bodyKey{}, rb), rb
}

// keepRawBody adds the middleware to a client's stack. It sits next to the
// transport, below the SDK's deserializer, so it runs once per attempt.
func keepRawBody(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("skywatchRawBody",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
			middleware.DeserializeOutput, middleware.Metadata, error,
		) {
			out, md, err := next.HandleDeserialize(ctx, in)
			if err != nil {
				return out, md, err
			}
			resp, ok := out.RawResponse.(*smithyhttp.Response)
			rb, want := ctx.Value(bodyKey{}).(*rawBody)
			if !ok || !want || resp.StatusCode < 200 || resp.StatusCode > 299 {
				return out, md, err // error replies are the SDK's to decode
			}
			b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
			_ = resp.Body.Close()
			if rerr == nil && len(b) > maxBody {
				rerr = fmt.Errorf("reply larger than %d bytes", maxBody)
			}
			if rerr != nil {
				return out, md, &smithy.DeserializationError{Err: fmt.Errorf("read reply body: %w", rerr)}
			}
			resp.Body = io.NopCloser(bytes.NewReader(b))
			rb.b = b
			return out, md, nil
		}), middleware.After)
}

// page is the part of a ListFindings reply the source reads from the wire.
type page struct {
	Findings []json.RawMessage `json:"findings"`
}

// timeMembers are the finding's top-level timestamps; the service sends epoch
// seconds, Wazuh's module sends createdAt and updatedAt as 2006-01-02T15:04:05Z.
var timeMembers = map[string]bool{"createdAt": true, "updatedAt": true, "firstObservedAt": true, "lastObservedAt": true}

// wrapFinding appends to dst the event Wazuh's module makes of a finding:
// {"integration":"aws","aws":{<finding members in wire order>,"source":"inspector2"}},
// with the top-level timestamps formatted. It returns the finding's ARN and
// updatedAt in milliseconds.
func wrapFinding(dst *bytes.Buffer, raw []byte) (arn string, updated int64, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", 0, errors.New("finding is not a JSON object")
	}
	dst.WriteString(`{"integration":"aws","aws":{`)
	haveUpdated := false
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", 0, fmt.Errorf("read finding: %w", err)
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return "", 0, fmt.Errorf("read finding member %q: %w", key, err)
		}
		switch {
		case key == "source":
			continue // the module's own source member replaces it
		case key == "findingArn":
			_ = json.Unmarshal(val, &arn)
		case timeMembers[key]:
			ms, ok := epochMillis(val)
			if !ok {
				break // leave an unexpected form as it is
			}
			if key == "updatedAt" {
				updated, haveUpdated = ms, true
			}
			val = strconv.AppendQuote(nil, time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05Z"))
		}
		if n > 0 {
			dst.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(key)
		dst.Write(k)
		dst.WriteByte(':')
		if err := json.Compact(dst, val); err != nil {
			return "", 0, fmt.Errorf("read finding member %q: %w", key, err)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return "", 0, errors.New("finding is not a complete JSON object")
	}
	if n > 0 {
		dst.WriteByte(',')
	}
	dst.WriteString(`"source":"inspector2"}}`)
	if arn == "" || !haveUpdated {
		return arn, 0, errors.New("finding without findingArn or updatedAt")
	}
	return arn, updated, nil
}

// epochMillis reads an epoch-seconds JSON number (1.700000000123E9) to the
// millisecond, as the SDK does.
func epochMillis(val json.RawMessage) (int64, bool) {
	f, err := strconv.ParseFloat(string(val), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return 0, false
	}
	return int64(math.Round(f * 1e3)), true
}

// decodePage reads the findings of a ListFindings reply body.
func decodePage(body []byte, p *page) error {
	if len(body) == 0 {
		return errors.New("reply body not captured")
	}
	if err := json.Unmarshal(body, p); err != nil {
		return fmt.Errorf("decode reply: %w", err)
	}
	return nil
}
