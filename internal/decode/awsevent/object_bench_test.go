package awsevent

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

type benchObject struct {
	typ, key string
	data     []byte
	events   int
}

// benchObjects returns one object of 1000 typical records per log type.
func benchObjects() []benchObject {
	const n = 1000
	rep := func(head, rec, sep, tail string) []byte {
		var b strings.Builder
		b.WriteString(head)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(rec)
		}
		b.WriteString(tail)
		return []byte(b.String())
	}
	ct := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/bob",` +
		`"accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","userName":"bob"},"eventTime":"2024-05-01T08:00:05Z","eventSource":"iam.amazonaws.com",` +
		`"eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15","requestParameters":null,` +
		`"responseElements":null,"requestID":"4d1c","eventID":"9f2a","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,` +
		`"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","clientProvidedHostHeader":"iam.amazonaws.com"}}`
	cfg := `{"relatedEvents":[],"relationships":[{"resourceId":"sg-1","resourceType":"AWS::EC2::SecurityGroup","name":"Is associated with "}],` +
		`"configuration":{"instanceId":"i-1","imageId":"ami-1","state":{"code":16,"name":"running"},"securityGroups":[{"groupName":"web","groupId":"sg-1"}],` +
		`"iamInstanceProfile":{"arn":"arn:aws:iam::1:instance-profile/x","id":"AIPA"},"blockDeviceMappings":[{"deviceName":"/dev/xvda","ebs":{"volumeId":"vol-1"}}],` +
		`"tags":[{"key":"Name","value":"web"}]},"supplementaryConfiguration":{},"tags":{"Name":"web"},"configurationItemVersion":"1.3",` +
		`"configurationItemCaptureTime":"2024-05-01T08:00:00.000Z","configurationStateId":1714550400000,"awsAccountId":"111122223333",` +
		`"configurationItemStatus":"OK","resourceType":"AWS::EC2::Instance","resourceId":"i-1","awsRegion":"us-east-1","availabilityZone":"us-east-1a"}`
	gd := `{"schemaVersion":"2.0","accountId":"111122223333","region":"us-east-1","partition":"aws","id":"f1","arn":"arn:aws:guardduty:us-east-1:1:detector/d/finding/f1",` +
		`"type":"Recon:EC2/PortProbeUnprotectedPort","resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"i-1","tags":[{"key":"Name","value":"web"}]}},` +
		`"service":{"serviceName":"guardduty","detectorId":"d","action":{"actionType":"PORT_PROBE","portProbeAction":{"blocked":false,"portProbeDetails":` +
		`[{"localPortDetails":{"port":22,"portName":"SSH"},"remoteIpDetails":{"ipAddressV4":"198.51.100.7","country":{"countryName":"X"}}}]}},` +
		`"archived":false,"count":3,"eventFirstSeen":"2024-05-01T08:00:00Z","eventLastSeen":"2024-05-01T08:05:00Z"},"severity":2,"createdAt":"2024-05-01T08:00:00Z",` +
		`"updatedAt":"2024-05-01T08:05:00Z","title":"Unprotected port on EC2 instance i-1 is being probed."}`
	waf := `{"timestamp":1714550400000,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:1:regional/webacl/w/1","terminatingRuleId":"Default_Action",` +
		`"terminatingRuleType":"REGULAR","action":"ALLOW","terminatingRuleMatchDetails":[],"httpSourceName":"ALB","httpSourceId":"1-app/x",` +
		`"ruleGroupList":[],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"requestHeadersInserted":null,"responseCodeSent":null,` +
		`"httpRequest":{"clientIp":"198.51.100.7","country":"US","headers":[{"name":"Host","value":"example.com"},{"name":"User-Agent","value":"curl/8"},` +
		`{"name":"Accept","value":"*/*"},{"name":"X-Amzn-Trace-Id","value":"Root=1"}],"uri":"/","args":"","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"r"}}`
	env := `{"version":"0","id":"e1","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"111122223333",` +
		`"time":"2024-05-01T08:00:00Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:1:instance/i-1"],"detail":{"instance-id":"i-1","state":"running"}}`
	sh := `{"version":"0","id":"e1","detail-type":"Security Hub Findings - Imported","source":"aws.securityhub","account":"111122223333",` +
		`"time":"2024-05-01T08:00:00Z","region":"us-east-1","resources":["arn"],"detail":{"findings":[{"SchemaVersion":"2018-10-08","Id":"f1",` +
		`"ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty","GeneratorId":"g","AwsAccountId":"111122223333","Types":["TTPs"],` +
		`"CreatedAt":"2024-05-01T08:00:00Z","UpdatedAt":"2024-05-01T08:00:00Z","Severity":{"Label":"MEDIUM","Normalized":40},"Title":"t",` +
		`"Description":"d","Resources":[{"Type":"AwsEc2Instance","Id":"i-1","Region":"us-east-1"}],"RecordState":"ACTIVE","Workflow":{"Status":"NEW"}}]}}`
	vpc := "2 111122223333 eni-0b2fc5457066bc156 89.248.165.164 10.0.0.164 39540 1900 17 1 118 1630619088 1630619102 REJECT OK"
	alb := `https 2024-05-01T08:00:00.356586Z app/web/jf29fj2198ejf922 198.51.100.7:44325 10.0.0.12:32869 0.013 0.164 0.000 200 200 391 107999 ` +
		`"GET https://www.example.com:443/ HTTP/1.1" "Mozilla/5.0 (compatible)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1 ` +
		`"Root=1-58337262-36d228ad5d99923122bbe354" "www.example.com" "arn:aws:acm:us-east-1:1:certificate/c" 0 2024-05-01T08:00:00.300000Z "forward" "-" "-" "10.0.0.12:32869" "200" "-" "-"`
	clb := `2024-05-01T08:00:00.945958Z my-lb 198.51.100.7:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -`
	nlb := "tls 2.0 2024-05-01T08:00:00 net/my-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd 198.51.100.7:51341 10.0.0.185:443 5 2 98 246 - arn:aws:acm:us-east-1:1:certificate/c - ECDHE-RSA-AES128-SHA tlsv12 - nlb.example.com h2 h2"
	s3 := `79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 ` +
		`79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" ` +
		`200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV2 ECDHE-RSA-AES128-GCM-SHA256 ` +
		`AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes`
	hdr := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	return []benchObject{
		{CloudTrail, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz", rep(`{"Records":[`, ct, ",", "]}"), n},
		{Config, "AWSLogs/111122223333/Config/us-east-1/2024/5/1/ConfigHistory/x.json.gz", rep(`{"fileVersion":"1.0","configurationItems":[`, cfg, ",", "]}"), n},
		{VPCFlow, "AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/x.log.gz", rep(hdr, vpc, "\n", "\n"), n},
		{GuardDuty, "AWSLogs/111122223333/GuardDuty/us-east-1/2024/05/01/x.jsonl.gz", rep("", gd, "\n", "\n"), n},
		{WAF, "2024/05/01/08/waf-1.gz", rep("", waf, "\n", "\n"), n},
		{Custom, "2024/05/01/08/fh-1.gz", rep("", env, "", ""), n},
		{ALB, "AWSLogs/1/elasticloadbalancing/us-east-1/2024/05/01/a.log.gz", rep("", alb, "\n", "\n"), n},
		{CLB, "AWSLogs/1/elasticloadbalancing/us-east-1/2024/05/01/c.log", rep("", clb, "\n", "\n"), n},
		{NLB, "AWSLogs/1/elasticloadbalancing/us-east-1/2024/05/01/n.log.gz", rep("", nlb, "\n", "\n"), n},
		{ServerAccess, "2024-05-01-08-00-00-ABCDEF", rep("", s3, "\n", "\n"), n},
		{SecurityHub, "2024/05/01/08/sh-1.gz", rep("", sh, "", ""), n},
	}
}

// BenchmarkObjectReader reads a 1000-record object per log type; one op is one
// object, and ns/event and allocs/event are reported.
func BenchmarkObjectReader(b *testing.B) {
	for _, o := range benchObjects() {
		b.Run(o.typ, func(b *testing.B) {
			b.SetBytes(int64(len(o.data)))
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			events := 0
			for b.Loop() {
				r, err := NewObjectReader(o.typ, bytes.NewReader(o.data), ObjectInfo{Bucket: "b", Key: o.key}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, _, err := r.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					events++
				}
			}
			runtime.ReadMemStats(&ms1)
			if events != b.N*o.events {
				b.Fatalf("%d events, want %d", events, b.N*o.events)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(events), "allocs/event")
		})
	}
}
