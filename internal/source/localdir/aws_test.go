package localdir

import (
	"encoding/json"
	"fmt"
	"github.com/skywatch-dev/skywatch/internal/decode/awsevent"
	"path/filepath"
	"strings"
	"testing"
)

// awsFixtures are small objects of every AWS log type, under the key a bucket
// would hold them, with the number of events each gives and the value of
// aws.source in them.
var awsFixtures = []struct {
	typ, key, data string
	events         int
	source         string
}{
	{"cloudtrail", "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0800Z_a.json.gz",
		`{"Records":[{"eventVersion":"1.08","eventName":"ListUsers","sourceIPAddress":"198.51.100.7"},{"eventName":"GetUser"}]}`, 2, "cloudtrail"},
	{"config", "AWSLogs/111122223333/Config/us-east-1/2024/5/1/ConfigHistory/111122223333_Config_us-east-1_ConfigHistory_x.json.gz",
		`{"fileVersion":"1.0","configurationItems":[{"configuration":{"state":"running"},"resourceType":"AWS::EC2::Instance"}]}`, 1, "config"},
	{"vpcflow", "AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/111122223333_vpcflowlogs_us-east-1_fl-1_20240501T0800Z_a.log",
		"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
			"2 111122223333 eni-1 198.51.100.7 10.0.0.1 443 51000 6 10 840 1714550400 1714550460 REJECT OK\n" +
			"2 111122223333 eni-1 - - - - - - - 1714550400 1714550460 - NODATA\n", 2, "vpc"},
	{"guardduty", "AWSLogs/111122223333/GuardDuty/us-east-1/2024/05/01/f.jsonl",
		`{"id":"f1","service":{"serviceName":"guardduty","action":{"portProbeAction":{"portProbeDetails":[{"p":22},{"p":80},{"p":443}]}}}}` + "\n" +
			`{"id":"f2","service":{"serviceName":"guardduty"}}` + "\n", 4, "guardduty"},
	{"waf", "2024/05/01/08/aws-waf-logs-x-1",
		`{"action":"BLOCK","httpRequest":{"clientIp":"198.51.100.7","headers":[{"name":"Host","value":"h"}]}}{"action":"ALLOW"}` + "\n", 2, "waf"},
	{"custom", "2024/05/01/08/firehose-1",
		`{"source":"aws.kms","detail-type":"KMS Key Deletion","detail":{"key-id":"k"}}{"source":"aws.ec2","detail-type":"x"}`, 1, "kms"},
	{"alb", "AWSLogs/111122223333/elasticloadbalancing/us-east-1/2024/05/01/a.log",
		`https 2024-05-01T08:00:00.000000Z app/x/1 198.51.100.7:5000 10.0.0.1:80 0.001 0.002 0.000 200 200 10 20 "GET / HTTP/1.1" "ua" - - ` +
			`arn "Root=1" "-" "-" 0 2024-05-01T08:00:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"` + "\n", 1, "alb"},
	{"clb", "AWSLogs/111122223333/elasticloadbalancing/us-east-1/2024/05/01/c.log",
		`2024-05-01T08:00:00.000000Z lb 198.51.100.7:1 10.0.0.1:80 0 0 0 200 200 0 0 "GET / HTTP/1.1" "ua" - -` + "\n", 1, "clb"},
	{"nlb", "AWSLogs/111122223333/elasticloadbalancing/us-east-1/2024/05/01/n.log",
		"tls 2.0 2024-05-01T08:00:00 net/x/1 l 198.51.100.7:1 10.0.0.1:443 5 2 98 246 - - - - - - - - -\n", 1, "nlb"},
	{"server_access", "logs/2024-05-01-08-00-00-ABCDEF",
		`o bucket [01/May/2024:08:00:00 +0000] 198.51.100.7 r ID REST.GET.OBJECT k "GET /k HTTP/1.1" 200 - 1 2 3 4 "-" "ua" -` + "\n", 1, "s3_server_access"},
	{"security_hub", "sh/2024/05/01/08/sh-1",
		`{"detail-type":"Security Hub Findings - Imported","source":"aws.securityhub","detail":{"findings":[{"Id":"a"},{"Id":"b"}]}}`, 2, "securityhub"},
}

