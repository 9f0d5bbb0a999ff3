package msgraph

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/skywatch-dev/skywatch/internal/azureclient"
	"github.com/skywatch-dev/skywatch/internal/config"
)

// Event formats (Resource.Format).
const (
	// FormatAzureADGraph is the shape of Wazuh's azure-logs module (--graph):
	// the record with "azure_tag":"azure-ad-graph" and "azure_aad_tag", at
	// location Azure.
	FormatAzureADGraph = "azure-ad-graph"
	// FormatMSGraph is the shape of Wazuh's ms-graph module:
	// {"integration":"ms-graph","ms-graph":{<record>,"resource":..,"relationship":..}},
	// at location ms-graph.
	FormatMSGraph = "ms-graph"
)

// Defaults.
const (
	DefaultInterval      = 5 * time.Minute
	DefaultLookback      = 15 * time.Minute
	DefaultMaxWindow     = time.Hour
	DefaultPageSize      = 500
	DefaultMaxRetryAfter = 5 * time.Minute
)

// DefaultResources are read when resources is not set.
var DefaultResources = []string{"auditLogs/directoryAudits", "auditLogs/signIns", "security/alerts_v2", "identityProtection/riskDetections"}

// known holds, per resource path, the property its window is filtered on and
// its event format. alerts_v2 and incidents filter on their last update, so a
// status change (resolved, classified) is delivered as a new version; risk
// detections on detectedDateTime, since offline detections carry an
// activityDateTime hours or days in the past and a window on it would already
// be closed when they appear.
var known = map[string]struct{ timeField, format string }{
	"auditLogs/directoryAudits":                         {"activityDateTime", FormatAzureADGraph},
	"auditLogs/signIns":                                 {"createdDateTime", FormatAzureADGraph},
	"auditLogs/provisioning":                            {"activityDateTime", FormatAzureADGraph},
	"security/alerts_v2":                                {"lastUpdateDateTime", FormatMSGraph},
	"security/incidents":                                {"lastUpdateDateTime", FormatMSGraph},
	"identityProtection/riskDetections":                 {"detectedDateTime", FormatMSGraph},
	"identityProtection/servicePrincipalRiskDetections": {"detectedDateTime", FormatMSGraph},
}

// Config is the "ms-graph" source's configuration.
type Config struct {
	// Azure holds the credential keys shared by the Azure sources (tenant_id,
	// client_id, client_secret, certificate_file, auth, cloud, authority_host),
	// written flat in the source's section.
	Azure azureclient.Config `yaml:",inline"`
	// Resources are the Graph v1.0 collections read (default DefaultResources).
	Resources []Resource `yaml:"resources"`
	// Endpoint overrides the cloud's Graph base URL (tests, proxies). Tokens
	// are still asked for the cloud's Graph.
	Endpoint string `yaml:"endpoint"`
	// OnlyLogsAfter is the oldest record read on the first run: 2024-01-31 or
	// an RFC 3339 time (default: 00:00 UTC of the first run's day).
	OnlyLogsAfter string `yaml:"only_logs_after"`
	// Interval is the time between passes in service mode (default 5m).
	Interval config.Duration `yaml:"interval"`
	// Lookback is how far before the end of the last complete window each
	// window starts again, for records Graph makes visible late (default 15m).
	Lookback config.Duration `yaml:"lookback"`
	// MaxWindow bounds one window's span, so a backlog is read in steps whose
	// ids fit in memory (default 1h).
	MaxWindow config.Duration `yaml:"max_window"`
	// PageSize is $top (default 500, the largest riskDetections accepts).
	PageSize int `yaml:"page_size"`
	// MaxRetryAfter caps a throttled reply's Retry-After (default 5m).
	MaxRetryAfter config.Duration `yaml:"max_retry_after"`
}

// Resource is one collection: a path such as "auditLogs/signIns", written
// alone or as a mapping with the optional keys below.
type Resource struct {
	// Resource is the collection's path under /v1.0/.
	Resource string `yaml:"resource"`
	// Filter is an extra OData $filter, ANDed with the time window.
	Filter string `yaml:"filter"`
	// Tag is azure_aad_tag in azure-ad-graph events (default: the path).
	Tag string `yaml:"tag"`
	// TimeField is the DateTimeOffset property windows filter on (default per
	// known resource; required for others).
	TimeField string `yaml:"time_field"`
	// Format is azure-ad-graph or ms-graph (default: azure-ad-graph for
	// auditLogs/*, ms-graph otherwise).
	Format string `yaml:"format"`
}

