package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// The notification outputs are wired with their filters and suppression: the
// quickstart's level-12 alerts reach a Slack webhook and a generic webhook, and
// suppression holds the repeats of one rule and principal back.
func TestNotificationOutputsWired(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path] = append(got[r.URL.Path], string(b))
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	tmp := t.TempDir()
	text := "data_dir: " + tmp + "\noutputs:\n" +
		"  - type: slack\n    webhook_url: " + srv.URL + "/slack/T000/B000/XXXX\n    min_level: 12\n" +
		"  - type: webhook\n    url: " + srv.URL + "/hook\n    min_level: 12\n    suppress:\n      window: 1h\n      key: [rule_id]\n" +
		"sources:\n  - name: demo\n    type: local\n    path: " + filepath.Join(repoRoot(t), "examples", "logs") + "\n    log_type: cloudtrail\n"
	cfg, err := config.Parse("c.yaml", []byte(text))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), cfg, Options{Once: true})
	if err != nil {
		t.Fatal(err)
	}
	high := sum.ByLevel[12]
	if high < 2 {
		t.Fatalf("quickstart gave %d level-12 alerts; the test needs at least 2", high)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := int64(len(got["/slack/T000/B000/XXXX"])); n != high {
		t.Fatalf("slack got %d messages for %d level-12 alerts", n, high)
	}
	for _, m := range got["/slack/T000/B000/XXXX"] {
		var msg struct {
			Text string `json:"text"`
		}
		if json.Unmarshal([]byte(m), &msg) != nil || !strings.Contains(msg.Text, "12") {
			t.Fatalf("slack message without the level: %s", m)
		}
	}
	// Suppression by rule: one alert per rule goes out at once, the rest of each
	// rule's alerts only as one follow-up when the window closes (at Close here).
	rules := map[string]bool{}
	followUps := 0
	for _, b := range got["/hook"] {
		var a struct {
			Rule       struct{ ID string }  `json:"rule"`
			Suppressed *struct{ Count int } `json:"suppressed"`
		}
		if err := json.Unmarshal([]byte(b), &a); err != nil {
			t.Fatalf("webhook body is not an alert: %s", b)
		}
		if a.Suppressed != nil {
			followUps++
			continue
		}
		if rules[a.Rule.ID] {
			t.Fatalf("rule %s sent twice inside the suppression window", a.Rule.ID)
		}
		rules[a.Rule.ID] = true
	}
	if len(rules) == 0 || int64(len(got["/hook"])) >= high+1 {
		t.Fatalf("webhook got %d requests (%d rules, %d follow-ups) for %d alerts", len(got["/hook"]), len(rules), followUps, high)
	}
}

// A syslog output over TCP, behind its spool, delivers every alert by the end of
// a run.
func TestSyslogOutputWired(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var received strings.Builder
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				b, _ := io.ReadAll(c)
				mu.Lock()
				received.Write(b)
				mu.Unlock()
			}()
		}
	}()
	tmp := t.TempDir()
	text := "data_dir: " + tmp + "\noutputs:\n  - type: syslog\n    network: tcp\n    address: " + ln.Addr().String() +
		"\n    format: cef\nsources:\n  - name: demo\n    type: local\n    path: " + filepath.Join(repoRoot(t), "examples", "logs") + "\n    log_type: cloudtrail\n"
	cfg, err := config.Parse("c.yaml", []byte(text))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), cfg, Options{Once: true, Version: "9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every alert at the syslog receiver", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return int64(strings.Count(received.String(), "CEF:0|skywatch|skywatch|9.9.9|")) == sum.Alerts
	})
}
