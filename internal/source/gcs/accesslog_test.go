package gcs

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

const usageHeader = `"time_micros","c_ip","c_ip_type","c_ip_region","cs_method","cs_uri","sc_status","cs_bytes","sc_bytes","time_taken_micros","cs_host","cs_referer","cs_user_agent","s_request_id","cs_operation","cs_bucket","cs_object"`

// usageRow is a row as Cloud Storage writes it: every field quoted.
func usageRow(reqID, ip, agent string) string {
	vals := []string{"1714557600000001", ip, "1", "", "GET", "/storage/v1/b/acme/o/r%C3%A9sum%C3%A9.pdf?alt=media", "200", "0", "1024", "3000",
		"storage.googleapis.com", "", agent, reqID, "storage.objects.get", "acme", "résumé.pdf"}
	for i, v := range vals {
		vals[i] = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
	}
	return strings.Join(vals, ",")
}

// What Python's json.dumps makes of the row (Wazuh's module), computed with
// Python: keys in header order, strings, \u escapes, the source tag last.
const wantUsageEvent = `{"integration": "gcp", "gcp": {"time_micros": "1714557600000001", "c_ip": "203.0.113.9", "c_ip_type": "1", "c_ip_region": "", "cs_method": "GET", "cs_uri": "/storage/v1/b/acme/o/r%C3%A9sum%C3%A9.pdf?alt=media", "sc_status": "200", "cs_bytes": "0", "sc_bytes": "1024", "time_taken_micros": "3000", "cs_host": "storage.googleapis.com", "cs_referer": "", "cs_user_agent": "Mozilla/5.0 (X11; Linux), \"curl\" \u00e9 \ud83d\ude00", "s_request_id": "AB12cd", "cs_operation": "storage.objects.get", "cs_bucket": "acme", "cs_object": "r\u00e9sum\u00e9.pdf", "source": "gcp_bucket"}}`

// readAll runs an access-log reader over text and returns its events and the
// bad records it reported.
func readAll(t *testing.T, text string) (events []string, bad []*badRecord) {
	t.Helper()
	r := newAccessLogReader(strings.NewReader(text), 0)
	for {
		ev, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			return events, bad
		}
		var b *badRecord
		if errors.As(err, &b) {
			bad = append(bad, b)
			if b.last {
				return events, bad
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, string(ev))
	}
}

func TestAccessLogRowsBecomeWazuhEvents(t *testing.T) {
	text := usageHeader + "\n" + usageRow("AB12cd", "203.0.113.9", `Mozilla/5.0 (X11; Linux), "curl" é 😀`) + "\r\n\n"
	evs, bad := readAll(t, text)
	if len(bad) != 0 || len(evs) != 1 {
		t.Fatalf("%d events, bad %v", len(evs), bad)
	}
	if evs[0] != wantUsageEvent {
		t.Fatalf("event\n%s\nwant (Python json.dumps)\n%s", evs[0], wantUsageEvent)
	}

	// Broken rows are reported with their line and skipped; the rows around
	// them are kept.
	text = usageHeader + "\n" + usageRow("r1", "192.0.2.1", "a") + "\n" +
		`"1","2"` + "\n" + // too few fields
		`"1","unterminated` + "\n" +
		usageRow("r2", "192.0.2.2", "b") + "\n"
	evs, bad = readAll(t, text)
	if len(evs) != 2 || len(bad) != 2 || bad[0].line != 3 || bad[1].line != 4 || !strings.Contains(bad[1].Error(), "line 4") {
		t.Fatalf("events %d, bad %v", len(evs), bad)
	}

	// Repeated and "source" header names behave as Python's dict does.
	evs, _ = readAll(t, "a,source,a\n1,2,3\n")
	if len(evs) != 1 || evs[0] != `{"integration": "gcp", "gcp": {"a": "3", "source": "gcp_bucket"}}` {
		t.Fatalf("got %v", evs)
	}
}

// The shared corpus holds Wazuh's own test event for a usage log row: the same
// row, written as Cloud Storage writes it, must give the same bytes.
func TestAccessLogMatchesWazuhTestEvent(t *testing.T) {
	f, err := os.Open(sharedcorpus.Path(t, "corpus", "wazuh", "ruleset-tests", "gcp.ini"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, `"s_request_id"`) && strings.HasPrefix(l, "log 1 pass = ") {
			want = strings.TrimPrefix(l, "log 1 pass = ")
		}
	}
	if want == "" {
		t.Fatal("gcp.ini has no usage-log case")
	}
	// Rebuild the CSV from the event's fields, in order.
	dec := json.NewDecoder(strings.NewReader(want))
	var names, vals []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' {
				depth++
			}
		case string:
			if depth == 2 {
				var val string
				if err := dec.Decode(&val); err != nil {
					t.Fatal(err)
				}
				if v != "source" {
					names, vals = append(names, `"`+v+`"`), append(vals, `"`+val+`"`)
				}
			}
		}
	}
	evs, bad := readAll(t, strings.Join(names, ",")+"\n"+strings.Join(vals, ",")+"\n")
	if len(bad) != 0 || len(evs) != 1 || evs[0] != want {
		t.Fatalf("got %v (bad %v)\nwant %s", evs, bad, want)
	}
}

