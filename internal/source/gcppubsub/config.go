package gcppubsub

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/gcpclient"
)

// Config is the gcp-pubsub source's configuration.
type Config struct {
	// GCP holds project_id, credentials_file and endpoint.
	GCP gcpclient.Config `yaml:",inline"`
	// Subscription is a subscription ID in project_id, or a full name
	// projects/<project>/subscriptions/<id>.
	Subscription string `yaml:"subscription"`
	// Subscriptions lists more subscriptions, read at the same time as
	// Subscription (either may be empty, not both).
	Subscriptions []string `yaml:"subscriptions"`
	// MaxOutstandingMessages is how many messages the source holds
	// unacknowledged at a time, over all its streams of one subscription
	// (default 10000). Messages are acknowledged only once their alerts are
	// durable, so this, divided by the time outputs take to flush, bounds the
	// rate.
	MaxOutstandingMessages int `yaml:"max_outstanding_messages"`
	// MaxOutstandingBytes bounds the data of the messages held (default 128MiB).
	MaxOutstandingBytes config.ByteSize `yaml:"max_outstanding_bytes"`
	// Streams is the number of StreamingPull streams per subscription (default 4;
	// one stream carries about 10 MB/s).
	Streams int `yaml:"streams"`
	// MaxExtension is how long the client keeps extending a held message's ack
	// deadline; past it, Pub/Sub may deliver the message again (default 1h).
	MaxExtension config.Duration `yaml:"max_extension"`
	// BatchSize is how many messages go into one batch at most (default 500).
	BatchSize int `yaml:"batch_size"`
	// BatchLinger is how long a batch waits to fill before it is sent anyway
	// (default 50ms).
	BatchLinger config.Duration `yaml:"batch_linger"`
	// WarnDeliveryAttempts: a message delivered this many times or more is logged
	// (subscriptions with a dead-letter policy report attempts; default 5).
	WarnDeliveryAttempts int `yaml:"warn_delivery_attempts"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxOutstandingMessages: 10000,
		MaxOutstandingBytes:    128 << 20,
		Streams:                4,
		MaxExtension:           config.Duration(time.Hour),
		BatchSize:              500,
		BatchLinger:            config.Duration(50 * time.Millisecond),
		WarnDeliveryAttempts:   5,
	}
}

// subscriptionID follows Pub/Sub's naming rule: 3 to 255 characters, starting
// with a letter, of letters, digits and - _ . ~ + %.
var subscriptionID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.~+%-]{2,254}$`)

// projectID is a Google Cloud project ID (or a legacy domain-scoped one).
var projectID = regexp.MustCompile(`^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)

// Validate checks the configuration and reports every problem.
func (c *Config) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if err := c.GCP.Validate(); err != nil {
		errs = append(errs, err)
	} else if !projectID.MatchString(c.GCP.ProjectID) {
		fail("project_id", "%q is not a project ID (6 to 30 lowercase letters, digits and hyphens)", c.GCP.ProjectID)
	}
	if c.Subscription == "" && len(c.Subscriptions) == 0 {
		fail("subscription", "required (a subscription ID or projects/<project>/subscriptions/<id>)")
	}
	seen := map[string]bool{}
	for i, name := range c.all() {
		field := "subscription"
		if c.Subscription == "" || i > 0 {
			field = fmt.Sprintf("subscriptions[%d]", i-btoi(c.Subscription != ""))
		}
		if err := checkSubscription(name); err != nil {
			fail(field, "%v", err)
			continue
		}
		full := c.fullName(name)
		if seen[full] {
			fail(field, "%q is listed twice", name)
		}
		seen[full] = true
	}
	if c.MaxOutstandingMessages < 1 {
		fail("max_outstanding_messages", "must be at least 1")
	}
	if c.MaxOutstandingBytes < 1<<20 {
		fail("max_outstanding_bytes", "must be at least 1MiB (a message may hold up to 10 MB)")
	}
	if c.Streams < 1 || c.Streams > 256 {
		fail("streams", "must be between 1 and 256")
	}
	if c.MaxExtension.Std() < 10*time.Second {
		fail("max_extension", "must be at least 10s")
	}
	if c.BatchSize < 1 {
		fail("batch_size", "must be at least 1")
	}
	if l := c.BatchLinger.Std(); l < 0 || l > 10*time.Second {
		fail("batch_linger", "must be between 0s and 10s")
	}
	if c.WarnDeliveryAttempts < 2 {
		fail("warn_delivery_attempts", "must be at least 2")
	}
	return errors.Join(errs...)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// all returns every configured subscription as written.
func (c *Config) all() []string {
	var out []string
	if c.Subscription != "" {
		out = append(out, c.Subscription)
	}
	return append(out, c.Subscriptions...)
}

// fullName returns projects/<project>/subscriptions/<id> for an ID or a full
// name.
func (c *Config) fullName(name string) string {
	if strings.HasPrefix(name, "projects/") {
		return name
	}
	return "projects/" + c.GCP.ProjectID + "/subscriptions/" + name
}

// checkSubscription accepts a subscription ID or a full subscription name.
func checkSubscription(name string) error {
	id := name
	if strings.HasPrefix(name, "projects/") {
		parts := strings.Split(name, "/")
		if len(parts) != 4 || parts[2] != "subscriptions" || parts[1] == "" {
			return fmt.Errorf("%q is not a subscription name such as projects/my-project/subscriptions/my-sub", name)
		}
		id = parts[3]
	}
	if !subscriptionID.MatchString(id) || strings.HasPrefix(id, "goog") {
		return fmt.Errorf("%q is not a subscription ID (3 to 255 letters, digits and - _ . ~ + %%, starting with a letter, not with goog)", id)
	}
	return nil
}
