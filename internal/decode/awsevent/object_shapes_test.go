package awsevent

import (
	"strings"
	"testing"
)

// TestReshaping checks the per-type reshaping on small hand-made objects (see
// object_test.go for how the expectations were made).
func TestReshaping(t *testing.T) {
	cfgKey := "AWSLogs/123456789012/Config/us-east-1/2024/5/1/ConfigHistory/123456789012_Config_us-east-1_ConfigHistory_AWS::EC2::Instance_20240501T080000Z_20240501T080000Z_1.json.gz"
	nlbKey := "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/05/01/n.log.gz"
	for _, tc := range []struct {
		name, typ, key, data string
		want                 []string
	}{
		{"config", Config, cfgKey,
			`{"fileVersion":"1.0","configurationItems":[{"configuration":{"securityGroups":[{"groupId":"sg-1","groupName":"web"},{"groupId":"sg-2"}],` +
				`"availabilityZones":"us-east-1a","state":"running","createdTime":"2021-11-15T09:11:24.624Z","iamInstanceProfile":"role",` +
				`"blockDevice":{"Content":{"b":1,"a":2}}},"tags":"x","sourceIPAddress":["10.1.2.3"],"n":null},` +
				`{"configuration":{"securityGroups":{"groupId":"sg-9"},"availabilityZones":[{"subnetId":"s1","zoneName":"z1"}],"state":{"code":16},` +
				`"createdTime":1636967484,"iamInstanceProfile":5}},{"configuration":{"createdTime":"2021-02-30T00:00:00.0Z","state":["x"]}}]}`,
			[]string{
				bucketEvent(cfgKey, `"configuration": {"securityGroups": {"groupId": ["sg-1", "sg-2"], "groupName": ["web"]}, "availabilityZones": {"zoneName": ["us-east-1a"]}, `+
					`"state": {"name": "running"}, "createdTime": 1636967484.0, "iamInstanceProfile": {"name": "role"}, "blockDevice": {"Content": ["b", "a"]}}, `+
					`"tags": {"value": "x"}, "sourceIPAddress": "10.1.2.3", "source": "config", "aws_account_id": "123456789012", "source_ip_address": "10.1.2.3"`),
				bucketEvent(cfgKey, `"configuration": {"securityGroups": {"groupId": ["sg-9"]}, "availabilityZones": {"subnetId": ["s1"], "zoneName": ["z1"]}, `+
					`"state": {"code": 16}, "createdTime": 1636967484.0, "iamInstanceProfile": 5}, "source": "config", "aws_account_id": "123456789012"`),
				// No 30 February: createdTime is left as it is.
				bucketEvent(cfgKey, `"configuration": {"createdTime": "2021-02-30T00:00:00.0Z", "state": {"name": "x"}}, "source": "config", "aws_account_id": "123456789012"`),
			}},
		{"waf headers", WAF, "w",
			`{"timestamp":1,"httpRequest":{"clientIp":"1.2.3.4","headers":[{"name":"Host","value":"h"},{"name":"X-Custom","value":"c"},` +
				`{"name":"user-agent","value":"ua"},{"name":"Host","value":"h2"}]}}{"timestamp":2,"httpRequest":{"headers":"none"}}` + "\n",
			[]string{
				bucketEvent("w", `"timestamp": 1, "httpRequest": {"clientIp": "1.2.3.4", "headers": {"Host": "h2", "user-agent": "ua"}}, "source": "waf"`),
				bucketEvent("w", `"timestamp": 2, "httpRequest": {"headers": "none"}, "source": "waf"`),
			}},
		{"server access", ServerAccess, "k",
			`o b [01/May/2024:08:00:00 +0000] 192.0.2.1 r ID op key "GET /k HTTP/1.1" 200 - 1 2 3 4 "-" "curl/8 (x)" - host= SigV4 c AuthHeader ` +
				"b.s3.amazonaws.com TLSv1.3 - Yes\r\n" + `o  b "x y` + "\r\n",
			[]string{
				bucketEvent("k", `"bucket_owner": "o", "bucket": "b", "time": "01/May/2024:08:00:00 +0000", "remote_ip": "192.0.2.1", "requester": "r", `+
					`"request_id": "ID", "operation": "op", "key": "key", "request_uri": "GET /k HTTP/1.1", "http_status": "200", "error_code": "-", `+
					`"bytes_sent": "1", "object_sent": "2", "total_time": "3", "turn_around_time": "4", "referer": "-", "user_agent": "curl/8 (x)", `+
					`"version_id": "-", "host_id": "host=", "signature_version": "SigV4", "cipher_suite": "c", "authentication_type": "AuthHeader", `+
					`"host_header": "b.s3.amazonaws.com", "tls_version": "TLSv1.3", "source": "s3_server_access"`),
				// Two spaces in a row end the module's tokenizer.
				bucketEvent("k", `"bucket_owner": "o", "source": "s3_server_access"`),
			}},
		{"nlb splits", NLB, nlbKey,
			"tls 2.0 t net/x l 192.0.2.1:1 10.0.0.1:443\ntls 2.0 t net/x l 192.0.2.1:1 10.0.0.1\n",
			[]string{
				bucketEvent(nlbKey, `"type": "tls", "version": "2.0", "time": "t", "elb": "net/x", "listener": "l", "client_port": "1", `+
					`"destination_port": "443", "source": "nlb", "client_ip": "192.0.2.1", "destination_ip": "10.0.0.1"`),
				// The destination has no port: client_ip takes the port already split off.
				bucketEvent(nlbKey, `"type": "tls", "version": "2.0", "time": "t", "elb": "net/x", "listener": "l", "client_port": "1", `+
					`"destination_port": "10.0.0.1", "source": "nlb", "client_ip": "1", "destination_ip": "10.0.0.1"`),
			}},
		{"custom vpc fallback", Custom, "2024/05/01/08/v",
			"2 123 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 2 1714550400 1714550460 ACCEPT OK\n3 123 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 2 1714550400 1714550460 ACCEPT OK\n",
			[]string{
				// The module consumed the object's first character to look for '{'.
				bucketEvent("2024/05/01/08/v", `"version": "", "account_id": "123", "interface_id": "eni-1", "srcaddr": "1.1.1.1", "dstaddr": "2.2.2.2", `+
					`"srcport": "1", "dstport": "2", "protocol": "6", "packets": "1", "bytes": "2", "start": "1714550400", "end": "1714550460", `+
					`"action": "ACCEPT", "log_status": "OK", "source": "vpc"`),
				bucketEvent("2024/05/01/08/v", `"version": "3", "account_id": "123", "interface_id": "eni-1", "srcaddr": "1.1.1.1", "dstaddr": "2.2.2.2", `+
					`"srcport": "1", "dstport": "2", "protocol": "6", "packets": "1", "bytes": "2", "start": "1714550400", "end": "1714550460", `+
					`"action": "ACCEPT", "log_status": "OK", "source": "vpc"`),
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, errs := readEvents(t, tc.typ, tc.key, tc.data, Options{})
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			checkEvents(t, got, tc.want)
		})
	}
}

