package gcppubsub

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestWrap(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1}`, `{"integration": "gcp", "gcp": {"a":1}}`},
		{" {\"a\":1}\r\n", `{"integration": "gcp", "gcp": {"a":1}}`},
		{`[1,2]`, `{"integration": "gcp", "gcp": [1,2]}`},
		{`hello "world"`, `{"integration": "gcp", "gcp": "hello \"world\""}`},
		{"a\\b\tc\x00<&>", `{"integration": "gcp", "gcp": "a\\b\tc\u0000<&>"}`},
		{"{\"k\":\"\xff\"}", "{\"integration\": \"gcp\", \"gcp\": {\"k\":\"\uFFFD\"}}"},
		{"text \xc3", "{\"integration\": \"gcp\", \"gcp\": \"text \\ufffd\"}"},
		{``, `{"integration": "gcp", "gcp": ""}`},
		{`{"a":1} {"b":2}`, `{"integration": "gcp", "gcp": "{\"a\":1} {\"b\":2}"}`},
	} {
		got, _ := wrap([]byte(tc.in))
		if string(got) != tc.want {
			t.Errorf("wrap(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzWrap: whatever a message holds, the event is valid UTF-8 JSON of
// Wazuh's shape, and it keeps the data: a JSON document as it is (bad UTF-8
// aside), anything else as a string equal to the text.
func FuzzWrap(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "text", "{\"a\":\"\xff\"}", `"s"`, "  ", `{"a":`, "\x00\x1f\"\\"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, kind := wrap(data)
		if !json.Valid(ev) || !utf8.Valid(ev) {
			t.Fatalf("invalid event %q for %q", ev, data)
		}
		var got struct {
			Integration string          `json:"integration"`
			GCP         json.RawMessage `json:"gcp"`
		}
		if err := json.Unmarshal(ev, &got); err != nil || got.Integration != "gcp" {
			t.Fatalf("event %q: %v", ev, err)
		}
		switch kind {
		case kindJSON:
			if !bytes.Equal(got.GCP, trimSpace(data)) {
				t.Fatalf("gcp %q, want the data %q", got.GCP, data)
			}
		case kindText:
			var s string
			if err := json.Unmarshal(got.GCP, &s); err != nil {
				t.Fatalf("gcp %q is not a string: %v", got.GCP, err)
			}
			if s != string([]rune(string(data))) { // each invalid byte becomes U+FFFD
				t.Fatalf("gcp %q, want the text %q", s, data)
			}
		}
	})
}

// FuzzValidJSON: validJSON agrees with encoding/json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,-0.5e+3,true,false,null,"\u00e9\n"]}`, `{"a":}`, `01`, `-`, `1.`, `1e`, `"\x01"`,
		`"\ud800"`, `[1,]`, `{"a" 1}`, ` [] `, `{} {}`, `"\x"`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) > 9000 {
			return // the depth limits are alike, not equal at the boundary
		}
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	doc := []byte(`{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","status":{},"authenticationInfo":{"principalEmail":"user@example.com"},"requestMetadata":{"callerIp":"203.0.113.7","callerSuppliedUserAgent":"google-cloud-sdk gcloud/450.0.0 command/gcloud.compute.instances.create"},"serviceName":"compute.googleapis.com","methodName":"v1.compute.instances.insert","resourceName":"projects/p/zones/us-central1-a/instances/vm-1"},"insertId":"abc","resource":{"type":"gce_instance","labels":{"project_id":"p","zone":"us-central1-a","instance_id":"123456789"}},"timestamp":"2024-05-01T10:00:00.123Z","severity":"NOTICE","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","receiveTimestamp":"2024-05-01T10:00:00.456789Z"}`)
	b.Run("validJSON", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for range b.N {
			if !validJSON(doc) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for range b.N {
			if !json.Valid(doc) {
				b.Fatal("invalid")
			}
		}
	})
}
