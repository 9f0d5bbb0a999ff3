package gcppubsub

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// oracleCase is one event of the wazuh-oracle GCP set: what Wazuh's GCP module
// sent analysisd, the message data it came from, and the rule Wazuh matched.
type oracleCase struct {
	event, data []byte
	location    string
	rule        int
	alert       bool
}

func loadOracle(t *testing.T) []oracleCase { return loadOracleTB(t) }

func loadOracleTB(t testing.TB) []oracleCase {
	t.Helper()
	read := func(name string) [][]byte {
		b, err := os.ReadFile(sharedcorpus.Path(t, "corpus", "wazuh-oracle", name))
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	}
	events, locations, answers := read("gcp-public.events.jsonl"), read("gcp-public.locations.txt"), read("gcp-public.oracle.jsonl")
	if len(events) != len(locations) || len(events) != len(answers) || len(events) < 90 {
		t.Fatalf("oracle set: %d events, %d locations, %d answers", len(events), len(locations), len(answers))
	}
	var cases []oracleCase
	for i, ev := range events {
		if !bytes.HasPrefix(ev, []byte(prefix)) || !bytes.HasSuffix(ev, []byte(suffix)) {
			t.Fatalf("oracle event %d is not in Wazuh's wrapper: %.80s", i+1, ev)
		}
		var ans struct {
			Alert  bool `json:"alert"`
			Output struct {
				Rule struct {
					ID string `json:"id"`
				} `json:"rule"`
			} `json:"output"`
		}
		if err := json.Unmarshal(answers[i], &ans); err != nil {
			t.Fatalf("oracle answer %d: %v", i+1, err)
		}
		id, _ := strconv.Atoi(ans.Output.Rule.ID)
		cases = append(cases, oracleCase{event: ev, data: ev[len(prefix) : len(ev)-len(suffix)],
			location: string(locations[i]), rule: id, alert: ans.Alert})
	}
	return cases
}

// throughPubSub publishes each case's data and returns the events the source
// makes of them, in the cases' order.
func throughPubSub(t *testing.T, cases []oracleCase) []event.Event {
	t.Helper()
	e := newEnv(t)
	index := map[string]int{}
	for i, c := range cases {
		index[unitOf("logs-sub", e.publish("logs", c.data)[0])] = i
	}
	set := e.settings(nil)
	set.Once = true
	s := e.newSource(t, e.config(), set)
	sk := &sink{}
	if err := s.Run(context.Background(), sk.emit); err != nil {
		t.Fatal(err)
	}
	out := make([]event.Event, len(cases))
	for _, g := range sk.all() {
		i, ok := index[g.unit]
		if !ok || out[i].Log != nil {
			t.Fatalf("unexpected or repeated event for %s", g.unit)
		}
		out[i] = g.ev
	}
	for i := range out {
		if out[i].Log == nil {
			t.Fatalf("no event for oracle case %d", i+1)
		}
	}
	return out
}

// TestWazuhOracleEvents: the audit log entries of the wazuh-oracle set,
// published to Pub/Sub and read by the source, become byte for byte the events
// Wazuh's GCP module sent for them, at the same location; and Wazuh's stock
// ruleset, run by skywatch's engine, picks for each the rule Wazuh picked.
func TestWazuhOracleEvents(t *testing.T) {
	cases := loadOracle(t)
	evs := throughPubSub(t, cases)
	rs, err := wazuhxml.Load([]string{sharedcorpus.Path(t, "corpus", "wazuh", "ruleset")}, rules.Options{ManagerName: "mgr"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := rules.NewEngine(rs, rules.EngineOptions{}).NewMatcher()
	for i, c := range cases {
		ev := evs[i]
		if !bytes.Equal(ev.Log, c.event) {
			t.Errorf("case %d: event\n%s\nwant Wazuh's\n%s", i+1, ev.Log, c.event)
		}
		if ev.Location != c.location {
			t.Errorf("case %d: location %q, want %q", i+1, ev.Location, c.location)
		}
		r := m.Process(&ev)
		if r.Rule == nil || r.Rule.ID != c.rule || r.Alert != c.alert {
			t.Errorf("case %d: stock rules gave %v (alert %v), Wazuh %d (alert %v)\n%s", i+1, r.Rule, r.Alert, c.rule, c.alert, ev.Log)
		}
	}
}

// TestBuiltinRulesFire: the same events through skywatch's built-in ruleset:
// every one is recognised as a GCP event, and the GCP detections expected of
// these audit entries fire.
func TestBuiltinRulesFire(t *testing.T) {
	cases := loadOracle(t)
	evs := throughPubSub(t, cases)
	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, rules.Options{ManagerName: "mgr"}, ruleset.FS())
	if err != nil {
		t.Fatal(err)
	}
	m := rules.NewEngine(rs, rules.EngineOptions{}).NewMatcher()
	fired := map[int]int{}
	for i, ev := range evs {
		r := m.Process(&ev)
		if r.Rule == nil || !inGroup(r.Rule.Groups, "gcp") {
			t.Errorf("case %d: no GCP rule matched (%v)\n%s", i+1, r.Rule, ev.Log)
			continue
		}
		if r.Alert {
			fired[r.Rule.ID]++
		}
	}
	var ids []string
	for id, n := range fired {
		ids = append(ids, strconv.Itoa(id)+"×"+strconv.Itoa(n))
	}
	sort.Strings(ids)
	t.Logf("built-in rules fired: %s", strings.Join(ids, " "))
	for _, id := range expectedBuiltin {
		if fired[id] == 0 {
			t.Errorf("rule %d did not fire", id)
		}
	}
}

func inGroup(groups []string, g string) bool {
	for _, x := range groups {
		if x == g {
			return true
		}
	}
	return false
}

// expectedBuiltin are built-in GCP rules the oracle set's entries trigger.
var expectedBuiltin = []int{400011, 400102, 400220, 400270, 400733, 65051, 65068, 65070, 65073}
