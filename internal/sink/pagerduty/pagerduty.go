// Package pagerduty is the PagerDuty output: it triggers an alert through the
// Events API v2 for each skywatch alert, deduplicated by alert id.
//
// See README.md for the event layout, the severity mapping, configuration and
// delivery semantics.
package pagerduty

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
)

// maxSummary is the Events API's limit on payload.summary.
const maxSummary = 1024

// Options are the collaborators of a Sink besides its configuration.
type Options = notify.Env

// Sink sends alerts to PagerDuty. Its Write, Flush, Close and Stats are those
// of notify.Deliverer.
type Sink struct {
	*notify.Deliverer
}

var _ sink.Sink = (*Sink)(nil)

// New validates cfg and returns the output. Nothing is sent until Flush.
func New(cfg Config, opts Options) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pagerduty: %w", err)
	}
	p := protocol{routingKey: cfg.RoutingKey.Reveal(), dashboard: cfg.DashboardURL}
	d, err := notify.New(p, notify.Options{
		Service:  "pagerduty",
		URL:      cfg.Endpoint,
		Secrets:  []string{p.routingKey},
		Delivery: cfg.Delivery,
		Env:      opts,
	})
	if err != nil {
		return nil, err
	}
	return &Sink{d}, nil
}

type protocol struct {
	routingKey string
	dashboard  string
}

// Event is an Events API v2 trigger event.
type Event struct {
	RoutingKey  string  `json:"routing_key"`
	EventAction string  `json:"event_action"`
	DedupKey    string  `json:"dedup_key,omitempty"`
	Client      string  `json:"client,omitempty"`
	ClientURL   string  `json:"client_url,omitempty"`
	Payload     Payload `json:"payload"`
	Links       []Link  `json:"links,omitempty"`
}

// Payload is the event's PD-CEF payload.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is a link attached to the PagerDuty alert.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

func (p protocol) Encode(alerts []notify.Alert) (notify.Request, error) {
	ev, err := NewEvent(alerts[0].JSON, p.routingKey, p.dashboard)
	if err != nil {
		return notify.Request{}, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return notify.Request{}, err
	}
	return notify.Request{Body: body, ContentType: "application/json"}, nil
}

// Reason reads the Events API's error body:
// {"status":"invalid event","message":"Event object is invalid","errors":[...]}.
func (protocol) Reason(_ int, body []byte) string {
	var r struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if json.Unmarshal(body, &r) != nil || (r.Message == "" && r.Status == "") {
		return notify.BodyReason(body)
	}
	msg := r.Message
	if msg == "" {
		msg = r.Status
	}
	if len(r.Errors) > 0 {
		msg += ": " + strings.Join(r.Errors, "; ")
	}
	return notify.BodyReason([]byte(msg))
}

// NewEvent builds the trigger event for an encoded alert. The dedup_key is
// the alert id, so a redelivered alert updates the PagerDuty alert it opened;
// a suppression follow-up uses the id of the alert that opened the window, so
// it lands on that PagerDuty alert while it is open instead of paging again.
func NewEvent(alertJSON []byte, routingKey, dashboard string) (Event, error) {
	s, err := alert.Summarize(alertJSON)
	if err != nil {
		return Event{}, fmt.Errorf("read alert: %w", err)
	}
	sev := notify.SeverityOf(s.Level)
	details := map[string]any{
		"alert_id": s.ID, "rule_id": s.RuleID, "level": s.Level, "severity": sev.Word,
		"description": s.Description,
	}
	put := func(k, v string) {
		if v != "" {
			details[k] = v
		}
	}
	put("provider", s.Provider)
	put("account", s.Account)
	put("region", s.Region)
	put("principal", s.Principal)
	put("srcip", s.SrcIP)
	put("location", s.Location)
	if len(s.Techniques) > 0 {
		details["mitre_techniques"] = s.Techniques
	}
	if len(s.Tactics) > 0 {
		details["mitre_tactics"] = s.Tactics
	}
	if len(s.Groups) > 0 {
		details["groups"] = s.Groups
	}

	summary := fmt.Sprintf("[%s] %s", sev.Word, s.Description)
	if s.Principal != "" {
		summary += " — " + s.Principal
	}
	if s.SrcIP != "" {
		summary += " from " + s.SrcIP
	}
	dedup := s.ID
	if f, ok := suppress.Parse(alertJSON); ok {
		details["suppressed"] = f
		summary = fmt.Sprintf("[%s] %d more held back: %s", sev.Word, f.Count, strings.TrimPrefix(summary, "["+sev.Word+"] "))
		if f.NotifiedID != "" {
			dedup = f.NotifiedID
		}
	}
	ev := Event{
		RoutingKey:  routingKey,
		EventAction: "trigger",
		DedupKey:    notify.Truncate(dedup, 255),
		Client:      "skywatch",
		ClientURL:   dashboard,
		Payload: Payload{
			Summary:       notify.Truncate(summary, maxSummary),
			Source:        source(&s),
			Severity:      sev.PagerDuty,
			Component:     notify.Truncate(s.Principal, 255),
			Class:         "rule " + s.RuleID,
			CustomDetails: details,
		},
	}
	if len(s.Groups) > 0 {
		ev.Payload.Group = s.Groups[0]
	}
	if !s.Timestamp.IsZero() {
		ev.Payload.Timestamp = s.Timestamp.Format("2006-01-02T15:04:05.000Z07:00")
	}
	if link := notify.AlertLink(dashboard, s.ID); link != "" {
		ev.Links = []Link{{Href: link, Text: "View alert in skywatch"}}
	}
	return ev, nil
}

// source names where the alert happened, as PD-CEF asks: provider, account
// and region ("aws:111122223333:eu-west-1"), else the alert's location.
func source(s *alert.Summary) string {
	var parts []string
	for _, p := range []string{s.Provider, s.Account, s.Region} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	switch {
	case len(parts) > 0:
		return strings.Join(parts, ":")
	case s.Location != "":
		return s.Location
	}
	return "skywatch"
}
