package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/api"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
)

// engineLogtester puts the real rules engine behind api.Logtester the way
// `skywatch logtest --json` drives it: a logtest engine of its own, one Matcher
// keeping all fields, and {"output":<alert>,"alert":<bool>} per event.
type engineLogtester struct {
	mu      sync.Mutex
	m       *rules.Matcher
	manager string
}

func newEngineLogtester(t *testing.T) *engineLogtester {
	t.Helper()
	opt := rules.Options{ManagerName: "skywatch-test"}
	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, opt, ruleset.FS())
	if err != nil {
		t.Fatal(err)
	}
	m := rules.NewEngine(rs, rules.EngineOptions{Logtest: true}).NewMatcher()
	m.KeepAllFields()
	return &engineLogtester{m: m, manager: opt.ManagerName}
}

func (l *engineLogtester) Logtest(ctx context.Context, location string, events []string) ([]json.RawMessage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]json.RawMessage, 0, len(events))
	for i, text := range events {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ev := event.Event{
			Log: []byte(text), Location: location, AgentID: event.LocalAgentID,
			AgentName: l.manager, Received: time.Now(),
			Origin: event.Origin{Source: "logtest", Unit: "api", Offset: int64(i + 1)},
		}
		res := l.m.Process(&ev)
		a := l.m.Alert(res)
		buf := append([]byte(`{"output":`), a.AppendJSON(nil)...)
		if res.Alert {
			buf = append(buf, `,"alert":true}`...)
		} else {
			buf = append(buf, `,"alert":false}`...)
		}
		out = append(out, buf)
	}
	return out, nil
}

func TestLogtestWithTheEngine(t *testing.T) {
	lt := newEngineLogtester(t)
	e := start(t, func(_ *api.Config, opt *api.Options) { opt.Logtester = lt })
	admin := e.token(api.RoleAdmin)
	stop := `{"integration":"aws","aws":{"source":"cloudtrail","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com",` +
		`"requestParameters":{"name":"main-trail"},"userIdentity":{"arn":"arn:aws:iam::111122223333:user/mallory"}}}`
	body, _ := json.Marshal(map[string]any{"events": []string{stop, "not json at all"}, "location": "Wazuh-AWS"})
	var out struct {
		Results []struct {
			Alert  bool `json:"alert"`
			Output struct {
				Rule struct {
					ID          string `json:"id"`
					Level       int    `json:"level"`
					Description string `json:"description"`
					Mitre       struct {
						ID []string `json:"id"`
					} `json:"mitre"`
				} `json:"rule"`
				Location string `json:"location"`
			} `json:"output"`
		} `json:"results"`
	}
	e.postJSON("/api/v1/logtest", admin, string(body)).decode(t, &out)
	if len(out.Results) != 2 {
		t.Fatalf("%d results for 2 events", len(out.Results))
	}
	r := out.Results[0]
	if !r.Alert || r.Output.Rule.ID != "300001" || r.Output.Rule.Level != 12 || r.Output.Location != "Wazuh-AWS" ||
		len(r.Output.Rule.Mitre.ID) != 1 || r.Output.Rule.Mitre.ID[0] != "T1562.008" {
		t.Errorf("StopLogging: %+v", r)
	}
	if want := "AWS CloudTrail logging disabled: StopLogging on main-trail by arn:aws:iam::111122223333:user/mallory."; r.Output.Rule.Description != want {
		t.Errorf("description %q, want %q", r.Output.Rule.Description, want)
	}
	if out.Results[1].Alert {
		t.Errorf("plain text raised an alert: %+v", out.Results[1])
	}
	// A read token may not run the engine.
	if r := e.postJSON("/api/v1/logtest", e.token(api.RoleRead), string(body)); r.status != http.StatusForbidden {
		t.Errorf("logtest with a read token: %d", r.status)
	}
}
