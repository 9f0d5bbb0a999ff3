package azurela

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/azureclient"
	"github.com/skywatch-dev/skywatch/internal/config"
)

// Config is the "azure-log-analytics" source's configuration.
type Config struct {
	// Azure holds the credential keys shared by the Azure sources (tenant_id,
	// client_id, client_secret, certificate_file, auth, cloud,
	// authority_host), written flat in the source's section.
	Azure azureclient.Config `yaml:",inline"`
	// Workspace is the workspace (customer) id the query runs against, as
	// Wazuh's <workspace>.
	Workspace string `yaml:"workspace"`
	// Workspaces are more workspaces to run the same query against; each has
	// its own checkpoint.
	Workspaces []string `yaml:"workspaces"`
	// Query is the KQL query (required). The source sets the time range through
	// the API's timespan parameter; the query needs no time filter.
	Query string `yaml:"query"`
	// Tag goes into every event as log_analytics_tag (default: the source name).
	Tag string `yaml:"tag"`
	// Interval is the time between two passes in service mode (default 5m).
	Interval config.Duration `yaml:"interval"`
	// TimeOffset is how far back the first pass of a workspace reaches, as
	// Wazuh's time_offset: 30m, 12h, 7d (default: 00:00 UTC of that day).
	TimeOffset string `yaml:"time_offset"`
	// Delay keeps the window's end this far behind now, so rows still being
	// ingested are read by a later pass (default 5m).
	Delay config.Duration `yaml:"delay"`
	// Overlap is how far before the last window's end the next window starts,
	// for rows ingested later than Delay; overlapping rows already delivered are
	// recognised and skipped (default 10m).
	Overlap config.Duration `yaml:"overlap"`
	// Endpoint overrides the query API's base URL, the part before
	// /workspaces/{id}/query (default: the cloud's, https://api.loganalytics.io/v1).
	Endpoint string `yaml:"endpoint"`
	// ServerTimeout is how long the service may run one query (Prefer: wait;
	// default 3m, at most 10m).
	ServerTimeout config.Duration `yaml:"server_timeout"`
	// BatchSize is the number of rows per batch handed to the pipeline
	// (default 500).
	BatchSize int `yaml:"batch_size"`
}

// Defaults.
const (
	DefaultInterval      = 5 * time.Minute
	DefaultDelay         = 5 * time.Minute
	DefaultOverlap       = 10 * time.Minute
	DefaultServerTimeout = 3 * time.Minute
	DefaultBatchSize     = 500
	maxServerTimeout     = 10 * time.Minute
)

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Interval: config.Duration(DefaultInterval), Delay: config.Duration(DefaultDelay),
		Overlap: config.Duration(DefaultOverlap), ServerTimeout: config.Duration(DefaultServerTimeout),
		BatchSize: DefaultBatchSize}
}

// A workspace id is a GUID; anything else is refused early because the service
// would answer each pass with an error.
var workspaceRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if err := c.Azure.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Workspace == "" && len(c.Workspaces) == 0 {
		fail("workspace", "required (the workspace id)")
	}
	seen := map[string]bool{}
	for i, ws := range c.AllWorkspaces() {
		field := "workspace"
		if c.Workspace == "" || i > 0 {
			field = fmt.Sprintf("workspaces[%d]", i-btoi(c.Workspace != ""))
		}
		switch {
		case !workspaceRE.MatchString(ws):
			fail(field, "%q is not a workspace id (a GUID such as 0b6f3c8e-1d2a-4c5b-9e7f-a1b2c3d4e5f6)", ws)
		case seen[strings.ToLower(ws)]:
			fail(field, "%q is listed twice", ws)
		}
		seen[strings.ToLower(ws)] = true
	}
	if strings.TrimSpace(c.Query) == "" {
		fail("query", "required (a KQL query such as: AzureActivity)")
	}
	if _, err := ParseOffset(c.TimeOffset); err != nil {
		fail("time_offset", "%v", err)
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || u.Scheme != "https" || u.Host == "" {
			fail("endpoint", "must be an https:// URL (the SDK sends bearer tokens only over TLS)")
		}
	}
	def := func(d *config.Duration, v time.Duration) {
		if *d == 0 {
			*d = config.Duration(v)
		}
	}
	def(&c.Interval, DefaultInterval)
	def(&c.ServerTimeout, DefaultServerTimeout)
	if c.Interval.Std() < time.Second {
		fail("interval", "must be at least 1s")
	}
	if c.Delay < 0 {
		fail("delay", "must not be negative")
	}
	if c.Overlap < 0 {
		fail("overlap", "must not be negative")
	}
	if d := c.ServerTimeout.Std(); d < time.Second || d > maxServerTimeout {
		fail("server_timeout", "must be between 1s and 10m (the service's limit)")
	}
	switch {
	case c.BatchSize == 0:
		c.BatchSize = DefaultBatchSize
	case c.BatchSize < 0:
		fail("batch_size", "must be positive")
	}
	return errors.Join(errs...)
}

// AllWorkspaces returns workspace followed by workspaces.
func (c *Config) AllWorkspaces() []string {
	var out []string
	if c.Workspace != "" {
		out = append(out, c.Workspace)
	}
	return append(out, c.Workspaces...)
}

// endpoint returns the query API's base URL.
func (c *Config) endpoint() string {
	if c.Endpoint != "" {
		return strings.TrimRight(c.Endpoint, "/")
	}
	return c.Azure.CloudEndpoints().LogAnalytics + "/v1"
}

// ParseOffset reads a time_offset: Wazuh's Nd, Nh, Nm (and Ns), or a Go
// duration such as 1h30m. Empty is 0 (meaning: the start of the day).
func ParseOffset(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 3650 {
			return 0, fmt.Errorf("invalid offset %q: want a number with a unit such as 30m, 12h or 7d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid offset %q: want a number with a unit such as 30m, 12h or 7d", s)
	}
	return d, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
