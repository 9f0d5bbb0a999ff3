// Package slack is the Slack output: it posts each alert to a Slack incoming
// webhook as a Block Kit message with a plain fallback text.
//
// See README.md for the message layout, configuration and delivery semantics.
package slack

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
)

// Options are the collaborators of a Sink besides its configuration.
type Options = notify.Env

// Sink posts alerts to Slack. Its Write, Flush, Close and Stats are those of
// notify.Deliverer.
type Sink struct {
	*notify.Deliverer
}

var _ sink.Sink = (*Sink)(nil)

// New validates cfg and returns the output. Nothing is sent until Flush.
func New(cfg Config, opts Options) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	d, err := notify.New(protocol{dashboard: cfg.DashboardURL}, notify.Options{
		Service:  "slack",
		URL:      cfg.WebhookURL.Reveal(),
		Delivery: cfg.Delivery,
		Env:      opts,
	})
	if err != nil {
		return nil, err
	}
	return &Sink{d}, nil
}

type protocol struct{ dashboard string }

// Encode builds the message of one alert.
func (p protocol) Encode(alerts []notify.Alert) (notify.Request, error) {
	body, err := Message(alerts[0].JSON, p.dashboard)
	if err != nil {
		return notify.Request{}, err
	}
	return notify.Request{Body: body, ContentType: "application/json"}, nil
}

// Reason: Slack answers errors with a plain-text code such as invalid_payload,
// no_service or channel_is_archived.
func (protocol) Reason(_ int, body []byte) string { return notify.BodyReason(body) }

// Lengths, in bytes of the raw value, chosen so that even fully escaped text
// (each character becoming "&amp;") stays inside Slack's 3000-character
// section and 2000-character field limits.
const (
	maxDescription = 400
	maxField       = 300
)

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type block struct {
	Type     string       `json:"type"`
	Text     *textObject  `json:"text,omitempty"`
	Fields   []textObject `json:"fields,omitempty"`
	Elements []textObject `json:"elements,omitempty"`
}

type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

// Message renders an encoded alert as the JSON body of an incoming-webhook
// post: Block Kit blocks, and a fallback text for notifications.
func Message(alertJSON []byte, dashboard string) ([]byte, error) {
	s, err := alert.Summarize(alertJSON)
	if err != nil {
		return nil, fmt.Errorf("read alert: %w", err)
	}
	sev := notify.SeverityOf(s.Level)
	desc := Escape(oneLine(notify.Truncate(s.Description, maxDescription)))
	if desc == "" {
		desc = "(no description)"
	}
	head := fmt.Sprintf("%s *%s* · level %d · rule %s\n*%s*", sev.Emoji, capitalize(sev.Word), s.Level, Escape(s.RuleID), desc)
	fallback := fmt.Sprintf("%s (level %d): %s", capitalize(sev.Word), s.Level, desc)
	if link := notify.AlertLink(dashboard, s.ID); link != "" {
		head += "\n<" + strings.ReplaceAll(Escape(link), "|", "%7C") + "|View alert in skywatch>"
	}
	m := message{Blocks: []block{{Type: "section", Text: &textObject{"mrkdwn", head}}}}

	if f, ok := suppress.Parse(alertJSON); ok {
		note := fmt.Sprintf(":repeat: *%d more* like this were held back between %s and %s (window %s); this is the last of them.",
			f.Count, Escape(f.First), Escape(f.Last), Escape(f.Window))
		m.Blocks = append(m.Blocks, block{Type: "section", Text: &textObject{"mrkdwn", note}})
		fallback = fmt.Sprintf("%d more held back: %s", f.Count, fallback)
	}

	var fields []textObject
	add := func(name, value string) {
		if value != "" {
			fields = append(fields, textObject{"mrkdwn", "*" + Escape(name) + "*\n" + Escape(oneLine(notify.Truncate(value, maxField)))})
		}
	}
	add("Provider", s.Provider)
	add("Account", s.Account)
	add("Region", s.Region)
	add("Principal", s.Principal)
	add("Source IP", s.SrcIP)
	add("ATT&CK", strings.Join(s.Techniques, ", "))
	add("Tactics", strings.Join(s.Tactics, ", "))
	if !s.Timestamp.IsZero() {
		add("Time", s.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if len(fields) > 0 {
		m.Blocks = append(m.Blocks, block{Type: "section", Fields: fields})
	}
	if s.Principal != "" {
		fallback += " — " + Escape(oneLine(notify.Truncate(s.Principal, maxField)))
	}
	if s.SrcIP != "" {
		fallback += " from " + Escape(oneLine(notify.Truncate(s.SrcIP, maxField)))
	}

	ctx := "alert " + Escape(s.ID)
	if s.Location != "" {
		ctx += " · " + Escape(oneLine(notify.Truncate(s.Location, maxField)))
	}
	if len(s.Groups) > 0 {
		ctx += " · " + Escape(oneLine(notify.Truncate(strings.Join(s.Groups, ", "), maxField)))
	}
	m.Blocks = append(m.Blocks, block{Type: "context", Elements: []textObject{{"mrkdwn", ctx}}})
	m.Text = sev.Emoji + " " + fallback
	return json.Marshal(m)
}

// Escape replaces the three characters Slack's mrkdwn treats as control
// characters. Without it a principal named "<!channel>" would notify the whole
// channel, and "<https://evil|Reset password>" would render as a link.
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// oneLine keeps a value on one line, so it cannot forge extra lines of the
// message.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
