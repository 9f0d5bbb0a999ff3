package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/retry"
)

// freeForm lists the alert fields whose content has no fixed shape: the same
// key holds a string in one event and an object in the next (CloudTrail's
// requestParameters of different APIs, GCP request bodies, Azure properties).
// Dynamic mapping fixes each sub-field's type from the first alert of the day
// and then rejects the alerts that disagree; one flat_object/flattened field
// takes them all. Paths are below the alert's data object.
var freeForm = [][]string{
	{"aws", "requestParameters"},
	{"aws", "responseElements"},
	{"aws", "additionalEventData"},
	{"aws", "serviceEventDetails"},
	{"aws", "service", "additionalInfo"},   // GuardDuty
	{"aws", "configuration"},               // AWS Config
	{"aws", "supplementaryConfiguration"},  // AWS Config
	{"gcp", "protoPayload", "request"},     // Cloud Audit Logs
	{"gcp", "protoPayload", "response"},    //
	{"gcp", "protoPayload", "metadata"},    //
	{"gcp", "protoPayload", "serviceData"}, //
	{"gcp", "protoPayload", "resourceOriginalState"},
	{"gcp", "jsonPayload"},
	{"gcp", "labels"},
	{"gcp", "resource", "labels"},
	{"gcp", "finding", "sourceProperties"}, // Security Command Center
	{"properties"},                         // Azure activity and resource logs
	{"Properties"},
}

// keywordCap is the longest string indexed as a keyword; longer values stay in
// _source but are not searchable, instead of failing the document. 8191
// characters keep within Lucene's 32766-byte term limit for any UTF-8.
const (
	keywordCap   = 1024
	flattenedCap = 8191
	// templatePriority outranks Elasticsearch's built-in templates (100).
	templatePriority = 200
)

// Template returns the composable index template the output installs for p and
// cfg: it applies to cfg's index pattern or data stream.
func Template(p Product, cfg Config) ([]byte, error) {
	var patterns []string
	if cfg.DataStream != "" {
		patterns = []string{cfg.DataStream}
	} else {
		ip, err := parseIndexPattern(cfg.Index)
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		patterns = []string{ip.wildcard()}
	}
	var flat obj
	switch p {
	case OpenSearch:
		flat = obj{"type": "flat_object"}
	case Elasticsearch:
		flat = obj{"type": "flattened", "ignore_above": flattenedCap}
	default:
		return nil, fmt.Errorf("unknown product %q", p)
	}
	// Address fields stay keyword, not ip: CloudTrail's sourceIPAddress is a
	// service name ("cloudformation.amazonaws.com") for calls AWS makes itself,
	// and Azure's callerIpAddress can be empty.
	data := obj{
		"srcip":           keyword(),
		"aws":             props(obj{"sourceIPAddress": keyword()}),
		"gcp":             props(obj{"protoPayload": props(obj{"requestMetadata": props(obj{"callerIp": keyword()})})}),
		"callerIpAddress": keyword(),
	}
	for _, path := range freeForm {
		place(data, path, flat)
	}
	mappings := obj{
		"date_detection":    false, // a date-like string would fix the field as date
		"numeric_detection": false,
		"dynamic_templates": []obj{
			{"strings_as_keywords": obj{"match_mapping_type": "string", "mapping": keyword()}},
			// A string arriving in a field the day's first alert made numeric
			// is left unindexed (kept in _source) instead of failing the
			// alert. Set here rather than index-wide, which data streams
			// refuse for @timestamp on some versions.
			{"longs_lenient": obj{"match_mapping_type": "long", "mapping": obj{"type": "long", "ignore_malformed": true}}},
			{"doubles_lenient": obj{"match_mapping_type": "double", "mapping": obj{"type": "float", "ignore_malformed": true}}},
		},
		"properties": obj{
			"@timestamp": obj{"type": "date"},
			"timestamp":  obj{"type": "date", "format": "date_optional_time||epoch_millis"},
			"id":         keyword(),
			"rule": props(obj{
				"level":       obj{"type": "integer"},
				"id":          keyword(),
				"description": keyword(),
				"groups":      keyword(),
				"firedtimes":  obj{"type": "long"},
				"frequency":   obj{"type": "integer"},
				"mail":        obj{"type": "boolean"},
				"cve":         keyword(),
				"info":        keyword(),
				"mitre":       props(obj{"id": keyword(), "tactic": keyword(), "technique": keyword()}),
				"pci_dss":     keyword(), "gdpr": keyword(), "hipaa": keyword(), "nist_800_53": keyword(),
				"tsc": keyword(), "gpg13": keyword(), "cis": keyword(),
			}),
			"agent":           props(obj{"id": keyword(), "name": keyword(), "ip": keyword()}),
			"manager":         props(obj{"name": keyword()}),
			"decoder":         props(obj{"name": keyword(), "parent": keyword()}),
			"location":        keyword(),
			"full_log":        obj{"type": "text"},
			"previous_output": obj{"type": "text"},
			"data":            props(data),
		},
	}
	t := obj{
		"index_patterns": patterns,
		"priority":       templatePriority,
		"_meta":          obj{"managed_by": "skywatch", "description": "skywatch alerts (Wazuh alert layout)"},
		"template": obj{
			"settings": obj{
				// Alerts carry every field of the cloud event: far more than
				// the default limit of 1000.
				"index.mapping.total_fields.limit": 10000,
			},
			"mappings": mappings,
		},
	}
	if cfg.DataStream != "" {
		t["data_stream"] = obj{}
	}
	return json.MarshalIndent(t, "", "  ")
}

