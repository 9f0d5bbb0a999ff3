package opensearch_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/opensearch"
)

func TestDeliversInDailyIndexesWithTemplateFirst(t *testing.T) {
	for _, product := range []opensearch.Product{opensearch.OpenSearch, opensearch.Elasticsearch} {
		t.Run(string(product), func(t *testing.T) {
			f := newFakeES(t, string(product))
			cfg := testConfig(f.url())
			cfg.BulkMaxDocs = 1000
			h := newSink(t, product, cfg)
			recs := append(mkAlerts(0, 1500, day0), mkAlerts(1500, 1000, day0.Add(2*time.Minute))...) // across midnight UTC
			h.deliver(t, recs)
			checkExactlyOnce(t, f, recs, true)

			docs := f.docs()
			if d := docs[recs[0].ID]; d.index != "skywatch-alerts-2024.05.01" {
				t.Errorf("first alert in index %q", d.index)
			}
			if d := docs[recs[2400].ID]; d.index != "skywatch-alerts-2024.05.02" {
				t.Errorf("alert after midnight UTC in index %q", d.index)
			}
			var doc map[string]any
			_ = json.Unmarshal(docs[recs[0].ID].doc, &doc)
			if doc["@timestamp"] != "2024-05-01T23:59:00.000Z" || doc["timestamp"] != "2024-05-01T23:59:00.000+0000" {
				t.Errorf("timestamps: %v / %v", doc["@timestamp"], doc["timestamp"])
			}

			reqs := f.requests()
			if len(reqs) != 4 || reqs[0].method != "PUT" {
				t.Fatalf("requests: %+v, want the template PUT then 3 bulks", reqs)
			}
			for _, r := range reqs[1:] {
				if r.path != "/_bulk" || r.headers.Get("Content-Type") != "application/x-ndjson" || !strings.Contains(r.query, "filter_path=") {
					t.Errorf("bulk request %s?%s type %s", r.path, r.query, r.headers.Get("Content-Type"))
				}
			}
			if n := reqs[1].items; n != 1000 {
				t.Errorf("first bulk had %d items, want bulk_max_docs 1000", n)
			}
			st := h.s.Stats()
			if st.Accepted != 2500 || st.Sent != 2500 || st.Buffered != 0 || st.Requests != 3 || st.Dropped != 0 || !st.TemplateInstalled || st.BytesSent == 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestReplayIsRecognised(t *testing.T) {
	f := newFakeES(t, "opensearch")
	cfg := testConfig(f.url())
	recs := mkAlerts(0, 300, day0)
	newSink(t, opensearch.OpenSearch, cfg).deliver(t, recs)

	// A restart re-reads the same unit: same ids, refused as existing.
	h := newSink(t, opensearch.OpenSearch, cfg)
	h.deliver(t, recs)
	checkExactlyOnce(t, f, recs, true)
	if st := h.s.Stats(); st.Existing != 300 || st.Sent != 0 {
		t.Errorf("stats %+v, want 300 existing", st)
	}

	// With action index, a replay overwrites in place.
	cfg.Action = "index"
	h = newSink(t, opensearch.OpenSearch, cfg)
	h.deliver(t, recs[:10])
	if got := len(f.docs()); got != 300 {
		t.Errorf("%d documents after an index replay", got)
	}
	if st := h.s.Stats(); st.Sent != 10 {
		t.Errorf("stats %+v", st)
	}
}

func TestWholeRequestFailuresAreRetriedHonouringRetryAfter(t *testing.T) {
	f := newFakeES(t, "opensearch")
	f.requestFails = []fakeFault{{status: 503}, {status: 429, retryAfter: "1"}, {status: 502}}
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	cfg.RetryMax = config.Duration(2 * time.Second) // caps Retry-After
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 50, day0)
	h.deliver(t, recs)
	checkExactlyOnce(t, f, recs, true)

	reqs := f.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 3 failures and a success", len(reqs))
	}
	if gap := reqs[2].at.Sub(reqs[1].at); gap < 900*time.Millisecond {
		t.Errorf("the request after Retry-After: 1 came %v after the 429", gap)
	}
	if st := h.s.Stats(); st.RequestErrors != 3 || st.Retries != 150 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestFlushFailsAfterAttemptsAndKeepsAlerts(t *testing.T) {
	f := newFakeES(t, "opensearch")
	f.requestFails = []fakeFault{{status: 503}, {status: 503}, {status: 503}, {status: 503}, {status: 503}}
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	cfg.RetryAttempts = 2
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 20, day0)
	ctx := context.Background()
	if err := h.s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	err := h.s.Flush(ctx)
	if err == nil || !strings.Contains(err.Error(), "20 alerts not indexed") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("flush error = %v", err)
	}
	if st := h.s.Stats(); st.Buffered != 20 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
	// Two more failures (attempts 2), then the server answers.
	if err := h.s.Flush(ctx); err == nil {
		t.Fatal("second flush succeeded with the server failing")
	}
	if err := h.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, f, recs, true)
}

