package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/store"
)

var fuzzSeeds = []string{
	"", "level=3", "from=2024-05-01&to=2024-05-02", "rule_id=300001&rule_id=80202", "q=StopLogging",
	"q=%22a+b%22+c*", "q=AND+OR+NOT+NEAR(", "q=col:val", "q=%5E%22", "technique=T1562.008", "limit=1000&cursor=abc",
	"interval=1h&top=5", "interval=1ns", "from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z&interval=1s",
	"level=%00", "q=%ff%fe", "a=%zz", "group=&group=x", "provider=aws&account=1&region=r&principal=p&srcip=1.2.3.4",
	"level=16&level=1", "to=2024-05-01T10:00:00%2B14:00", "from=2024-02-30", "top=100&interval=8760h",
}

// Parsing never panics, and every error is a parameter error naming what is wrong.
func FuzzParseQuery(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, stats := range []bool{false, true} {
			fl, err := parseAlertFilter(raw, stats)
			var pe *paramError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("%q: error %T %v", raw, err, err)
			}
			if err == nil {
				if fl.MinLevel < 0 || fl.MinLevel > 16 || (!stats && (fl.Limit < 1 || fl.Limit > maxLimit)) {
					t.Fatalf("%q: accepted out of range values %+v", raw, fl)
				}
				if !fl.From.IsZero() && !fl.To.IsZero() && !fl.To.After(fl.From) {
					t.Fatalf("%q: accepted to <= from", raw)
				}
			}
		}
		if _, err := parseRuleFilter(raw); err != nil {
			var pe *paramError
			if !errors.As(err, &pe) {
				t.Fatalf("%q: rule filter error %T %v", raw, err, err)
			}
		}
	})
}

// Through the handlers and a real store, any query string gets a 200 or a 400
// naming the problem, never a 500.
func FuzzAlertRoutes(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	dir := f.TempDir()
	st, err := store.Open(filepath.Join(dir, "alerts.db"), store.Options{PruneInterval: -1})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	var batch []store.Alert
	for i := range 20 {
		a := alert.Alert{
			Timestamp: time.Date(2024, 5, 1, i, 0, 0, 0, time.UTC),
			Rule:      alert.Rule{Level: i % 16, ID: "30000" + string(rune('0'+i%10)), Description: "fuzz alert", Groups: []string{"aws", "g" + string(rune('a'+i%5))}},
			ID:        alert.ID("fuzz", "u", int64(i), "1"), Location: "Wazuh-AWS",
			Data: []byte(`{"aws":{"recipientAccountId":"1","awsRegion":"r","sourceIPAddress":"1.2.3.4","userIdentity":{"arn":"p"}}}`),
		}
		js := a.AppendJSON(nil)
		sum, _ := alert.Summarize(js)
		batch = append(batch, store.Alert{JSON: js, Summary: sum})
	}
	if err := st.Insert(context.Background(), batch); err != nil {
		f.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	token, _, err := CreateToken(filepath.Join(dir, DefaultTokensFile), RoleRead, "")
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(cfg, Options{DataDir: dir, Alerts: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.ContainsAny(raw, " #\r\n\t") || strings.ContainsRune(raw, 0x7f) {
			return // not a query string a client can send
		}
		for _, path := range []string{"/api/v1/alerts", "/api/v1/alerts/stats"} {
			req := httptest.NewRequest("GET", path, nil)
			req.URL.RawQuery = raw
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			s.root.ServeHTTP(w, req)
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("%s?%s: %d, body not JSON: %q", path, raw, w.Code, w.Body)
			}
			switch w.Code {
			case http.StatusOK:
			case http.StatusBadRequest:
				msg, _ := body["error"].(string)
				if !strings.HasPrefix(msg, "parameter ") && !strings.HasPrefix(msg, "invalid query string") {
					t.Fatalf("%s?%s: 400 without naming the parameter: %q", path, raw, msg)
				}
			default:
				t.Fatalf("%s?%s: status %d: %s", path, raw, w.Code, w.Body)
			}
		}
	})
}
