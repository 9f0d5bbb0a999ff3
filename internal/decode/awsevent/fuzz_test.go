package awsevent

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppendCloudTrail checks that any input either fails or yields valid
// JSON, never panics, and that the one-pass fast path, whenever it accepts a
// record, writes exactly what the tree path writes.
func FuzzAppendCloudTrail(f *testing.F) {
	for _, tc := range conversionCases {
		f.Add([]byte(tc.record))
	}
	for _, tc := range conversionErrors {
		f.Add([]byte(tc.record))
	}
	f.Add([]byte(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","sessionContext":{"sessionIssuer":{},` +
		`"attributes":{"mfaAuthenticated":"false"}}},"sourceIPAddress":"203.0.113.9","requestParameters":` +
		`{"disableApiTermination":false,"filterSet":{"items":[{"name":"x","valueSet":{"items":[{"value":"a"}]}}]}},` +
		`"responseElements":null,"resources":[{"ARN":"arn:aws:s3:::b","type":"AWS::S3::Bucket"}],"readOnly":true}`))
	info := LogInfo{AccountAlias: "alias", LogFile: "AWSLogs/1/CloudTrail/x.json.gz", Bucket: "b"}
	f.Fuzz(func(t *testing.T, record []byte) {
		var enc Encoder
		out, err := enc.AppendCloudTrail([]byte("x"), record, info, "111122223333")
		if err != nil {
			if string(out) != "x" {
				t.Fatalf("dst changed on error: %q", out)
			}
			return
		}
		if !json.Valid(out[1:]) {
			t.Fatalf("invalid JSON for %q:\n%s", record, out[1:])
		}
		fast, ok := enc.fastCloudTrail(nil, record, info, "111122223333")
		if !ok {
			return
		}
		tree, err := enc.treeCloudTrail(nil, record, info, "111122223333")
		if err != nil {
			t.Fatalf("fast path accepted %q, tree path failed: %v", record, err)
		}
		if !bytes.Equal(fast, tree) {
			t.Fatalf("paths differ for %q:\nfast %s\ntree %s", record, fast, tree)
		}
	})
}