func TestPerItemOutcomes(t *testing.T) {
	for _, product := range []opensearch.Product{opensearch.OpenSearch, opensearch.Elasticsearch} {
		t.Run(string(product), func(t *testing.T) {
			f := newFakeES(t, string(product))
			cfg := testConfig(f.url())
			cfg.InstallTemplate = false // dynamic mapping, so a conflict happens
			h := newSink(t, product, cfg)

			// Already there: 409 on create, counted as done.
			pre := mkAlerts(0, 5, day0)
			h.deliver(t, pre)

			recs := mkAlerts(0, 40, day0)
			// Two alerts whose requestParameters is a string where the
			// index has an object: refused for good.
			bad := []sink.Record{mkAlert(100, day0, cloudtrail(`"i-1"`)), mkAlert(101, day0, cloudtrail(`"i-2"`))}
			recs = append(recs, bad...)
			rejected := map[string]int{recs[10].ID: 429, recs[11].ID: 429, recs[12].ID: 503, recs[13].ID: 500}
			f.set(func(f *fakeES) {
				f.itemFault = func(id string, seen int) (int, string) {
					if st := rejected[id]; st != 0 && seen <= 2 {
						if st == 429 {
							return st, "es_rejected_execution_exception"
						}
						return st, "unavailable_shards_exception"
					}
					return 0, ""
				}
			})
			h.deliver(t, recs)

			good := recs[:40]
			checkExactlyOnce(t, f, good, true)
			dl := h.deadLetters(t)
			if len(dl) != 2 {
				t.Fatalf("dead letters: %+v", dl)
			}
			wantType := "mapper_parsing_exception"
			if product == opensearch.Elasticsearch {
				wantType = "document_parsing_exception"
			}
			for i, d := range dl {
				if d.ID != bad[i].ID || d.Status != 400 || d.Error.Type != wantType || !strings.Contains(d.Error.Reason, "requestParameters") ||
					d.Output != "search" || d.Index != "skywatch-alerts-2024.05.01" {
					t.Errorf("dead letter %d: %+v", i, d)
				}
				var a map[string]any
				if err := json.Unmarshal(d.Alert, &a); err != nil || a["id"] != bad[i].ID {
					t.Errorf("dead letter %d holds %s", i, d.Alert)
				}
			}
			st := h.s.Stats()
			if st.DeadLettered != 2 || st.Existing != 5 || st.Sent != 5+35 || st.Buffered != 0 || st.Retries != 8 || st.Dropped != 0 {
				t.Errorf("stats %+v", st)
			}
			if !strings.Contains(h.log.String(), "dead-letter") {
				t.Errorf("the dead-lettering was not logged: %s", h.log)
			}
		})
	}
}

func TestItemRefusedForAReasonRetryCannotFix(t *testing.T) {
	f := newFakeES(t, "opensearch")
	f.itemFault = func(id string, seen int) (int, string) {
		if seen <= 1 {
			return 403, "security_exception"
		}
		return 0, ""
	}
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 3, day0)
	ctx := context.Background()
	_ = h.s.Write(ctx, recs)
	err := h.s.Flush(ctx)
	if err == nil || !strings.Contains(err.Error(), "security_exception") {
		t.Fatalf("flush error %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests: a 403 must not be retried within the flush", n)
	}
	if err := h.s.Flush(ctx); err != nil { // permission granted meanwhile
		t.Fatal(err)
	}
	checkExactlyOnce(t, f, recs, true)
	if len(h.deadLetters(t)) != 0 {
		t.Error("a permission error was dead-lettered")
	}
}

