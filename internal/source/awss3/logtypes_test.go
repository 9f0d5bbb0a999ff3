package awss3

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Every log type is read from its layout in a bucket, including the folders that do
// not sort by date (Config) and the flat and Firehose layouts; records that give
// several events (GuardDuty port probes, Security Hub findings) keep every event,
// each with its own origin offset.
func TestEveryLogTypeFromItsLayout(t *testing.T) {
	cases := []struct {
		typ, path, key, data string
		events               int
		source               string
	}{
		{"config", "", "AWSLogs/111122223333/Config/us-east-1/2024/5/1/ConfigHistory/111122223333_Config_us-east-1_ConfigHistory_x.json.gz",
			`{"fileVersion":"1.0","configurationItems":[{"configuration":{"state":"running"},"resourceType":"AWS::EC2::Instance"}]}`, 1, "config"},
		{"vpcflow", "", "AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/111122223333_vpcflowlogs_us-east-1_fl-1_20240501T0800Z_a.log.gz",
			"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
				"2 111122223333 eni-1 198.51.100.7 10.0.0.1 443 51000 6 10 840 1714550400 1714550460 REJECT OK\n", 1, "vpc"},
		{"guardduty", "", "AWSLogs/111122223333/GuardDuty/us-east-1/2024/05/01/6e3f0c4a-1111-2222-3333-444455556666.jsonl.gz",
			`{"id":"f1","service":{"serviceName":"guardduty","action":{"portProbeAction":{"portProbeDetails":[{"p":22},{"p":80},{"p":443}]}}}}` + "\n" +
				`{"id":"f2","service":{"serviceName":"guardduty"}}` + "\n", 4, "guardduty"},
		{"waf", "waf", "waf/2024/05/01/08/aws-waf-logs-x-1.gz",
			`{"action":"BLOCK","httpRequest":{"clientIp":"198.51.100.7","headers":[{"name":"Host","value":"h"}]}}` + "\n", 1, "waf"},
		{"custom", "macie/", "macie/2024/05/01/08/firehose-1.gz",
			`{"source":"aws.macie","detail-type":"Macie Finding","detail":{"id":"m"}}{"source":"aws.kms","detail-type":"x","detail":{"k":1}}`, 2, "macie"},
		{"alb", "", "AWSLogs/111122223333/elasticloadbalancing/us-east-1/2024/05/01/a.log.gz",
			`https 2024-05-01T08:00:00.000000Z app/x/1 198.51.100.7:5000 10.0.0.1:80 0.001 0.002 0.000 200 200 10 20 "GET / HTTP/1.1" "ua" - - ` +
				`arn "Root=1" "-" "-" 0 2024-05-01T08:00:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"` + "\n", 1, "alb"},
		{"server_access", "logs", "logs/2024-05-01-08-00-00-ABCDEF",
			`o bucket [01/May/2024:08:00:00 +0000] 198.51.100.7 r ID REST.GET.OBJECT k "GET /k HTTP/1.1" 200 - 1 2 3 4 "-" "ua" -` + "\n", 1, "s3_server_access"},
		{"security_hub", "sh", "sh/2024/05/01/08/sh-1",
			`{"detail-type":"Security Hub Findings - Imported","source":"aws.securityhub","detail":{"findings":[{"Id":"a"},{"Id":"b"}]}}`, 2, "securityhub"},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			f := newFakeS3(t, bucket)
			data := []byte(tc.data)
			if strings.HasSuffix(tc.key, ".gz") {
				data = gzipped(data)
			}
			f.put(t, bucket, tc.key, data)
			cfg := testConfig(f.srv.URL, bucket)
			cfg.LogType, cfg.Path = tc.typ, tc.path
			c := &collector{}
			s := poll(t, f, cfg, openState(t), time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), c)
			if len(c.events) != tc.events || s.Stats().Errors != 0 {
				t.Fatalf("%d events, %d errors; want %d:\n%s", len(c.events), s.Stats().Errors, tc.events, strings.Join(c.events, "\n"))
			}
			seen := map[int64]bool{}
			for i, text := range c.events {
				var ev struct {
					AWS struct {
						Source  string            `json:"source"`
						LogInfo map[string]string `json:"log_info"`
					} `json:"aws"`
				}
				if err := json.Unmarshal([]byte(text), &ev); err != nil {
					t.Fatalf("%v: %s", err, text)
				}
				if ev.AWS.Source != tc.source && !(tc.typ == "custom" && ev.AWS.Source == "kms") {
					t.Errorf("aws.source %q, want %q", ev.AWS.Source, tc.source)
				}
				if ev.AWS.LogInfo["log_file"] != tc.key || ev.AWS.LogInfo["s3bucket"] != bucket {
					t.Errorf("log_info %v", ev.AWS.LogInfo)
				}
				if seen[c.offs[i]] {
					t.Errorf("two events share origin offset %d", c.offs[i])
				}
				seen[c.offs[i]] = true
			}
		})
	}
}
