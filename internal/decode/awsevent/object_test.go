package awsevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// Expected events in this file follow the module's code step by step (the
// bucket classes of wodles/aws at 4.14): they were worked out by hand and
// checked against a scratch Python model of those steps under CPython 3.11.

// logInfo is the log_info block of bucket b with no account alias.
func bucketEvent(key, body string) string {
	return `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "` + key +
		`", "s3bucket": "b"}, ` + body + `}}`
}

// readEvents reads an object, returning events and errors (as "ERR <record>").
func readEvents(t *testing.T, typ, key, data string, opt Options) (evs []string, recs []int64, errs []*RecordError) {
	t.Helper()
	r, err := NewObjectReader(typ, strings.NewReader(data), ObjectInfo{Bucket: "b", Key: key}, opt)
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) || re.Record != rec || re.Key != key {
				t.Fatalf("error %v is not a RecordError for record %d of %s", err, rec, key)
			}
			errs = append(errs, re)
			continue
		}
		if !json.Valid(ev) {
			t.Fatalf("invalid JSON: %s", ev)
		}
		evs, recs = append(evs, string(ev)), append(recs, rec)
	}
}

func checkEvents(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

func TestGuardDutySeveralPortProbes(t *testing.T) {
	key := "AWSLogs/123456789012/GuardDuty/us-east-1/2024/05/01/f.jsonl.gz"
	data := `{"schemaVersion":"2.0","id":"f1","service":{"serviceName":"guardduty","action":{"actionType":"PORT_PROBE",` +
		`"portProbeAction":{"blocked":false,"portProbeDetails":[{"localPortDetails":{"port":22},"remoteIpDetails":` +
		`{"ipAddressV4":"198.51.100.7","organization":{"asn":null}}},{"localPortDetails":{"port":3389},"remoteIpDetails":` +
		`{"ipAddressV4":"203.0.113.9"}}]}},"count":[2],"archived":null}}` + "\n" +
		`{"id":"f2","service":{"serviceName":"guardduty","action":{"portProbeAction":{"portProbeDetails":[{"p":22}]}},` +
		`"resourceRole":["TARGET"]},"resource":{"tags":null}}` + "\n"
	// Split events keep one-element lists and the nulls inside list elements:
	// the module sends them without its generic reshaping.
	svc := func(detail string) string {
		return `"schemaVersion": "2.0", "id": "f1", "service": {"serviceName": "guardduty", "action": {"actionType": ` +
			`"PORT_PROBE", "portProbeAction": {"blocked": false, "portProbeDetails": ` + detail + `}}, "count": [2]}, "source": "guardduty"`
	}
	want := []string{
		bucketEvent(key, svc(`{"localPortDetails": {"port": 22}, "remoteIpDetails": {"ipAddressV4": "198.51.100.7", "organization": {"asn": null}}}`)),
		bucketEvent(key, svc(`{"localPortDetails": {"port": 3389}, "remoteIpDetails": {"ipAddressV4": "203.0.113.9"}}`)),
		bucketEvent(key, `"id": "f2", "service": {"serviceName": "guardduty", "action": {"portProbeAction": {"portProbeDetails": {"p": 22}}}, "resourceRole": "TARGET"}, "resource": {}, "source": "guardduty"`),
	}
	r, err := NewObjectReader(GuardDuty, strings.NewReader(data), ObjectInfo{Bucket: "b", Key: key}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	wantParts := [][3]int{{0, 0, 2}, {0, 1, 2}, {1, 0, 1}}
	for i := 0; ; i++ {
		ev, rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(ev))
		if idx, n := r.Part(); i < len(wantParts) && (rec != int64(wantParts[i][0]) || idx != wantParts[i][1] || n != wantParts[i][2]) {
			t.Errorf("event %d: record %d part %d of %d, want %v", i, rec, idx, n, wantParts[i])
		}
	}
	checkEvents(t, got, want)
	if r.Records() != 2 {
		t.Errorf("Records() = %d, want 2", r.Records())
	}
}

func TestVPCFlowCustomFormat(t *testing.T) {
	key := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/123456789012_vpcflowlogs_us-east-1_fl-1_20240501T0800Z_a.log.gz"
	data := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id flow-direction\n" +
		"5 123456789012 eni-0a 10.0.0.5 198.51.100.7 443 51000 6 10 840 1714550400 1714550460 ACCEPT OK vpc-01 egress\n" +
		"5 123456789012 eni-0a - - - - - - - 1714550400 1714550460 - NODATA\n" +
		"5 123456789012 eni-0a 10.0.0.5 198.51.100.7 443 51000 6 10 840 1714550400 1714550460 REJECT OK vpc-01 ingress surplus\n"
	flow := `"version": "5", "account_id": "123456789012", "interface_id": "eni-0a", "srcaddr": "10.0.0.5", "dstaddr": "198.51.100.7", ` +
		`"srcport": "443", "dstport": "51000", "protocol": "6", "packets": "10", "bytes": "840", "start": "2024-05-01T08:00:00Z", ` +
		`"end": "2024-05-01T08:01:00Z", `
	want := []string{
		bucketEvent(key, flow+`"action": "ACCEPT", "log_status": "OK", "vpc_id": "vpc-01", "flow_direction": "egress", "source": "vpc", "aws_account_id": "123456789012"`),
		// Columns missing from a line are None, which the module removes.
		bucketEvent(key, `"version": "5", "account_id": "123456789012", "interface_id": "eni-0a", "srcaddr": "-", "dstaddr": "-", "srcport": "-", `+
			`"dstport": "-", "protocol": "-", "packets": "-", "bytes": "-", "start": "2024-05-01T08:00:00Z", "end": "2024-05-01T08:01:00Z", `+
			`"action": "-", "log_status": "NODATA", "source": "vpc", "aws_account_id": "123456789012"`),
		// Surplus fields go under csv.DictReader's None key, which json.dumps writes "null".
		bucketEvent(key, flow+`"action": "REJECT", "log_status": "OK", "vpc_id": "vpc-01", "flow_direction": "ingress", "null": "surplus", "source": "vpc", "aws_account_id": "123456789012"`),
	}
	got, recs, errs := readEvents(t, VPCFlow, key, data, Options{})
	checkEvents(t, got, want)
	if len(errs) != 0 || len(recs) != 3 || recs[0] != 1 || recs[2] != 3 {
		t.Errorf("records %v, errors %v; want lines 1-3 and no error (the header is line 0)", recs, errs)
	}
}

func TestSecurityHubShapes(t *testing.T) {
	key := "sh/2024/05/01/08/fh-1"
	data := `{"version":"0","id":"1","detail-type":"Security Hub Findings - Imported","source":"aws.securityhub",` +
		`"detail":{"findings":[{"Id":"f-1","Severity":{"Label":"HIGH","Original":null},"Types":["TTPs"],"Note":null},` +
		`{"Id":"f-2","Severity":{"Label":"LOW"}}]}}` + "\n" +
		`{"detail-type":"Security Hub Insight Results","source":"aws.securityhub","detail":{"actionName":"a",` +
		`"actionDescription":null,"insightName":"i","resultType":"ResourceId","insightResults":[{"r1":2}]}}`
	head := `{"integration": "aws", "aws": {"log_info": {"log_file": "` + key + `", "s3bucket": "b"}, "source": "securityhub", "detail_type": `
	f1 := head + `"Security Hub Findings - Imported", "finding": {"Id": "f-1", "Severity": {"Label": "HIGH"}, "Types": ["TTPs"]}}}`
	f2 := head + `"Security Hub Findings - Imported", "finding": {"Id": "f-2", "Severity": {"Label": "LOW"}}}}`
	insight := head + `"Security Hub Insight Results", "actionName": "a", "insightName": "i", "resultType": "ResourceId", "insightResults": [{"r1": 2}]}}`
	got, _, errs := readEvents(t, SecurityHub, key, data, Options{})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	checkEvents(t, got, []string{f1, f2, insight})
	// The module itself only sends the first finding of an envelope.
	got, _, _ = readEvents(t, SecurityHub, key, data, Options{SecurityHubFirstFindingOnly: true})
	checkEvents(t, got, []string{f1, insight})
}

// TestSecurityHubCorpus reads the corpus' Security Hub envelopes with the
// security_hub subscriber. The same envelopes were sent through a custom bucket
// in the oracle set, where the module wrote findings[0] and the action and
// insight fields as they are: the subscriber's events must carry exactly those
// texts.
func TestSecurityHubCorpus(t *testing.T) {
	oracle := sharedcorpus.Path(t, "corpus", "wazuh-oracle")
	corpus := filepath.Dir(oracle)
	events := readLines(t, filepath.Join(oracle, "aws-other-public.events.jsonl"))
	prov := readLines(t, filepath.Join(oracle, "aws-other-public.provenance.jsonl"))
	n := 0
	for i, line := range prov {
		var p struct{ Source, Bucket_type, Log_file string }
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.Source, "securityhub") {
			continue
		}
		var custom struct {
			AWS map[string]json.RawMessage `json:"aws"`
		}
		if err := json.Unmarshal(events[i], &custom); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(corpus, p.Source))
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			DetailType json.RawMessage `json:"detail-type"`
		}
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatal(err)
		}
		want := `{"integration": "aws", "aws": {"log_info": {"log_file": "` + p.Log_file + `", "s3bucket": "b"}, ` +
			`"source": "securityhub", "detail_type": ` + string(env.DetailType)
		for _, k := range []string{"findings", "actionName", "actionDescription", "insightName", "insightArn", "resultType", "insightResults"} {
			if v, ok := custom.AWS[k]; ok {
				name := k
				if k == "findings" {
					name = "finding"
				}
				want += `, "` + name + `": ` + string(v)
			}
		}
		want += "}}"
		got, _, errs := readEvents(t, SecurityHub, p.Log_file, string(data), Options{})
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		checkEvents(t, got, []string{want})
		n++
	}
	if n != 4 {
		t.Fatalf("%d Security Hub envelopes checked, want 4", n)
	}
}

