package opensearch_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/opensearch"
)

var update = flag.Bool("update", false, "rewrite the shipped templates in deploy/opensearch")

var shipped = map[opensearch.Product]string{
	opensearch.OpenSearch:    "../../../deploy/opensearch/skywatch-alerts-template.json",
	opensearch.Elasticsearch: "../../../deploy/opensearch/skywatch-alerts-template.elasticsearch.json",
}

// The files in deploy/ are what the output installs with the default
// configuration; go test -update rewrites them.
func TestShippedTemplatesAreTheGeneratedOnes(t *testing.T) {
	for product, path := range shipped {
		want, err := opensearch.Template(product, opensearch.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from opensearch.Template(%s, DefaultConfig()); run go test -update", filepath.Base(path), product)
		}
	}
}

// lookup walks the template's mapping properties.
func lookup(t *testing.T, tmpl map[string]any, path string) map[string]any {
	t.Helper()
	m := tmpl["template"].(map[string]any)["mappings"].(map[string]any)
	for _, name := range strings.Split(path, ".") {
		props, ok := m["properties"].(map[string]any)
		if !ok {
			t.Fatalf("%s: no properties above %s", path, name)
		}
		if m, ok = props[name].(map[string]any); !ok {
			t.Fatalf("%s: %s not mapped", path, name)
		}
	}
	return m
}

