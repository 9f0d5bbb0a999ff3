package awssqs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// objectRef is one object a notification names.
type objectRef struct {
	bucket, key, region string
	// when is the event's time (zero when the notification has none).
	when time.Time
}

// s3Notification is an S3 event notification (also the body of an SNS
// notification), or the test event S3 sends when notifications are configured.
type s3Notification struct {
	Records []struct {
		EventSource string `json:"eventSource"`
		EventName   string `json:"eventName"`
		EventTime   string `json:"eventTime"`
		AWSRegion   string `json:"awsRegion"`
		S3          struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key string `json:"key"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
	Event string `json:"Event"` // s3:TestEvent
}

// envelope holds the members that tell the message shapes apart: SNS
// (Type, Message), EventBridge (source, detail-type, detail) and S3 (Records).
type envelope struct {
	s3Notification
	Type       string          `json:"Type"`
	Message    *string         `json:"Message"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

type eventBridgeDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key string `json:"key"`
	} `json:"object"`
}

// errNoObjects says a well-formed message names nothing to read: an S3 test
// event, an SNS subscription confirmation, an event other than object created.
var errNoObjects = errors.New("nothing to read")

// parseMessage reads the objects a message names. It accepts S3 event
// notifications delivered straight (keys URL-encoded, + for space), wrapped by
// SNS (the notification is the Message string), and EventBridge's "Object
// Created" events (keys as they are), which Security Lake also sends.
func parseMessage(body string) ([]objectRef, error) {
	return parseEnvelope(body, 0)
}

func parseEnvelope(body string, depth int) ([]objectRef, error) {
	var env envelope
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	switch {
	case env.Type == "Notification" && env.Message != nil && depth == 0:
		return parseEnvelope(*env.Message, depth+1)
	case env.Type == "SubscriptionConfirmation" || env.Type == "UnsubscribeConfirmation":
		return nil, errNoObjects
	case env.Event == "s3:TestEvent":
		return nil, errNoObjects
	case env.Records != nil:
		return s3Objects(&env.s3Notification)
	case env.Detail != nil:
		return eventBridgeObject(&env)
	}
	return nil, errors.New("neither an S3 event notification, an SNS notification nor an EventBridge event")
}

func s3Objects(n *s3Notification) ([]objectRef, error) {
	var refs []objectRef
	for i, r := range n.Records {
		if r.EventSource != "aws:s3" || !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue // other services' records, removals, restores...
		}
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return nil, fmt.Errorf("record %d: object key %q: %w", i, r.S3.Object.Key, err)
		}
		if r.S3.Bucket.Name == "" || key == "" {
			return nil, fmt.Errorf("record %d: no bucket name or object key", i)
		}
		refs = append(refs, objectRef{bucket: r.S3.Bucket.Name, key: key, region: r.AWSRegion, when: parseTime(r.EventTime)})
	}
	if len(refs) == 0 {
		return nil, errNoObjects
	}
	return refs, nil
}

func eventBridgeObject(env *envelope) ([]objectRef, error) {
	if env.DetailType != "" && env.DetailType != "Object Created" {
		return nil, errNoObjects
	}
	var d eventBridgeDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return nil, fmt.Errorf("EventBridge detail: %w", err)
	}
	if d.Bucket.Name == "" || d.Object.Key == "" {
		return nil, errors.New("EventBridge event without detail.bucket.name or detail.object.key")
	}
	return []objectRef{{bucket: d.Bucket.Name, key: d.Object.Key, region: env.Region, when: parseTime(env.Time)}}, nil
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