func TestAccount(t *testing.T) {
	rec := `{"eventName":"A"}`
	for _, tc := range []struct {
		typ, key, id, data, want string
	}{
		{CloudTrail, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz", "", `{"Records":[` + rec + `]}`, "111122223333"},
		{CloudTrail, "o/222233334444_CloudTrail_us-east-1_20240501T0800Z_x.json.gz", "", `{"Records":[` + rec + `]}`, "222233334444"},
		{CloudTrail, "x.json", "999988887777", `{"Records":[` + rec + `]}`, "999988887777"},
		// No account in the key: the first record naming one, from then on.
		{CloudTrail, "x.json", "", `{"Records":[{"recipientAccountId":"333344445555"},{"recipientAccountId":"x"}]}`, "333344445555"},
		{Config, "AWSLogs/444455556666/Config/us-east-1/2024/5/1/ConfigSnapshot/x.json.gz", "", `{"configurationItems":[{}]}`, "444455556666"},
		{Config, "c.json", "", `{"configurationItems":[{"awsAccountId":"555566667777"}]}`, "555566667777"},
		{VPCFlow, "v.log", "", "2 666677778888 eni - - - - - - - 1 2 - NODATA\n", "666677778888"},
	} {
		r, err := NewObjectReader(tc.typ, strings.NewReader(tc.data), ObjectInfo{Key: tc.key, AccountID: tc.id}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			ev, _, err := r.Next()
			if err != nil {
				break
			}
			if !strings.Contains(string(ev), `"aws_account_id": "`+tc.want+`"`) {
				t.Errorf("%s %s: %s, want account %s", tc.typ, tc.key, ev, tc.want)
			}
		}
	}
}

func TestSkipRecords(t *testing.T) {
	data := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		strings.Repeat("2 123456789012 eni-1 - - - - - - - 1 2 - NODATA\n", 5)
	_, recs, errs := readEvents(t, VPCFlow, "v", data, Options{SkipRecords: 3})
	if len(errs) != 0 || len(recs) != 3 || recs[0] != 3 || recs[2] != 5 {
		t.Fatalf("records %v, errors %v; want 3 4 5", recs, errs)
	}
}

// TestLineEndings: "\r\n" and a lone "\r" end lines, as in Python's universal
// newlines; a final line may lack its terminator.
func TestLineEndings(t *testing.T) {
	got, recs, _ := readEvents(t, ServerAccess, "k", "a b\r\nc d\re f\r\r\ng h", Options{})
	if len(got) != 5 || recs[4] != 4 || !strings.Contains(got[2], `"bucket_owner": "e"`) ||
		!strings.Contains(got[3], `"bucket_owner": ""`) || !strings.Contains(got[4], `"bucket": "h"`) {
		t.Fatalf("records %v:\n%s", recs, strings.Join(got, "\n"))
	}
}