func TestTemplateContent(t *testing.T) {
	for product, flat := range map[opensearch.Product]string{opensearch.OpenSearch: "flat_object", opensearch.Elasticsearch: "flattened"} {
		raw, err := opensearch.Template(product, opensearch.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		var tm map[string]any
		if err := json.Unmarshal(raw, &tm); err != nil {
			t.Fatal(err)
		}
		if p := tm["index_patterns"].([]any); len(p) != 1 || p[0] != "skywatch-alerts-*" {
			t.Errorf("%s: index_patterns %v", product, p)
		}
		if _, ok := tm["data_stream"]; ok {
			t.Errorf("%s: data_stream in the daily-index template", product)
		}
		for path, typ := range map[string]string{
			"timestamp": "date", "@timestamp": "date", "rule.level": "integer", "rule.id": "keyword", "id": "keyword",
			"agent.id": "keyword", "rule.groups": "keyword", "rule.mitre.id": "keyword",
			"data.srcip": "keyword", "data.aws.sourceIPAddress": "keyword", "data.gcp.protoPayload.requestMetadata.callerIp": "keyword",
			"data.aws.requestParameters": flat, "data.aws.responseElements": flat, "data.aws.additionalEventData": flat,
			"data.aws.serviceEventDetails": flat, "data.gcp.protoPayload.request": flat, "data.gcp.protoPayload.response": flat,
			"data.gcp.protoPayload.metadata": flat, "data.properties": flat, "data.Properties": flat,
		} {
			if got := lookup(t, tm, path)["type"]; got != typ {
				t.Errorf("%s: %s is %v, want %s", product, path, got, typ)
			}
		}
		mappings := tm["template"].(map[string]any)["mappings"].(map[string]any)
		if mappings["date_detection"] != false {
			t.Errorf("%s: date detection on", product)
		}
		dyn, _ := json.Marshal(mappings["dynamic_templates"])
		if !strings.Contains(string(dyn), `"match_mapping_type":"string"`) || !strings.Contains(string(dyn), `"ignore_above":1024`) ||
			!strings.Contains(string(dyn), `{"ignore_malformed":true,"type":"long"},"match_mapping_type":"long"`) {
			t.Errorf("%s: dynamic templates %s", product, dyn)
		}
	}
	cfg := opensearch.DefaultConfig()
	cfg.Index = "alerts-prod-%Y.%m"
	raw, _ := opensearch.Template(opensearch.OpenSearch, cfg)
	if !strings.Contains(string(raw), `"alerts-prod-*"`) {
		t.Errorf("custom index pattern not in the template: %s", raw[:200])
	}
}

// conflicting returns alerts whose free-form fields change shape from one
// event to the next, as CloudTrail, GCP audit and Azure logs do.
func conflicting() []sink.Record {
	data := []string{
		cloudtrail(`{"filter":"running"}`),
		cloudtrail(`{"filter":{"name":"instance-state-name","values":["running"]}}`),
		`{"integration":"aws","aws":{"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"sourceIPAddress":"203.0.113.7"}}`,
		`{"integration":"aws","aws":{"responseElements":{"ConsoleLogin":{"x":1}},"additionalEventData":{"MFAUsed":{"y":true}},"sourceIPAddress":"cloudformation.amazonaws.com"}}`,
		`{"integration":"gcp","gcp":{"protoPayload":{"request":{"policy":"p"},"metadata":{"event":"e"}},"labels":{"authorization.k8s.io/decision":"allow"}}}`,
		`{"integration":"gcp","gcp":{"protoPayload":{"request":{"policy":{"bindings":[{"role":"owner"}]}},"metadata":{"event":[{"eventType":"login"}]}},"labels":{"authorization":"x"}}}`,
		`{"operationName":"MICROSOFT.WEB/SITES/WRITE","properties":{"statusCode":"Created"},"Properties":{"a":"b"}}`,
		`{"operationName":"MICROSOFT.WEB/SITES/WRITE","properties":{"statusCode":{"value":201}},"Properties":{"a":{"b":"c"}}}`,
		`{"integration":"aws","aws":{"errorCode":5}}`,
		`{"integration":"aws","aws":{"errorCode":"AccessDenied"}}`,
	}
	out := make([]sink.Record, len(data))
	for i, d := range data {
		out[i] = mkAlert(2000+i, day0, d)
	}
	return out
}

func TestTemplatePreventsMappingConflicts(t *testing.T) {
	for _, product := range []opensearch.Product{opensearch.OpenSearch, opensearch.Elasticsearch} {
		t.Run(string(product), func(t *testing.T) {
			recs := conflicting()

			// Without the template, dynamic mapping refuses the alerts that
			// disagree with the first: they end up in the dead-letter file.
			f := newFakeES(t, string(product))
			cfg := testConfig(f.url())
			cfg.InstallTemplate = false
			h := newSink(t, product, cfg)
			for _, r := range recs { // one by one, so the first decides
				h.deliver(t, []sink.Record{r})
			}
			if n := len(h.deadLetters(t)); n != 5 {
				t.Fatalf("without the template %d alerts were dead-lettered, want 5: the test data does not conflict", n)
			}

			// With it, every alert is indexed.
			f = newFakeES(t, string(product))
			h = newSink(t, product, testConfig(f.url()))
			for _, r := range recs {
				h.deliver(t, []sink.Record{r})
			}
			if dl := h.deadLetters(t); len(dl) != 0 {
				t.Fatalf("with the template: dead letters %+v", dl)
			}
			checkExactlyOnce(t, f, recs, true)
		})
	}
}

func TestTemplateFailureDoesNotHoldAlertsBack(t *testing.T) {
	defer opensearch.SetTemplateRetry(10 * time.Millisecond)()
	f := newFakeES(t, "opensearch")
	f.templateFails = []int{403, 403, 403}
	h := newSink(t, opensearch.OpenSearch, testConfig(f.url()))
	recs := mkAlerts(0, 10, day0)
	h.deliver(t, recs)
	checkExactlyOnce(t, f, recs, true)
	if st := h.s.Stats(); st.TemplateErrors == 0 {
		t.Errorf("stats %+v: the failed template was not counted", st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !h.s.Stats().TemplateInstalled && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := f.template("skywatch-alerts"); !ok || !h.s.Stats().TemplateInstalled {
		t.Fatalf("the template was not installed after the server allowed it; stats %+v", h.s.Stats())
	}
	if log := h.log.String(); !strings.Contains(log, "cannot install the index template") || !strings.Contains(log, "security_exception") {
		t.Errorf("log: %s", log)
	}
}

// The product decides the flat type: each server refuses the other's.
func TestWrongProductTemplateIsRefused(t *testing.T) {
	f := newFakeES(t, "elasticsearch")
	h := newSink(t, opensearch.OpenSearch, testConfig(f.url()))
	h.deliver(t, mkAlerts(0, 1, day0))
	if _, ok := f.template("skywatch-alerts"); ok {
		t.Fatal("an Elasticsearch server took a flat_object template")
	}
	if !strings.Contains(h.log.String(), "No handler for type [flat_object]") {
		t.Errorf("log: %s", h.log)
	}
}
