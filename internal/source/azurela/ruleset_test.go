package azurela

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

// corpusTable is a query result from the shared corpus, as the API returns it.
type corpusTable struct {
	Tables []struct {
		Columns []azurefake.LAColumn `json:"columns"`
		Rows    []json.RawMessage    `json:"rows"`
	} `json:"tables"`
}

// loadCorpusTable reads an API reply from the corpus (tables/columns/rows).
func loadCorpusTable(t *testing.T, elem ...string) ([]azurefake.LAColumn, []json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile(sharedcorpus.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	var ct corpusTable
	if err := json.Unmarshal(b, &ct); err != nil || len(ct.Tables) == 0 {
		t.Fatalf("%s: %v", filepath.Join(elem...), err)
	}
	return ct.Tables[0].Columns, ct.Tables[0].Rows
}

// loadCorpusObjects turns an export of rows as JSON objects (one per line) into
// the API's shape: columns in the order of the first row; a string holding a
// JSON object or array becomes a dynamic column, as Log Analytics types
// InitiatedBy, TargetResources or AdditionalFields.
func loadCorpusObjects(t *testing.T, elem ...string) ([]azurefake.LAColumn, []json.RawMessage) {
	t.Helper()
	f, err := os.Open(sharedcorpus.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cols []azurefake.LAColumn
	var objs [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		objs = append(objs, append([]byte(nil), line...))
	}
	if len(objs) == 0 {
		t.Fatalf("%s: no rows", filepath.Join(elem...))
	}
	// Column order and types from the first row.
	dec := json.NewDecoder(bytes.NewReader(objs[0]))
	dec.UseNumber()
	_, _ = dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		var v any
		_ = dec.Decode(&v)
		typ := "string"
		switch x := v.(type) {
		case json.Number:
			typ = "long"
			if strings.ContainsAny(string(x), ".eE") {
				typ = "real"
			}
		case bool:
			typ = "bool"
		case string:
			if s := strings.TrimSpace(x); (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) && json.Valid([]byte(s)) {
				typ = "dynamic"
			}
		}
		cols = append(cols, azurefake.LAColumn{Name: k.(string), Type: typ})
	}
	var rows []json.RawMessage
	for _, o := range objs {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(o, &m); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for i, c := range cols {
			if i > 0 {
				b.WriteByte(',')
			}
			v, ok := m[c.Name]
			if !ok {
				v = json.RawMessage("null")
			}
			b.Write(v)
		}
		b.WriteByte(']')
		rows = append(rows, b.Bytes())
	}
	return cols, rows
}

// readThroughSource serves rows from the fake and returns the events the
// source makes of them.
func readThroughSource(t *testing.T, cols []azurefake.LAColumn, rows []json.RawMessage, tag string) []event.Event {
	t.Helper()
	e := newEnv(t)
	e.la.SetColumns(cols...)
	timeCol := -1
	for i, c := range cols {
		if c.Name == "TimeGenerated" || (timeCol < 0 && c.Name == "Timestamp") {
			timeCol = i
		}
	}
	for _, r := range rows {
		at := noon.Add(-time.Hour)
		var cells []json.RawMessage
		if timeCol >= 0 && json.Unmarshal(r, &cells) == nil && timeCol < len(cells) {
			var s string
			if json.Unmarshal(cells[timeCol], &s) == nil {
				if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
					at = ts
				}
			}
		}
		e.la.AddRow(ws1, at, r)
	}
	e.cfg.TimeOffset = "2000d" // the samples are from 2021-2023
	e.cfg.Tag = tag
	s := e.newSource(t, "la", nil)
	c := &collector{}
	mustRunPass(t, s, c)
	evs := c.take()
	if len(evs) != len(rows) {
		t.Fatalf("%d events from %d rows", len(evs), len(rows))
	}
	return evs
}

// TestEventsMatchTheBuiltinRules: rows from real query results (Wazuh's test
// data, msticpy, OTRF exports), served by the fake and read by the source,
// trigger the built-in Azure rules Wazuh's own events for the same rows
// trigger (the wazuh-oracle set), and the ids expected of them.
func TestEventsMatchTheBuiltinRules(t *testing.T) {
	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, rules.Options{}, ruleset.FS())
	if err != nil {
		t.Fatal(err)
	}
	m := rules.NewEngine(rs, rules.EngineOptions{}).NewMatcher()
	ruleOf := func(ev event.Event) string {
		ev.Received = noon
		r := m.Process(&ev)
		if r.Rule == nil || !r.Alert {
			return "none"
		}
		return strconv.Itoa(r.Rule.ID)
	}
	// Wazuh's events for the same rows, in the order of the oracle set.
	oracle, err := os.ReadFile(sharedcorpus.Path(t, "corpus", "wazuh-oracle", "azure-public.events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	wazuhEvents := bytes.Split(bytes.TrimSpace(oracle), []byte("\n"))

	for _, tc := range []struct {
		name       string
		load       func(*testing.T, ...string) ([]azurefake.LAColumn, []json.RawMessage)
		path       []string
		oracleLine int // first line of these rows in the oracle set
		tag        string
		want       []string
	}{
		{"wazuh AzureActivity", loadCorpusTable, []string{"corpus", "wazuh", "wodle-testdata", "azure-log_analytics_events.json"}, 1, "azure-activity",
			[]string{"350121", "350121"}}, // under 87811 "Create role assignment"
		{"msticpy SecurityAlert", loadCorpusTable, []string{"corpus", "msticpy", "az_mon_raw_query.json"}, 3, "security-alert",
			[]string{"350503", "350503", "350503"}}, // medium-severity SecurityAlert rows, under 87801
		{"otrf AuditLogs", loadCorpusObjects, []string{"corpus", "otrf-security-datasets", "azure-m365", "AADAuditEvents.json"}, 6, "aad-audit", nil},
		{"otrf OfficeActivity", loadCorpusObjects, []string{"corpus", "otrf-security-datasets", "azure-m365", "OfficeActivityEvents.json"}, 10, "office", nil},
		{"otrf M365 Defender", loadCorpusObjects, []string{"corpus", "otrf-security-datasets", "azure-m365", "Microsoft365DefenderEvents.json"}, 11, "m365d", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cols, rows := tc.load(t, tc.path...)
			evs := readThroughSource(t, cols, rows, tc.tag)
			// The fake returns rows in time order, the corpus files are not
			// sorted: compare the rules fired as multisets.
			var got, wazuh []string
			for i, ev := range evs {
				got = append(got, ruleOf(ev))
				wazuh = append(wazuh, ruleOf(event.Event{Log: wazuhEvents[tc.oracleLine-1+i], Location: "Azure", AgentID: "000"}))
				if got[i] == "none" {
					t.Errorf("no alert for\n%s", ev.Log)
				}
			}
			if tc.want != nil && strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("rules %v, want %v", got, tc.want)
			}
			sort.Strings(got)
			sort.Strings(wazuh)
			if strings.Join(got, ",") != strings.Join(wazuh, ",") {
				t.Errorf("rules %v, but Wazuh's events for the same rows trigger %v", got, wazuh)
			}
		})
	}
}
