package slack_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sink/slack"
)

// FuzzMessageHasNoInjectedMarkup checks that whatever a log puts in the
// description, principal and location, the only Slack markup in the message
// is the output's own link and every & starts an entity.
func FuzzMessageHasNoInjectedMarkup(f *testing.F) {
	f.Add("<!channel>", "<@U1|x>", "a&b", 12)
	f.Add("<https://evil|click>", "&lt;", "\n<!here>", 3)
	f.Add(strings.Repeat("<", 5000), "é\u2028", "", 16)
	f.Fuzz(func(t *testing.T, desc, principal, location string, level int) {
		a := map[string]any{
			"timestamp": "2024-05-01T10:00:00.000+0000", "id": "abc", "location": location,
			"rule": map[string]any{"level": level, "id": "1", "description": desc},
			"data": map[string]any{"aws": map[string]any{"userIdentity": map[string]any{"arn": principal}, "sourceIPAddress": principal}},
		}
		j, err := json.Marshal(a)
		if err != nil {
			t.Skip()
		}
		body, err := slack.Message(j, "https://dash.example")
		if err != nil {
			t.Fatal(err)
		}
		var m message
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if p := checkLimits(m); p != "" {
			t.Fatalf("limits: %s", p)
		}
		for _, text := range m.all() {
			rest := strings.Replace(text, "<https://dash.example/alerts/abc|View alert in skywatch>", "", 1)
			if strings.ContainsAny(rest, "<>") {
				t.Fatalf("raw markup in %q", text)
			}
			for i := strings.IndexByte(rest, '&'); i >= 0; i = strings.IndexByte(rest, '&') {
				r := rest[i:]
				if !strings.HasPrefix(r, "&amp;") && !strings.HasPrefix(r, "&lt;") && !strings.HasPrefix(r, "&gt;") {
					t.Fatalf("bare & in %q", text)
				}
				rest = r[1:]
			}
		}
	})
}