// UnmarshalYAML reads a resource written as a path or as a mapping, refusing
// unknown keys as the configuration loader does elsewhere.
func (r *Resource) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*r = Resource{Resource: n.Value}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a resource is a path or a mapping with resource, filter, tag, time_field, format", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "resource", "filter", "tag", "time_field", "format":
		default:
			return fmt.Errorf("line %d: unknown resource key %q (want resource, filter, tag, time_field or format)", n.Content[i].Line, k)
		}
	}
	type plain Resource
	return n.Decode((*plain)(r))
}

// unitKey names the resource's checkpoint: the path, and the filter when set,
// so two entries for one path with different filters keep their own windows.
func (r Resource) unitKey() string {
	if r.Filter == "" {
		return r.Resource
	}
	return r.Resource + "?" + r.Filter
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Interval: config.Duration(DefaultInterval), Lookback: config.Duration(DefaultLookback),
		MaxWindow: config.Duration(DefaultMaxWindow), PageSize: DefaultPageSize,
		MaxRetryAfter: config.Duration(DefaultMaxRetryAfter)}
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if err := c.Azure.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.Resources) == 0 {
		for _, r := range DefaultResources {
			c.Resources = append(c.Resources, Resource{Resource: r})
		}
	}
	units := map[string]bool{}
	for i := range c.Resources {
		r := &c.Resources[i]
		r.Resource = strings.Trim(strings.TrimSpace(r.Resource), "/")
		k := known[r.Resource]
		if r.TimeField == "" {
			r.TimeField = k.timeField
		}
		if r.Format == "" {
			r.Format = k.format
			if r.Format == "" {
				r.Format = FormatMSGraph
			}
		}
		if r.Tag == "" {
			r.Tag = r.Resource
		}
		switch {
		case r.Resource == "" || strings.ContainsAny(r.Resource, "?#$ \t\n"):
			fail("resources", "entry %d: want a collection path such as auditLogs/signIns, got %q", i+1, r.Resource)
		case r.TimeField == "":
			fail("resources", "%s: time_field is required for a resource skywatch does not know", r.Resource)
		case strings.ContainsAny(r.Filter+r.TimeField+r.Tag, "\x00\r\n"):
			fail("resources", "%s: filter, time_field and tag must be one line", r.Resource)
		case r.Format != FormatAzureADGraph && r.Format != FormatMSGraph:
			fail("resources", "%s: format must be %s or %s, got %q", r.Resource, FormatAzureADGraph, FormatMSGraph, r.Format)
		case units[r.unitKey()]:
			fail("resources", "%s is listed twice with the same filter", r.Resource)
		}
		units[r.unitKey()] = true
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || u.Scheme != "https" || u.Host == "" {
			fail("endpoint", "must be an https:// URL")
		}
	}
	if _, err := parseDate(c.OnlyLogsAfter); err != nil {
		fail("only_logs_after", "%v", err)
	}
	durations := []struct {
		field string
		v     *config.Duration
		def   time.Duration
		min   time.Duration
	}{
		{"interval", &c.Interval, DefaultInterval, time.Second},
		{"max_window", &c.MaxWindow, DefaultMaxWindow, time.Minute},
		{"max_retry_after", &c.MaxRetryAfter, DefaultMaxRetryAfter, time.Second},
	}
	for _, d := range durations {
		switch {
		case d.v.Std() == 0:
			*d.v = config.Duration(d.def)
		case d.v.Std() < d.min:
			fail(d.field, "must be at least %v", d.min)
		}
	}
	if c.Lookback.Std() < 0 {
		fail("lookback", "must not be negative")
	}
	switch {
	case c.PageSize == 0:
		c.PageSize = DefaultPageSize
	case c.PageSize < 1 || c.PageSize > 1000:
		fail("page_size", "must be between 1 and 1000")
	}
	return errors.Join(errs...)
}

// graphBase is where requests go; the token is always for the cloud's Graph.
func (c *Config) graphBase() string {
	if c.Endpoint != "" {
		return strings.TrimRight(c.Endpoint, "/")
	}
	return c.Azure.CloudEndpoints().Graph
}

// parseDate reads only_logs_after: a day (2024-01-31) or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("invalid date %q: want 2024-01-31 or an RFC 3339 time", s)
}