type obj = map[string]any

func keyword() obj    { return obj{"type": "keyword", "ignore_above": keywordCap} }
func props(p obj) obj { return obj{"properties": p} }

// place puts m at path inside the properties tree tree, creating the objects
// on the way.
func place(tree obj, path []string, m obj) {
	for _, name := range path[:len(path)-1] {
		next, ok := tree[name].(obj)
		if !ok {
			next = props(obj{})
			tree[name] = next
		}
		tree = next["properties"].(obj)
	}
	tree[path[len(path)-1]] = m
}

// templateRetry paces the template attempts: a cluster that refuses the
// template (missing privilege) is asked again every few minutes at most.
var templateRetry = retry.Policy{Initial: time.Second, Max: 5 * time.Minute}

// templateLoop puts the template until it succeeds or ctx ends. first is
// closed after the first attempt either way, so Flush can wait for it
// without depending on the server accepting the template.
func (s *Sink) templateLoop(ctx context.Context, body []byte, first chan<- struct{}) {
	attempt := 0
	_ = retry.Do(ctx, templateRetry, func(ctx context.Context) error {
		attempt++
		err := s.putTemplate(ctx, body)
		if err == nil {
			s.stats.templateInstalled.Store(true)
			s.log.Info("opensearch: index template installed", "output", s.name, "template", s.cfg.TemplateName)
		} else if ctx.Err() == nil {
			s.stats.templateErrors.Add(1)
			s.log.Warn("opensearch: cannot install the index template; alerts are still sent, with the server's dynamic mappings, and the template is retried",
				"output", s.name, "template", s.cfg.TemplateName, "attempt", attempt, "err", err)
		}
		if attempt == 1 {
			close(first)
		}
		return err
	})
}

func (s *Sink) putTemplate(ctx context.Context, body []byte) error {
	u := s.base + "/_index_template/" + s.cfg.TemplateName
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.Std())
	defer cancel()
	resp, err := s.do(ctx, http.MethodPut, u, "application/json", body, false)
	if err != nil {
		return fmt.Errorf("put template %s: %w", u, err)
	}
	data, _ := readBody(resp, 64<<10)
	if resp.StatusCode/100 != 2 {
		e := parseError(data)
		return fmt.Errorf("put template %s: %s: %s", u, resp.Status, s.scrub(strings.TrimPrefix(e.Type+": "+e.detail(data), ": ")))
	}
	return nil
}
