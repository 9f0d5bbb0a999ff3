package opensearch_test

import (
	"errors"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink/opensearch"
)

// decodeOutput parses a configuration and decodes its first output.
func decodeOutput(t *testing.T, text string) (opensearch.Config, string, error) {
	t.Helper()
	cfg, err := config.Parse("skywatch.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	oc := opensearch.DefaultConfig()
	return oc, cfg.Outputs[0].Type, cfg.Outputs[0].Decode(&oc)
}

func TestReadmeExamples(t *testing.T) {
	t.Setenv("OPENSEARCH_PASSWORD", password)
	t.Setenv("ES_API_KEY", "a2V5LWlkOmtleQ==")
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) != 3 {
		t.Fatalf("README.md has %d yaml examples, want 3", len(blocks))
	}
	certs := newCerts(t)
	checks := []func(c opensearch.Config) bool{
		func(c opensearch.Config) bool {
			return c.URL == "https://search.example.com:9200" && c.Username == "skywatch" && c.Password.Reveal() == password &&
				c.Compress && c.BulkMaxBytes == 5<<20 && c.MinLevel == 3 && c.Action == "create" && c.InstallTemplate
		},
		func(c opensearch.Config) bool {
			return c.APIKey.Reveal() == "a2V5LWlkOmtleQ==" && c.DataStream == "logs-skywatch-default" && c.TLS.CertFile != ""
		},
		func(c opensearch.Config) bool {
			return !c.InstallTemplate && c.Headers["VL-Time-Field"].Reveal() == "@timestamp" && len(c.Headers) == 3
		},
	}
	for i, b := range blocks {
		oc, typ, err := decodeOutput(t, string(b[1]))
		if err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		if !checks[i](oc) {
			t.Errorf("example %d decoded to %+v", i+1, oc)
		}
		// It starts (with certificate files that exist).
		if oc.TLS.CAFile != "" {
			oc.TLS.CAFile = config.Path(certs.caFile)
		}
		if oc.TLS.CertFile != "" {
			oc.TLS.CertFile, oc.TLS.KeyFile = config.Path(certs.clientCert), config.Path(certs.clientKey)
		}
		u, _ := url.Parse(oc.URL)
		u.Host = "127.0.0.1:1" // nothing listens there
		oc.URL = u.String()
		s, err := opensearch.New(oc, opensearch.Options{Product: opensearch.Product(typ), DataDir: t.TempDir()})
		if err != nil {
			t.Fatalf("example %d does not start: %v", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConfigDecode(t *testing.T) {
	const head = "outputs:\n  - type: opensearch\n"
	tests := []struct {
		name  string
		body  string
		want  string // the error, or "" for none
		check func(opensearch.Config) bool
	}{
		{name: "defaults", body: "    url: http://localhost:9200\n", check: func(c opensearch.Config) bool {
			return c.Index == "skywatch-alerts-%Y.%m.%d" && c.Action == "create" && c.TimestampField == "@timestamp" &&
				c.BulkMaxBytes == 5<<20 && c.BulkMaxDocs == 1000 && c.Concurrency == 1 && c.InstallTemplate &&
				c.Timeout.Std() == 30*time.Second && c.RetryAttempts == 5 && !c.Compress
		}},
		{name: "fixed index", body: "    url: http://localhost:9200\n    index: alerts\n    action: index\n",
			check: func(c opensearch.Config) bool { return c.Index == "alerts" && c.Action == "index" }},
		{name: "missing url", body: "    index: x\n", want: "skywatch.yaml:2: outputs[0] (opensearch): url: required"},
		{name: "bad url", body: "    url: localhost:9200\n", want: "skywatch.yaml:3: outputs[0] (opensearch): url: must be an http:// or https:// URL with a host, e.g. https://localhost:9200"},
		{name: "credentials in url", body: "    url: https://u:p@localhost:9200\n", want: "skywatch.yaml:3: outputs[0] (opensearch): url: must not hold credentials: use username and password"},
		{name: "bad index", body: "    url: http://h\n    index: Alerts-%Y\n", want: `skywatch.yaml:4: outputs[0] (opensearch): index: "Alerts-%Y": must be lowercase`},
		{name: "bad placeholder", body: "    url: http://h\n    index: a-%H\n", want: `skywatch.yaml:4: outputs[0] (opensearch): index: "a-%H": only %Y, %m and %d may follow %`},
		{name: "data stream takes create", body: "    url: http://h\n    data_stream: logs-x\n    action: index\n", want: "skywatch.yaml:5: outputs[0] (opensearch): action: must be create when writing to a data stream"},
		{name: "data stream needs @timestamp", body: "    url: http://h\n    data_stream: logs-x\n    timestamp_field: ts\n", want: "skywatch.yaml:5: outputs[0] (opensearch): timestamp_field: must be @timestamp when writing to a data stream"},
		{name: "timestamp field clash", body: "    url: http://h\n    timestamp_field: rule\n", want: `skywatch.yaml:4: outputs[0] (opensearch): timestamp_field: "rule" is a field of the alert already`},
		{name: "bad action", body: "    url: http://h\n    action: update\n", want: `skywatch.yaml:4: outputs[0] (opensearch): action: must be create or index, got "update"`},
		{name: "two auths", body: "    url: http://h\n    username: u\n    password: p\n    api_key: k\n", want: "skywatch.yaml:6: outputs[0] (opensearch): api_key: set only one of username/password, api_key and bearer_token"},
		{name: "password alone", body: "    url: http://h\n    password: p\n", want: "skywatch.yaml:2: outputs[0] (opensearch): username: required with password"},
		{name: "tls on http", body: "    url: http://h\n    tls:\n      insecure_skip_verify: true\n", want: "skywatch.yaml:4: outputs[0] (opensearch): tls: needs an https:// url"},
		{name: "cert without key", body: "    url: https://h\n    tls:\n      cert_file: c.pem\n", want: "skywatch.yaml:4: outputs[0] (opensearch): tls.key_file: cert_file and key_file go together"},
		{name: "reserved header", body: "    url: http://h\n    headers:\n      content-type: text/plain\n", want: "skywatch.yaml:4: outputs[0] (opensearch): headers: Content-Type is set by the output"},
		{name: "unknown key", body: "    url: http://h\n    bulk_max_doc: 5\n", want: `skywatch.yaml:4: outputs[0] (opensearch): unknown key "bulk_max_doc" (did you mean "bulk_max_docs"?)`},
		{name: "concurrency", body: "    url: http://h\n    concurrency: 0\n", want: "skywatch.yaml:4: outputs[0] (opensearch): concurrency: must be between 1 and 64"},
		{name: "buffer below bulk", body: "    url: http://h\n    max_buffered: 1MiB\n", want: "skywatch.yaml:4: outputs[0] (opensearch): max_buffered: must be at least bulk_max_bytes (5MiB)"},
		{name: "levels", body: "    url: http://h\n    min_level: 9\n    max_level: 4\n", want: "skywatch.yaml:5: outputs[0] (opensearch): max_level: must not be below min_level (9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oc, _, err := decodeOutput(t, head+tt.body)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			if tt.check != nil && !tt.check(oc) {
				t.Errorf("decoded %+v", oc)
			}
			var ce *config.Error
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("error is not a *config.Error: %#v", err)
			}
		})
	}
}

func TestNewRefusesUnknownProduct(t *testing.T) {
	cfg := opensearch.DefaultConfig()
	cfg.URL = "http://127.0.0.1:1"
	if _, err := opensearch.New(cfg, opensearch.Options{Product: "solr"}); err == nil {
		t.Fatal("New took product solr")
	}
}
