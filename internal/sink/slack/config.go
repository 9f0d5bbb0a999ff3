package slack

import (
	"errors"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
)

// Config is the slack output's section of the configuration file.
type Config struct {
	// WebhookURL is the incoming webhook's URL (required). Its path is the
	// credential: anyone holding it can post to the channel.
	WebhookURL config.Secret `yaml:"webhook_url"`
	// DashboardURL is the base URL of the skywatch dashboard; when set each
	// message links to <dashboard_url>/alerts/<id>.
	DashboardURL string `yaml:"dashboard_url"`
	// Suppress holds repeats of the same alert back (off by default).
	Suppress suppress.Config `yaml:"suppress"`

	notify.Delivery `yaml:",inline"`
	sink.Selection  `yaml:",inline"`
}

// DefaultConfig returns the defaults, to be overlaid with the configured values.
func DefaultConfig() Config {
	return Config{Suppress: suppress.DefaultConfig(), Delivery: notify.DefaultDelivery()}
}

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	return errors.Join(
		notify.ValidateURL("webhook_url", c.WebhookURL, true),
		notify.ValidateURL("dashboard_url", config.Secret(c.DashboardURL), false),
		c.Suppress.Validate(), c.Delivery.Validate(), c.Selection.Validate(),
	)
}