// TestAWSLogTypes reads a local copy of a bucket for every AWS log type: events
// are the module's, log_file is the path under the root, and a second run adds
// nothing.
func TestAWSLogTypes(t *testing.T) {
	for _, fx := range awsFixtures {
		t.Run(fx.typ, func(t *testing.T) {
			dir := t.TempDir()
			data := []byte(fx.data)
			if strings.HasSuffix(fx.key, ".gz") {
				data = gz(data)
			}
			write(t, filepath.Join(dir, filepath.FromSlash(fx.key)), data)
			state := openState(t)
			s := newSource(t, dir, state, func(c *Config) { c.LogType, c.AccountAlias, c.Bucket = fx.typ, "prod", "my-bucket" })
			c := &collector{}
			run(t, s, c)
			if len(c.events) != fx.events || s.Stats().Errors != 0 {
				t.Fatalf("%d events, %d errors; want %d events:\n%s", len(c.events), s.Stats().Errors, fx.events, strings.Join(c.events, "\n"))
			}
			for _, text := range c.events {
				var ev struct {
					Integration string `json:"integration"`
					AWS         struct {
						LogInfo map[string]string `json:"log_info"`
						Source  string            `json:"source"`
					} `json:"aws"`
				}
				if err := json.Unmarshal([]byte(text), &ev); err != nil {
					t.Fatalf("%v: %s", err, text)
				}
				li := ev.AWS.LogInfo
				alias := "prod"
				if fx.typ == "security_hub" {
					alias = "" // the subscriber's log_info has no alias
				}
				if ev.Integration != "aws" || ev.AWS.Source != fx.source || li["log_file"] != fx.key ||
					li["s3bucket"] != "my-bucket" || li["aws_account_alias"] != alias {
					t.Errorf("event not shaped as expected: %s", text)
				}
			}
			c2 := &collector{}
			s2 := newSource(t, dir, state, func(c *Config) { c.LogType = fx.typ })
			run(t, s2, c2)
			if len(c2.events) != 0 || s2.Stats().Skipped != 1 {
				t.Fatalf("second run: %d events, %d files skipped", len(c2.events), s2.Stats().Skipped)
			}
		})
	}
}

// TestAWSRecordIndexes: the offsets of events are the reader's record indexes
// (VPC lines count the header), and the events after the first of a record get
// their own offsets.
func TestAWSRecordIndexes(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		want string
	}{
		{"vpcflow", "[1 2]"},
		{"guardduty", fmt.Sprint([]int64{0, awsevent.EventOffset(0, 1), awsevent.EventOffset(0, 2), 1})},
	} {
		for _, fx := range awsFixtures {
			if fx.typ != tc.typ {
				continue
			}
			dir := t.TempDir()
			write(t, filepath.Join(dir, filepath.FromSlash(fx.key)), []byte(fx.data))
			c := &collector{}
			run(t, newSource(t, dir, openState(t), func(c *Config) { c.LogType = fx.typ }), c)
			if got := fmt.Sprint(c.offs); got != tc.want {
				t.Errorf("%s: offsets %s, want %s", tc.typ, got, tc.want)
			}
		}
	}
}

// TestAWSResumeInsideARecord: a batch boundary between the events of one
// record does not acknowledge the record; after a failed batch the whole record
// is read again.
func TestAWSResumeInsideARecord(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := 0; i < 3; i++ {
		lines = append(lines, fmt.Sprintf(`{"id":"f%d","service":{"serviceName":"guardduty","action":{"portProbeAction":`+
			`{"portProbeDetails":[{"p":1},{"p":2},{"p":3}]}}}}`, i))
	}
	write(t, filepath.Join(dir, "x.jsonl"), []byte(strings.Join(lines, "\n")+"\n"))
	state := openState(t)
	// Batches of 4 events: [f0 f0 f0 f1] is acknowledged, [f1 f1 f2 f2] fails.
	c := &collector{ackErr: func(n int) error {
		if n == 0 {
			return nil
		}
		return fmt.Errorf("output down")
	}}
	run(t, newSource(t, dir, state, func(c *Config) { c.LogType, c.Parallel = "guardduty", 1 }), c)
	if len(c.events) != 9 {
		t.Fatalf("first run: %d events, want 9", len(c.events))
	}
	c2 := &collector{}
	run(t, newSource(t, dir, state, func(c *Config) { c.LogType = "guardduty" }), c2)
	if len(c2.events) != 6 || c2.offs[0] != 1 || !strings.Contains(c2.events[0], `"id": "f1"`) {
		t.Fatalf("resumed with %d events from offsets %v, want the 6 of f1 and f2", len(c2.events), c2.offs)
	}
}

// TestAWSBadInput: a bad line is skipped and counted, the others arrive.
func TestAWSBadInput(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "elb.log"), []byte("tls 2.0 t net/x l 1.2.3.4:1 10.0.0.1:443\ntls 2.0 t\ntls 2.0 t net/x l 1.2.3.4:1 10.0.0.1:443\n"))
	s := newSource(t, dir, openState(t), func(c *Config) { c.LogType = "nlb" })
	c := &collector{}
	run(t, s, c)
	if len(c.events) != 2 || s.Stats().Errors != 1 || fmt.Sprint(c.offs) != "[0 2]" {
		t.Fatalf("%d events at %v, %d errors; want lines 0 and 2 and one error", len(c.events), c.offs, s.Stats().Errors)
	}
}
