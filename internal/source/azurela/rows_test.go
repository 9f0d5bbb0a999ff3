package azurela

import (
	"encoding/json"
	"strings"
	"testing"
)

const sampleReply = `{"tables":[{"name":"PrimaryResult","columns":[
 {"name":"TimeGenerated","type":"datetime"},{"name":"Id","type":"guid"},{"name":"Big","type":"long"},
 {"name":"N","type":"int"},{"name":"Score","type":"real"},{"name":"Ok","type":"bool"},
 {"name":"Took","type":"timespan"},{"name":"Amount","type":"decimal"},{"name":"Props","type":"dynamic"},
 {"name":"List","type":"dynamic"},{"name":"Text","type":"dynamic"},{"name":"Missing","type":"dynamic"},
 {"name":"Raw","type":"string"}],
 "rows":[
  ["2024-05-01T10:00:00.1234567Z", "7d5a1c2e-0000-4000-8000-000000000001", 9223372036854775807, -3, 0.25, true,
   "00:01:02.5000000", "12.50", "{\"a\": {\"b\": [1, 2]}, \"c\": null}", "[\"x\", \"y\"]", "plain words", null, "{\"kept\":\"as text\"}"]
 ]}]}`

// TestTypedValues: each column keeps the API's JSON type, long values keep
// every digit, dynamic columns become the JSON they hold, other strings stay
// strings.
func TestTypedValues(t *testing.T) {
	tb, err := parseReply([]byte(sampleReply))
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter("la-tag")
	got, out, err := w.appendEvent(nil, tb, tb.rows[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"TimeGenerated":"2024-05-01T10:00:00.1234567Z","Id":"7d5a1c2e-0000-4000-8000-000000000001",` +
		`"Big":9223372036854775807,"N":-3,"Score":0.25,"Ok":true,"Took":"00:01:02.5000000","Amount":"12.50",` +
		`"Props":{"a":{"b":[1,2]},"c":null},"List":["x","y"],"Text":"plain words","Missing":null,` +
		`"Raw":"{\"kept\":\"as text\"}","azure_tag":"azure-log-analytics","log_analytics_tag":"la-tag"}`
	if string(got) != want {
		t.Errorf("event\n%s\nwant\n%s", got, want)
	}
	if out.time.UnixNano() != 1714557600123456700 {
		t.Errorf("time %v", out.time)
	}
	// The same row in another reply has the same key; an identical second
	// row of one reply has another.
	w.reset()
	_, again, _ := w.appendEvent(nil, tb, tb.rows[0])
	_, twin, _ := w.appendEvent(nil, tb, tb.rows[0])
	if again.key != out.key || twin.key == out.key {
		t.Errorf("keys %v %v %v", out.key, again.key, twin.key)
	}
}

// TestItemIDIsTheKey: with an _ItemId column, the key depends on it alone.
func TestItemIDIsTheKey(t *testing.T) {
	tb, err := parseReply([]byte(`{"tables":[{"name":"PrimaryResult","columns":[{"name":"_ItemId","type":"string"},{"name":"X","type":"long"}],
		"rows":[["id-1",1],["id-1",2],["id-2",1]]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter("t")
	var keys []rowKey
	for _, r := range tb.rows {
		_, out, err := w.appendEvent(nil, tb, r)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, out.key)
	}
	if keys[0] != keys[1] || keys[0] == keys[2] {
		t.Errorf("keys %v", keys)
	}
}

func TestParseReplyErrors(t *testing.T) {
	tb, err := parseReply([]byte(`{"tables":[{"name":"PrimaryResult","columns":[],"rows":[]}],
		"error":{"message":"There were some errors when processing your query.","code":"PartialError",
		"details":[{"innererror":{"message":"Query result set has exceeded the internal record count limit 500000 (E_QUERY_RESULT_SET_TOO_LARGE)"}}]}}`))
	if err != nil || !strings.HasPrefix(tb.partial, "PartialError: ") || !isLimit(tb.partial) {
		t.Errorf("partial reply: %v %q", err, tb.partial)
	}
	for _, bad := range []string{``, `{"tables":[{"columns":[],"rows":[`, `{}`, `[]`, `{"tables":"x"}`} {
		if _, err := parseReply([]byte(bad)); err == nil {
			t.Errorf("parseReply(%q) accepted", bad)
		}
	}
}

// FuzzReply: any reply body either fails to parse or yields, for every row,
// an error or a valid JSON object.
func FuzzReply(f *testing.F) {
	f.Add([]byte(sampleReply))
	f.Add([]byte(`{"tables":[{"columns":[{"name":"a","type":"dynamic"}],"rows":[["{\"x\":1}"],[" [1, {} ] "],[null],["\"q\""]]}]}`))
	f.Add([]byte(`{"tables":[{"columns":[{"name":"a","type":"string"}],"rows":[{"a":1},[],[1,2],"x"]}],"error":{"code":"PartialError"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tb, err := parseReply(body)
		if err != nil {
			return
		}
		w := newWriter("fuzz")
		for i, r := range tb.rows {
			ev, _, err := w.appendEvent(nil, tb, r)
			if err != nil {
				continue
			}
			var v map[string]any
			if err := json.Unmarshal(ev, &v); err != nil {
				t.Fatalf("row %d: invalid event %s: %v", i, ev, err)
			}
		}
	})
}
