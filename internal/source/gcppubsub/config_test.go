package gcppubsub

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

func TestConfigDefaults(t *testing.T) {
	c := DefaultConfig()
	c.GCP.ProjectID, c.Subscription = "my-project", "sub"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxOutstandingMessages != 10000 || c.MaxOutstandingBytes != 128<<20 || c.Streams != 4 || c.MaxExtension.Std() != time.Hour ||
		c.BatchSize != 500 || c.BatchLinger.Std() != 50*time.Millisecond || c.WarnDeliveryAttempts != 5 {
		t.Errorf("defaults %+v", c)
	}
	c.Subscription, c.Subscriptions = "", []string{"projects/other-project/subscriptions/a.b~c+d%e", "x-y"}
	if err := c.Validate(); err != nil {
		t.Errorf("subscriptions only: %v", err)
	}
}

// TestConfigErrors: every problem is reported at once, each with its field.
func TestConfigErrors(t *testing.T) {
	c := DefaultConfig()
	c.GCP.ProjectID = "My_Project"
	c.Subscription = "goog-sub"
	c.Subscriptions = []string{"projects/p/topics/t", "ok-sub", "ok-sub"}
	c.MaxOutstandingMessages, c.MaxOutstandingBytes, c.Streams, c.BatchSize = 0, 1000, 0, 0
	c.MaxExtension, c.BatchLinger = config.Duration(time.Second), config.Duration(time.Minute)
	c.WarnDeliveryAttempts = 1
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, field := range []string{"project_id:", "subscription:", "subscriptions[0]:", "subscriptions[2]: \"ok-sub\" is listed twice",
		"max_outstanding_messages:", "max_outstanding_bytes:", "streams:", "max_extension:", "batch_size:", "batch_linger:", "warn_delivery_attempts:"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("no %s error in:\n%v", field, err)
		}
	}
	c = DefaultConfig()
	c.GCP.ProjectID = "my-project"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "subscription: required") {
		t.Errorf("no subscription: %v", err)
	}
}

// TestReadmeExample keeps the README's configuration example valid: it must
// parse, decode strictly into the source's Config, validate, mean what the
// README says, and (pointed at pstest through PUBSUB_EMULATOR_HOST) read.
func TestReadmeExample(t *testing.T) {
	e := newEnv(t)
	sc := configtest.ExampleFromREADME(t, "README.md").Sources[0]
	c := DefaultConfig()
	if err := sc.Decode(&c); err != nil {
		t.Fatalf("the README example does not decode: %v", err)
	}
	if sc.Type != "gcp-pubsub" || sc.Name != "gcp-audit" || c.GCP.ProjectID != "my-project" || c.Subscription != "skywatch-audit" ||
		len(c.Subscriptions) != 1 || c.GCP.CredentialsFile != "/etc/skywatch/gcp-reader.json" || c.MaxOutstandingBytes != 128<<20 ||
		c.BatchLinger.Std() != 50*time.Millisecond || c.MaxExtension.Std() != time.Hour {
		t.Errorf("README example decoded to %s %q: %+v", sc.Type, sc.Name, c)
	}

	// The same settings, with the emulator variable and a service-account key
	// file, read the test subscription.
	c.GCP.ProjectID, c.Subscription, c.Subscriptions = project, "logs-sub", nil
	c.GCP.CredentialsFile = config.Path(writeKey(t))
	t.Setenv("PUBSUB_EMULATOR_HOST", e.srv.Addr)
	e.publish("logs", []byte(`{"from":"readme"}`))
	s, err := New(c, Settings{Name: sc.Name, Once: true, Logger: e.logger, OnceIdle: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	sk := &sink{}
	if err := s.Run(context.Background(), sk.emit); err != nil {
		t.Fatal(err)
	}
	if gs := sk.all(); len(gs) != 1 || gs[0].log != `{"integration": "gcp", "gcp": {"from":"readme"}}` {
		t.Errorf("events %+v", gs)
	}
}

const secretKey = "SECRET-KEY-MATERIAL-7f3a"

// writeKey writes a service-account key file whose private key is not a key.
func writeKey(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sa.json")
	body := `{"type":"service_account","project_id":"test-project","private_key_id":"k1",` +
		`"private_key":"-----BEGIN PRIVATE KEY-----\n` + secretKey + `\n-----END PRIVATE KEY-----\n",` +
		`"client_email":"reader@test-project.iam.gserviceaccount.com","token_uri":"http://127.0.0.1:1/token"}`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCredentialsNeverShown: with a service-account key that cannot sign, the
// calls fail; neither the errors nor the logs show the key.
func TestCredentialsNeverShown(t *testing.T) {
	e := newEnv(t)
	c := e.config()
	c.GCP.CredentialsFile = config.Path(writeKey(t))
	c.Subscriptions = []string{"no-such-sub"}
	set := e.settings(nil)
	set.ClientOptions = set.ClientOptions[:1] // the endpoint only: the client authenticates with the key
	s := e.newSource(t, c, set)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.Run(ctx, (&sink{}).emit)
	if err == nil {
		t.Fatal("Run succeeded with a key that cannot sign")
	}
	t.Logf("Run: %v", err)
	for _, text := range []string{err.Error(), e.logs.String()} {
		if strings.Contains(text, secretKey) {
			t.Errorf("the key shows in:\n%s", text)
		}
	}
	// A file of an unsupported type is refused at start, by name, without its content.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"type":"impersonated_service_account","private_key":"`+secretKey+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c.GCP.CredentialsFile = config.Path(bad)
	_, err = New(c, set)
	if err == nil || !strings.Contains(err.Error(), "bad.json") || strings.Contains(err.Error(), secretKey) {
		t.Errorf("New with an impersonation file: %v", err)
	}
}