func TestAccessLogLayout(t *testing.T) {
	f := newFakeGCS(t)
	row := func(id string) string { return usageHeader + "\n" + usageRow(id, "192.0.2.7", "gsutil") + "\n" }
	f.put("logs/acme_usage_2024_05_01_09_00_00_00a1b2_v0", []byte(row("u1")), "")
	f.put("logs/acme_usage_2024_05_01_10_00_00_00a1b3_v0", []byte(row("u2")), "")
	f.put("logs/acme_usage_2024_04_30_10_00_00_00a1b3_v0", []byte(row("old")), "") // before only_logs_after
	f.put("logs/acme_storage_2024_05_01_07_00_00_00c3_v0", []byte("\"bucket\",\"storage_byte_hours\"\n\"acme\",\"15674\"\n"), "")
	f.put("logs/my_usage_bucket_usage_2024_05_01_08_00_00_0ff_v0", []byte(row("u3")), "")
	f.put("logs/notes.txt", []byte("x"), "")
	f.put("logs/archive/acme_usage_2024_05_01_11_00_00_00a1b4_v0", []byte(row("sub")), "") // not read: Wazuh reads one level
	f.put("other_usage_2024_05_01_09_00_00_00a1b2_v0", []byte(row("outside")), "")

	cfg := testConfig(AccessLogs)
	cfg.Path = "logs"
	c := &collector{}
	poll(t, newSource(t, cfg, openState(t, t.TempDir()), noon, nil), c)
	got := strings.Join(c.keys(), " ")
	for _, want := range []string{"acme_usage_2024_05_01_09", "acme_usage_2024_05_01_10", "acme_storage_2024_05_01_07", "my_usage_bucket_usage_2024_05_01_08"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s not read", want)
		}
	}
	if len(c.events) != 4 {
		t.Fatalf("read %v; want the 4 logs of May 1 under logs/", got)
	}
	for _, e := range c.events {
		if strings.Contains(e.unit, "storage_2024") && e.log != `{"integration": "gcp", "gcp": {"bucket": "acme", "storage_byte_hours": "15674", "source": "gcp_bucket"}}` {
			t.Errorf("storage log event %s", e.log)
		}
	}
}

// FuzzAccessLog: any object content gives valid JSON events tagged as Wazuh
// tags them, offsets that grow, and no panic; where encoding/csv accepts a
// line, the fields agree with it.
func FuzzAccessLog(f *testing.F) {
	f.Add(usageHeader + "\n" + usageRow("r", "192.0.2.1", `a, "b"`) + "\n")
	f.Add("a,b\n\"x\"\"y\",z\r\n,\n\"\n")
	f.Add("\"a\"x,b\n1,2")
	f.Add("a\n\xff\x00\x7f\n")
	f.Fuzz(func(t *testing.T, text string) {
		r := newAccessLogReader(strings.NewReader(text), 1<<10)
		last := int64(-1)
		for i := 0; ; i++ {
			ev, off, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var b *badRecord
			if errors.As(err, &b) {
				if b.last {
					break
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if off <= last {
				t.Fatalf("offset %d after %d", off, last)
			}
			last = off
			var m map[string]any
			if err := json.Unmarshal(ev, &m); err != nil || m["integration"] != "gcp" {
				t.Fatalf("event %q: %v", ev, err)
			}
			if g, _ := m["gcp"].(map[string]any); g["source"] != "gcp_bucket" {
				t.Fatalf("event %q lacks the tag", ev)
			}
		}
		for _, line := range strings.Split(text, "\n") {
			if strings.ContainsAny(line, "\r") || line == "" {
				continue
			}
			spans, err := splitCSV([]byte(line), nil)
			cr := csv.NewReader(strings.NewReader(line))
			cr.FieldsPerRecord = -1
			want, cerr := cr.Read()
			if err != nil || cerr != nil {
				continue
			}
			if len(spans) != len(want) {
				t.Fatalf("%q: %d fields, encoding/csv %d", line, len(spans), len(want))
			}
			for i, sp := range spans {
				if got := string(unquote([]byte(line), sp)); got != want[i] && !bytes.ContainsAny([]byte(line), " \t") {
					t.Fatalf("%q field %d: %q, encoding/csv %q", line, i, got, want[i])
				}
			}
		}
	})
}

// FuzzExportLines: any object content gives events that are valid JSON
// objects wrapped as Wazuh wraps them, with growing offsets, and no panic.
func FuzzExportLines(f *testing.F) {
	f.Add(string(entries(2, "a")) + "{\"x\":\n[1]\n{}\n")
	f.Add("{\"a\":1}\r\n\n  {\"b\":\"\\u00e9\"}  \n{")
	f.Fuzz(func(t *testing.T, text string) {
		r := newExportReader(strings.NewReader(text), 1<<10)
		last := int64(-1)
		for {
			ev, off, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if b, ok := err.(*badRecord); ok {
				if b.last {
					return
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if off <= last {
				t.Fatalf("offset %d after %d", off, last)
			}
			last = off
			var m map[string]json.RawMessage
			if err := json.Unmarshal(ev, &m); err != nil || string(m["integration"]) != `"gcp"` || m["gcp"][0] != '{' {
				t.Fatalf("event %q: %v", ev, err)
			}
		}
	})
}
