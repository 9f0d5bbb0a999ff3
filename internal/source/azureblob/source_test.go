package azureblob

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"
)

// record is a diagnostic-log record as Azure writes it (compact), and want is
// the event Wazuh's module makes of it with tag t1.
func record(i int) string {
	return fmt.Sprintf(`{"time":"2024-05-01T10:%02d:00.5Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG","operationName":"SecretGet","category":"AuditEvent","durationMs":%d.0,"properties":{"n":"é\/%d"}}`, i%60, i, i)
}

func want(i int) string {
	return fmt.Sprintf(`{"time": "2024-05-01T10:%02d:00.5Z", "resourceId": "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG", "operationName": "SecretGet", "category": "AuditEvent", "durationMs": %d.0, "properties": {"n": "\u00e9/%d"}, "azure_tag": "azure-storage", "azure_storage_tag": "t1"}`, i%60, i, i)
}

func recordsDoc(from, to int) []byte {
	var b strings.Builder
	b.WriteString("{\"records\": [\n")
	for i := from; i < to; i++ {
		if i > from {
			b.WriteString(",\n")
		}
		b.WriteString(record(i))
	}
	b.WriteString("\n]}")
	return []byte(b.String())
}

func jsonLines(from, to int) []byte {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(record(i) + "\n")
	}
	return []byte(b.String())
}

func wants(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, want(i))
	}
	return out
}

