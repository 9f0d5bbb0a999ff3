package pagerduty

import (
	"errors"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/notify"
	"github.com/skywatch-dev/skywatch/internal/sink/suppress"
)

// DefaultEndpoint is the Events API v2 enqueue URL.
const DefaultEndpoint = "https://events.pagerduty.com/v2/enqueue"

// Config is the pagerduty output's section of the configuration file.
type Config struct {
	// RoutingKey is the integration key of an Events API v2 integration
	// (required, secret).
	RoutingKey config.Secret `yaml:"routing_key"`
	// Endpoint is the enqueue URL (default DefaultEndpoint; EU accounts may use
	// https://events.eu.pagerduty.com/v2/enqueue).
	Endpoint string `yaml:"endpoint"`
	// DashboardURL is the base URL of the skywatch dashboard; when set each
	// event links to <dashboard_url>/alerts/<id>.
	DashboardURL string `yaml:"dashboard_url"`
	// Suppress holds repeats of the same alert back (off by default).
	Suppress suppress.Config `yaml:"suppress"`

	notify.Delivery `yaml:",inline"`
	sink.Selection  `yaml:",inline"`
}

// DefaultConfig returns the defaults, to be overlaid with the configured values.
func DefaultConfig() Config {
	return Config{Endpoint: DefaultEndpoint, Suppress: suppress.DefaultConfig(), Delivery: notify.DefaultDelivery()}
}

// Validate checks the values and returns a config.FieldError for each bad one.
func (c *Config) Validate() error {
	errs := []error{
		notify.ValidateURL("endpoint", config.Secret(c.Endpoint), true),
		notify.ValidateURL("dashboard_url", config.Secret(c.DashboardURL), false),
		c.Suppress.Validate(), c.Delivery.Validate(), c.Selection.Validate(),
	}
	switch k := c.RoutingKey.Reveal(); {
	case k == "":
		errs = append(errs, config.FieldError{Field: "routing_key", Msg: "required"})
	case strings.ContainsAny(k, " \t\r\n") || len(k) > 255:
		errs = append(errs, config.FieldError{Field: "routing_key", Msg: "must be an integration key (no spaces)"})
	}
	return errors.Join(errs...)
}
