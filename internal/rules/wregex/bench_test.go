package wregex

import "testing"

// benchLine is a representative CloudTrail record as one JSON line (about
// 1.5 KB), written for these benchmarks.
const benchLine = `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID1234567:alice.smith","arn":"arn:aws:sts::123456789012:assumed-role/OrgAdmin/alice.smith","accountId":"123456789012","accessKeyId":"ASIAEXAMPLEKEY123456","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID1234567","arn":"arn:aws:iam::123456789012:role/OrgAdmin","accountId":"123456789012","userName":"OrgAdmin"},"webIdFederationData":{},"attributes":{"creationDate":"2024-05-01T09:12:44Z","mfaAuthenticated":"true"}}},"eventTime":"2024-05-01T09:31:02Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.24","userAgent":"[aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1017-aws exe/x86_64.ubuntu.22 prompt/off command/s3api.put-bucket-policy]","requestParameters":{"bucketPolicy":{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::example-reports-bucket/*"]}]},"bucketName":"example-reports-bucket","Host":"example-reports-bucket.s3.eu-west-1.amazonaws.com","policy":""},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":312,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"EXAMPLEid2ZmFrZS1pZC0y","bytesTransferredOut":0},"requestID":"EXAMPLE7Q2M9Z4K1","eventID":"3b5c1f0e-8d2a-4c7b-9e61-0f4a2d8c7b11","readOnly":false,"resources":[{"accountId":"123456789012","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::example-reports-bucket"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"example-reports-bucket.s3.eu-west-1.amazonaws.com"}}`

// benchField is a short field value such as a rule <field> tests.
const benchField = "PutBucketPolicy-eu-1"

var regexShapes = []struct{ name, pat string }{
	{"literal_hit", `PutBucketPolicy`},
	{"literal_miss", `DeleteTrail`},
	{"literal_alternation_miss", `StopLogging|DeleteTrail|UpdateTrail|DeleteFlowLogs`},
	{"prefix", `^{"eventVersion"`},
	{"suffix_miss", `"}$`},
	{"json_prematch", `^{\s*"`},
	{"any_plus", `\.+`},
	{"digits_plus", `\d+`},
	{"anchored_nonspace", `^\S+$`},
	{"decoder_capture", `"sourceIPAddress":"(\S+)","userAgent`},
	{"vm_prefilter_miss", `user (\S+) from (\S+)`},
	{"vm_lead_class", `\d\d\d\d-\d\d-\d\dT`},
}

func BenchmarkRegex(b *testing.B) {
	for _, sh := range regexShapes {
		r, err := CompileRegex(sh.pat)
		if err != nil {
			b.Fatal(err)
		}
		for _, in := range []struct{ name, s string }{{"line", benchLine}, {"field", benchField}} {
			s := []byte(in.s)
			b.Run(sh.name+"/"+in.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(s)))
				for b.Loop() {
					r.Match(s)
				}
			})
		}
	}
}

func BenchmarkRegexCaptures(b *testing.B) {
	r, err := CompileRegex(`"sourceIPAddress":"(\S+)","userAgent":"(\.+)"`)
	if err != nil {
		b.Fatal(err)
	}
	s := []byte(benchLine)
	dst := make([][]byte, 0, 4)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		dst, _, _ = r.Captures(s, dst)
	}
}

var matchShapes = []struct{ name, pat string }{
	{"substring_hit", `PutBucketPolicy`},
	{"substring_miss", `DeleteTrail`},
	{"alternation_miss", `StopLogging|DeleteTrail|UpdateTrail|DeleteFlowLogs|PutEventSelectors`},
	{"prefix", `^putbucket`},
	{"suffix", `eu-1$`},
	{"exact", `^PutBucketPolicy-eu-1$`},
	{"negated", `!AwsApiCall`},
}

func BenchmarkMatch(b *testing.B) {
	for _, sh := range matchShapes {
		m, err := CompileMatch(sh.pat)
		if err != nil {
			b.Fatal(err)
		}
		for _, in := range []struct{ name, s string }{{"line", benchLine}, {"field", benchField}} {
			s := []byte(in.s)
			b.Run(sh.name+"/"+in.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(s)))
				for b.Loop() {
					m.Match(s)
				}
			})
		}
	}
}

func BenchmarkPCRE(b *testing.B) {
	for _, sh := range []struct{ name, pat string }{
		{"re2_caseless_miss", `(?i)(DeleteTrail|StopLogging)`},
		{"re2_anchored", `^\{"eventVersion":"\d+\.\d+"`},
		{"backtrack_lookahead", `^(?!^$|^-$).*`},
	} {
		p, err := CompilePCRE(sh.pat)
		if err != nil {
			b.Fatal(err)
		}
		s := []byte(benchLine)
		b.Run(sh.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				p.Match(s)
			}
		})
	}
}

// TestMatchDoesNotAllocate keeps the zero-allocation property of the hot
// paths from regressing (allocation counts are deterministic, unlike time).
func TestMatchDoesNotAllocate(t *testing.T) {
	line := []byte(benchLine)
	for _, sh := range regexShapes {
		r, err := CompileRegex(sh.pat)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(20, func() { r.Match(line) }); n != 0 {
			t.Errorf("Regex %s: %v allocs per Match", sh.name, n)
		}
	}
	for _, sh := range matchShapes {
		m, err := CompileMatch(sh.pat)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(20, func() { m.Match(line) }); n != 0 {
			t.Errorf("Match %s: %v allocs per Match", sh.name, n)
		}
	}
	r, _ := CompileRegex(`"sourceIPAddress":"(\S+)","userAgent":"(\.+)"`)
	dst := make([][]byte, 0, 4)
	if n := testing.AllocsPerRun(20, func() { dst, _, _ = r.Captures(line, dst) }); n != 0 {
		t.Errorf("Regex Captures: %v allocs per call", n)
	}
}