func gz(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestJSONFileLayouts reads the three json_file layouts — a records document
// (flow logs), JSON lines (diagnostic logs since 2018) and a gzip blob — and
// nothing more on the next pass.
func TestJSONFileLayouts(t *testing.T) {
	cname, c := newContainer(t)
	day := "insights-logs-auditevent/resourceId=/SUBSCRIPTIONS/S/y=2024/m=05/d=03/"
	put(t, c, cname, day+"h=10/m=00/PT1H.json", recordsDoc(0, 5))
	put(t, c, cname, day+"h=11/m=00/PT1H.json", jsonLines(5, 12))
	put(t, c, cname, "exports/old.json.gz", gz(t, recordsDoc(12, 15)))
	put(t, c, cname, "exports/empty.json", nil)
	st := openStore(t, t.TempDir())
	s := newSource(t, baseConfig(cname), st, nil)
	col := &collector{}
	evs := runPass(t, s, col)
	if got, w := sorted(logs(evs)), sorted(wants(0, 15)); !slices.Equal(got, w) {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}
	for _, e := range evs {
		if e.Location != "Azure" || e.AgentID != "000" || e.AgentName != "mgr" || e.Origin.Source != "blob" ||
			!strings.HasPrefix(e.Origin.Unit, cname+"/") {
			t.Fatalf("event envelope %+v", e)
		}
	}
	if again := runPass(t, s, col); len(again) != 0 {
		t.Errorf("second pass read %d events again", len(again))
	}
	// A new source on the same checkpoint reads nothing either.
	if again := runPass(t, newSource(t, baseConfig(cname), st, nil), col); len(again) != 0 {
		t.Errorf("restarted source read %d events again", len(again))
	}
	if st := s.Stats(); st.Events != 15 || st.Units != 3 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestAppendedBlobs: an append blob of JSON lines and a block blob whose
// records array grows are read on from where they were left: only new records.
func TestAppendedBlobs(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode string
	}{{"append blob of lines", "append"}, {"growing records document", "array"}, {"gzip rewritten larger", "gzip"}} {
		t.Run(tc.name, func(t *testing.T) {
			cname, c := newContainer(t)
			name := "resourceId=/SUBSCRIPTIONS/S/y=2024/m=05/d=03/h=10/m=00/PT1H.json"
			ab := c.ServiceClient().NewContainerClient(cname).NewAppendBlobClient(name)
			ctx := context.Background()
			write := func(from, to int) {
				switch tc.mode {
				case "append":
					if from == 0 {
						if _, err := ab.Create(ctx, nil); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := ab.AppendBlock(ctx, nopCloser{bytes.NewReader(jsonLines(from, to))}, &appendblob.AppendBlockOptions{}); err != nil {
						t.Fatal(err)
					}
				case "array":
					put(t, c, cname, name, recordsDoc(0, to))
				case "gzip":
					put(t, c, cname, name, gz(t, jsonLines(0, to)))
				}
			}
			st := openStore(t, t.TempDir())
			s := newSource(t, baseConfig(cname), st, nil)
			col := &collector{}
			write(0, 4)
			if got := logs(runPass(t, s, col)); !slices.Equal(got, wants(0, 4)) {
				t.Fatalf("first pass:\n%s", strings.Join(got, "\n"))
			}
			write(4, 9)
			// A restarted source, to prove the position is in the checkpoint.
			s = newSource(t, baseConfig(cname), st, nil)
			if got := logs(runPass(t, s, col)); !slices.Equal(got, wants(4, 9)) {
				t.Fatalf("after growth:\n%s\nwant records 4-8", strings.Join(got, "\n"))
			}
			if got := runPass(t, s, col); len(got) != 0 {
				t.Fatalf("third pass read %d events", len(got))
			}
		})
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// TestContentTypes: json_inline splices the tags in, text prefixes them, as
// Wazuh's module does; bad lines are counted and skipped, the rest delivered.
func TestContentTypes(t *testing.T) {
	cname, c := newContainer(t)
	put(t, c, cname, "logs/a.log", []byte("{\"a\": 1}\n\n{}\r\nnot json\n[1]\n  {\"b\":\"x\"}\n"))
	cfg := baseConfig(cname)
	cfg.ContentType = JSONInline
	var buf bytes.Buffer
	s := newSource(t, cfg, openStore(t, t.TempDir()), &buf)
	got := logs(runPass(t, s, &collector{}))
	w := []string{
		`{"azure_tag": "azure-storage", "azure_storage_tag": "t1", "a": 1}`,
		`{"azure_tag": "azure-storage", "azure_storage_tag": "t1"}`,
		`{"azure_tag": "azure-storage", "azure_storage_tag": "t1", "b":"x"}`,
	}
	if !slices.Equal(got, w) {
		t.Errorf("json_inline:\n%s", strings.Join(got, "\n"))
	}
	// "not json" counts twice: the reader reports each bad token of the line.
	if s.Stats().Errors != 3 || !strings.Contains(buf.String(), "blob="+cname+"/logs/a.log offset=") {
		t.Errorf("errors %d, log:\n%s", s.Stats().Errors, buf.String())
	}

	cname, c = newContainer(t)
	put(t, c, cname, "logs/b.txt", []byte("first line\r\n\nsecond line"))
	cfg = baseConfig(cname)
	cfg.ContentType, cfg.Tag = Text, ""
	got = logs(runPass(t, newSource(t, cfg, openStore(t, t.TempDir()), nil), &collector{}))
	if w := []string{"azure_tag: azure-storage. first line", "azure_tag: azure-storage. second line"}; !slices.Equal(got, w) {
		t.Errorf("text:\n%q", got)
	}
}

// TestFilters: path prefix, blob name filter, only_logs_after on day folders
// and on last modification, and container "*".
func TestFilters(t *testing.T) {
	cname, c := newContainer(t)
	put(t, c, cname, "a/y=2024/m=04/d=30/h=00/PT1H.json", jsonLines(0, 1)) // before only_logs_after
	put(t, c, cname, "a/y=2024/m=05/d=02/h=00/PT1H.json", jsonLines(1, 2)) // read
	put(t, c, cname, "a/y=2024/m=05/d=02/h=00/PT1H.csv", jsonLines(2, 3))  // not .json
	put(t, c, cname, "b/y=2024/m=05/d=02/h=00/PT1H.json", jsonLines(3, 4)) // outside path
	put(t, c, cname, "a/nested/deeper/x.json", jsonLines(4, 5))            // undated, modified now: read
	cfg := baseConfig(cname)
	cfg.Path, cfg.Blobs, cfg.OnlyLogsAfter = "a/", ".json", "2024-05-01"
	got := logs(runPass(t, newSource(t, cfg, openStore(t, t.TempDir()), nil), &collector{}))
	if !slices.Equal(sorted(got), sorted([]string{want(1), want(4)})) {
		t.Errorf("got:\n%s", strings.Join(got, "\n"))
	}
	// An only_logs_after later than the undated blob's modification leaves it.
	cfg.OnlyLogsAfter = "2999-01-01"
	if got := runPass(t, newSource(t, cfg, openStore(t, t.TempDir()), nil), &collector{}); len(got) != 0 {
		t.Errorf("only_logs_after in the future read %d events", len(got))
	}
	// Container "*" reads every container (this one included).
	cfg = baseConfig("*")
	cfg.Path, cfg.Blobs, cfg.OnlyLogsAfter = "a/", ".json", "2024-05-01"
	all := logs(runPass(t, newSource(t, cfg, openStore(t, t.TempDir()), nil), &collector{}))
	for _, w := range []string{want(1), want(4)} {
		if !slices.Contains(all, w) {
			t.Errorf("container * did not read %s", w)
		}
	}
}

// TestDaysCloseAndForget: a day folder older than the re-read window, fully
// read, is closed: the root's cursor moves past it and its blob entries are
// deleted, so state stays small; the open days keep theirs.
func TestDaysCloseAndForget(t *testing.T) {
	cname, c := newContainer(t)
	root := "r/"
	for d := 1; d <= 3; d++ { // May 1 and 2 closed at May 3 12:00 with a 1h window; May 3 open
		for h := 0; h < 3; h++ {
			put(t, c, cname, fmt.Sprintf("%sy=2024/m=05/d=%02d/h=%02d/m=00/PT1H.json", root, d, h), jsonLines(d*10+h, d*10+h+1))
		}
	}
	cfg := baseConfig(cname)
	cfg.OnlyLogsAfter, cfg.RereadWindow = "2024-04-28", 3600e9
	st := openStore(t, t.TempDir())
	evs := runPass(t, newSource(t, cfg, st, nil), &collector{})
	if len(evs) != 9 {
		t.Fatalf("read %d events, want 9", len(evs))
	}
	keys := keysOf(t, st)
	if n := countPrefix(keys, datedPrefix); n != 3 {
		t.Errorf("%d blob entries kept, want the open day's 3: %q", n, keys)
	}
	v, _, _ := st.Get("blob", cursorPrefix+cname+"|"+root)
	if string(v) != "2024-05-03" {
		t.Errorf("cursor %q, want 2024-05-03", v)
	}
	// A blob arriving in the open day is read; nothing else is read again.
	put(t, c, cname, root+"y=2024/m=05/d=03/h=09/m=00/PT1H.json", jsonLines(99, 100))
	if got := logs(runPass(t, newSource(t, cfg, st, nil), &collector{})); !slices.Equal(got, []string{want(99)}) {
		t.Errorf("second pass: %q", got)
	}
}