func TestConnectionDropMidResponse(t *testing.T) {
	for _, action := range []string{"create", "index"} {
		t.Run(action, func(t *testing.T) {
			f := newFakeES(t, "opensearch")
			f.dropNext = 2
			cfg := testConfig(f.url())
			cfg.Action = action
			cfg.InstallTemplate = false
			h := newSink(t, opensearch.OpenSearch, cfg)
			recs := mkAlerts(0, 200, day0)
			h.deliver(t, recs)
			checkExactlyOnce(t, f, recs, action == "create")
			st := h.s.Stats()
			if st.RequestErrors != 2 {
				t.Errorf("stats %+v, want 2 request errors", st)
			}
			if action == "create" && st.Existing != 200 {
				t.Errorf("stats %+v: the resent alerts should be found existing", st)
			}
		})
	}
}

func TestSlowResponseTimesOutAndIsRetried(t *testing.T) {
	f := newFakeES(t, "opensearch")
	f.delayNext, f.delay = 1, 3*time.Second
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	cfg.Timeout = config.Duration(300 * time.Millisecond)
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 30, day0)
	h.deliver(t, recs)
	checkExactlyOnce(t, f, recs, true)
	if st := h.s.Stats(); st.RequestErrors != 1 || st.Existing != 30 {
		t.Errorf("stats %+v", st)
	}
}

func TestWholeRequestRefusalIsNarrowedToTheAlertAtFault(t *testing.T) {
	f := newFakeES(t, "opensearch")
	f.rejectMarker = "POISON"
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 64, day0)
	poison := mkAlert(999, day0, `{"note":"POISON"}`)
	all := append(append(append([]sink.Record(nil), recs[:30]...), poison), recs[30:]...)
	h.deliver(t, all)
	checkExactlyOnce(t, f, recs, true)
	dl := h.deadLetters(t)
	if len(dl) != 1 || dl[0].ID != poison.ID || dl[0].Error.Type != "x_content_parse_exception" {
		t.Fatalf("dead letters %+v", dl)
	}
}

// A request refused as a whole for what it is, not for an alert in it, is
// not narrowed down: that would dead-letter every alert.
func TestWholeRequestRefusedForTheClusterIsNotDeadLettered(t *testing.T) {
	f := newFakeES(t, "elasticsearch")
	f.requestFails = []fakeFault{{status: 400, typ: "illegal_argument_exception"}}
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	h := newSink(t, opensearch.Elasticsearch, cfg)
	recs := mkAlerts(0, 8, day0)
	ctx := context.Background()
	_ = h.s.Write(ctx, recs)
	if err := h.s.Flush(ctx); err == nil || !strings.Contains(err.Error(), "illegal_argument_exception") {
		t.Fatalf("flush error %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1: neither retried nor split", n)
	}
	if err := h.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, f, recs, true)
	if dl := h.deadLetters(t); len(dl) != 0 {
		t.Errorf("dead letters %+v", dl)
	}
}

func TestTooLargeRequestIsSplit(t *testing.T) {
	f := newFakeES(t, "opensearch")
	f.maxBody = 20 << 10
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 100, day0) // about 60KiB in one request
	huge := mkAlert(500, day0, `{"blob":"`+strings.Repeat("x", 30<<10)+`"}`)
	h.deliver(t, append(recs, huge))
	checkExactlyOnce(t, f, recs, true)
	if dl := h.deadLetters(t); len(dl) != 1 || dl[0].ID != huge.ID || dl[0].Status != 413 {
		t.Fatalf("dead letters %+v", dl)
	}
}

func TestGzipAndHeaders(t *testing.T) {
	f := newFakeES(t, "opensearch")
	cfg := testConfig(f.url())
	cfg.Compress = true
	cfg.InstallTemplate = false
	cfg.Headers = map[string]config.Secret{"VL-Msg-Field": "rule.description", "X-Tenant": "blue"}
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 500, day0)
	h.deliver(t, recs)
	checkExactlyOnce(t, f, recs, true)
	r := f.requests()[0]
	if !r.gzipped || r.headers.Get("VL-Msg-Field") != "rule.description" || r.headers.Get("X-Tenant") != "blue" {
		t.Errorf("request headers %v", r.headers)
	}
	if st := h.s.Stats(); st.BytesSent > 100<<10 {
		t.Errorf("%d bytes sent for 500 alerts: not compressed?", st.BytesSent)
	}
}