// TestCustomDropsEnvelopesWithoutDetail reads every EventBridge sample of the
// corpus through a custom bucket: the ones without detail give no event and no
// error, as the module drops them silently.
func TestCustomDropsEnvelopesWithoutDetail(t *testing.T) {
	dir := sharedcorpus.Path(t, "corpus", "cloud-custodian", "aws-eventbridge-cwe")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	corpus := filepath.Dir(filepath.Dir(dir))
	withDetail, without := 0, 0
	for _, f := range files {
		rel, _ := filepath.Rel(corpus, f)
		data := readCorpusObject(t, corpus, rel, Custom)
		got, _, errs := readEvents(t, Custom, "2024/05/01/08/x", string(data), Options{})
		if len(errs) != 0 {
			t.Errorf("%s: %v", rel, errs)
		}
		switch hasDetail := bytes.Contains(data, []byte(`"detail":`)); {
		case hasDetail && len(got) == 1:
			withDetail++
		case !hasDetail && len(got) == 0:
			without++
		default:
			t.Errorf("%s: %d events", rel, len(got))
		}
	}
	if withDetail != 21 || without != 16 {
		t.Fatalf("%d envelopes with detail gave an event, %d without gave none; want 21 and 16", withDetail, without)
	}
}

func TestCustomEnvelopes(t *testing.T) {
	key := "2024/05/01/08/fh-1"
	data := `{"source":"aws.macie","detail-type":"Macie Alert","detail":{"trigger":{"rule":"x"},"summary":{"Bucket":{"b1":{"count":1}},` +
		`"Events":{"GetObject":{"count":4,"ISP":{"Amazon":4}}}},"tags":"t"}}{"source":"aws.guardduty","detail":{"service":` +
		`{"additionalInfo":{"unusual":"x"}},"sourceIPAddress":"192.0.2.1"}}` + "\n" +
		`{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification"}`
	want := []string{
		// Macie: trigger removed, summary members flattened to dotted paths
		// (a count loses every part: path[:-0] is empty).
		bucketEvent(key, `"summary": {"Bucket": ["b1.count"], "Events": {"GetObject": {"count": [""], "ISP": ["Amazon"]}}}, "tags": {"value": "t"}, "source": "macie"`),
		bucketEvent(key, `"service": {"additionalInfo": {"unusual": {"value": "x"}}}, "sourceIPAddress": "192.0.2.1", "source": "guardduty", "source_ip_address": "192.0.2.1"`),
	}
	got, _, errs := readEvents(t, Custom, key, data, Options{})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	checkEvents(t, got, want)
}
