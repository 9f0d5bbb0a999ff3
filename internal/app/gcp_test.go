package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// Cloud Audit Log entries published to Pub/Sub and read through the wiring as
// users configure it (the emulator found through PUBSUB_EMULATOR_HOST, as
// Google's client finds it): the owner grant raises the built-in rule with the
// event wrapped as Wazuh's GCP module wraps it, and every message is acked.
func TestGCPPubSubWired(t *testing.T) {
	srv := pstest.NewServerWithAddress("127.0.0.1:0")
	defer srv.Close()
	t.Setenv("PUBSUB_EMULATOR_HOST", srv.Addr)
	ctx := context.Background()
	admin, err := pubsub.NewClient(ctx, "acme-prod")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	topic, sub := "projects/acme-prod/topics/audit", "projects/acme-prod/subscriptions/skywatch"
	if _, err := admin.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic, AckDeadlineSeconds: 30}); err != nil {
		t.Fatal(err)
	}
	grant := `{"insertId": "abc123", "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity", "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "authenticationInfo": {"principalEmail": "mallory@example.com"}, "methodName": "SetIamPolicy", "requestMetadata": {"callerIp": "52.174.10.20"}, "resourceName": "projects/acme-prod", "serviceName": "cloudresourcemanager.googleapis.com", "serviceData": {"@type": "type.googleapis.com/google.iam.v1.logging.AuditData", "policyDelta": {"bindingDeltas": [{"action": "ADD", "member": "user:mallory@example.com", "role": "roles/owner"}]}}, "status": {}}, "resource": {"labels": {"project_id": "acme-prod"}, "type": "project"}, "severity": "NOTICE", "timestamp": "2024-05-03T10:15:00.000Z"}`
	ids := []string{srv.Publish(topic, []byte(grant), nil), srv.Publish(topic, []byte("not json at all"), nil)}
	tmp := t.TempDir()
	alerts := filepath.Join(tmp, "alerts.json")
	text := "data_dir: " + tmp + "\nrules: [builtin]\noutputs:\n  - type: file\n    path: " + alerts + "\n" +
		"sources:\n  - name: audit\n    type: gcp-pubsub\n    project_id: acme-prod\n    subscription: skywatch\n"
	cfg, err := config.Parse("c.yaml", []byte(text))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, cfg, Options{Once: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != 2 {
		t.Fatalf("read %d events, want 2", sum.Events)
	}
	for _, id := range ids {
		if m := srv.Message(id); m == nil || m.Acks != 1 {
			t.Errorf("message %s: %+v, want acked once", id, m)
		}
	}
	out, err := os.ReadFile(alerts)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if s := string(l); strings.Contains(s, `"id":"400156"`) {
			for _, part := range []string{`"integration":"gcp"`, `"location":"Wazuh-GCloud"`, `"principalEmail":"mallory@example.com"`} {
				if !strings.Contains(s, part) {
					t.Errorf("alert lacks %s: %s", part, s)
				}
			}
			return
		}
	}
	t.Fatalf("no alert of rule 400156:\n%s", out)
}