func TestConcurrentRequests(t *testing.T) {
	f := newFakeES(t, "opensearch")
	f.itemFault = func(id string, seen int) (int, string) {
		if seen == 1 && id[0] < '4' {
			return 429, "es_rejected_execution_exception"
		}
		return 0, ""
	}
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	cfg.Concurrency = 4
	cfg.BulkMaxDocs = 50
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 1000, day0)
	h.deliver(t, recs)
	checkExactlyOnce(t, f, recs, true)
}

func TestWriteCopiesAndCoalesces(t *testing.T) {
	f := newFakeES(t, "opensearch")
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 10, day0)
	want := make([]sink.Record, len(recs))
	for i, r := range recs {
		want[i] = r
		want[i].JSON = append([]byte(nil), r.JSON...)
	}
	ctx := context.Background()
	if err := h.s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs { // the pipeline reuses its arena after Write
		for i := range r.JSON {
			r.JSON[i] = 'X'
		}
	}
	if err := h.s.Write(ctx, want[:4]); err != nil { // a redelivery before the flush
		t.Fatal(err)
	}
	if err := h.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, f, want, true)
	if st := h.s.Stats(); st.Accepted != 14 || st.Coalesced != 4 || st.Sent != 10 {
		t.Errorf("stats %+v", st)
	}
}

func TestInvalidAlertIsDeadLetteredWithoutSending(t *testing.T) {
	f := newFakeES(t, "opensearch")
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	h := newSink(t, opensearch.OpenSearch, cfg)
	recs := mkAlerts(0, 3, day0)
	multi := mkAlert(7, day0, `{"a": 1}`)
	multi.JSON = []byte(strings.Replace(string(multi.JSON), `"rule":`, "\n  \"rule\":", 1)) // valid, but two lines
	broken := sink.Record{JSON: []byte("not json\nat all"), ID: "broken-1"}
	h.deliver(t, append(recs, multi, broken))
	checkExactlyOnce(t, f, append(recs, multi), true)
	dl := h.deadLetters(t)
	if len(dl) != 1 || dl[0].ID != "broken-1" || dl[0].Error.Type != "invalid_alert" || dl[0].AlertText != "not json\nat all" {
		t.Fatalf("dead letters %+v", dl)
	}
}

func TestBufferLimitRefusesBatches(t *testing.T) {
	f := newFakeES(t, "opensearch")
	f.stop() // nothing listens
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	cfg.RetryAttempts = 1
	cfg.BulkMaxBytes = 4 << 10
	cfg.MaxBuffered = 8 << 10
	h := newSink(t, opensearch.OpenSearch, cfg)
	ctx := context.Background()
	var refused bool
	for i := 0; i < 100 && !refused; i++ {
		err := h.s.Write(ctx, mkAlerts(i*5, 5, day0))
		refused = errors.Is(err, opensearch.ErrBufferFull)
		if err != nil && !refused {
			t.Fatal(err)
		}
	}
	st := h.s.Stats()
	if !refused || st.Refused != 5 || st.BufferedBytes < 8<<10 || st.BufferedBytes > 16<<10 {
		t.Fatalf("refused=%v stats %+v", refused, st)
	}
	if err := h.s.Flush(ctx); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("flush with the server down: %v", err)
	}
}

func TestDataStream(t *testing.T) {
	for _, product := range []opensearch.Product{opensearch.OpenSearch, opensearch.Elasticsearch} {
		t.Run(string(product), func(t *testing.T) {
			f := newFakeES(t, string(product))
			cfg := testConfig(f.url())
			cfg.DataStream = "logs-skywatch-default"
			h := newSink(t, product, cfg)
			recs := mkAlerts(0, 20, day0)
			h.deliver(t, recs)
			checkExactlyOnce(t, f, recs, true)
			for id, d := range f.docs() {
				if d.index != "logs-skywatch-default" {
					t.Fatalf("alert %s in %s", id, d.index)
				}
			}
			tm, ok := f.template("skywatch-alerts")
			if !ok || !tm.dataStream || len(tm.patterns) != 1 || tm.patterns[0] != "logs-skywatch-default" {
				t.Errorf("template %+v", tm)
			}
		})
	}
}
