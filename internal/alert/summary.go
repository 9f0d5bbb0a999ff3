package alert

import (
	"encoding/json"
	"strings"
	"time"
)

// Summary is what people triaging an alert look at first, read from an encoded
// alert whatever cloud it came from. The store indexes it, the API filters on it
// and chat sinks print it. Empty strings mean "not in this alert".
type Summary struct {
	ID          string
	Timestamp   time.Time
	Level       int
	RuleID      string
	Description string
	Groups      []string
	Location    string
	// Provider is "aws", "azure", "gcp" or "".
	Provider string
	// Account is the AWS account id, Azure subscription or tenant, or GCP project.
	Account   string
	Region    string
	Principal string
	SrcIP     string
	// Tactics and Techniques are the ATT&CK tactic names and technique ids.
	Tactics    []string
	Techniques []string
	// Facets are the per-cloud dimensions (service, action, ...).
	Facets Facets
}

type encodedAlert struct {
	Timestamp string `json:"timestamp"`
	ID        string `json:"id"`
	Location  string `json:"location"`
	Rule      struct {
		Level       int      `json:"level"`
		ID          string   `json:"id"`
		Description string   `json:"description"`
		Groups      []string `json:"groups"`
		Mitre       struct {
			ID     []string `json:"id"`
			Tactic []string `json:"tactic"`
		} `json:"mitre"`
	} `json:"rule"`
	Data map[string]any `json:"data"`
}

// Summarize reads the triage summary out of one alert as AppendJSON writes it.
func Summarize(alertJSON []byte) (Summary, error) {
	var a encodedAlert
	if err := json.Unmarshal(alertJSON, &a); err != nil {
		return Summary{}, err
	}
	s := Summary{
		ID: a.ID, Level: a.Rule.Level, RuleID: a.Rule.ID, Description: a.Rule.Description,
		Groups: a.Rule.Groups, Location: a.Location,
		Tactics: a.Rule.Mitre.Tactic, Techniques: a.Rule.Mitre.ID,
	}
	if t, err := time.Parse(TimeLayout, a.Timestamp); err == nil {
		s.Timestamp = t
	}
	d := a.Data
	switch {
	case lookup(d, "aws") != nil:
		s.Provider = "aws"
		aws := d["aws"]
		s.Account = first(aws, "recipientAccountId", "userIdentity.accountId", "aws_account_id", "accountId", "account_id", "account")
		s.Region = first(aws, "awsRegion", "aws_region", "region")
		s.Principal = first(aws, "userIdentity.arn", "userIdentity.userName", "userIdentity.principalId",
			"resource.accessKeyDetails.userName", "requester")
		s.SrcIP = first(aws, "sourceIPAddress", "srcaddr", "httpRequest.clientIp", "client_ip", "remote_ip", "source_ip_address",
			"service.action.awsApiCallAction.remoteIpDetails.ipAddressV4")
		s.Facets = awsFacets(aws)
	case lookup(d, "gcp") != nil || (lookup(d, "logName") != nil && lookup(d, "resource") != nil):
		// Wrapped by the Pub/Sub module, or a bare Cloud Logging LogEntry.
		s.Provider = "gcp"
		var g any = d
		if x := lookup(d, "gcp"); x != nil {
			g = x
		}
		s.Account = first(g, "resource.labels.project_id", "protoPayload.resourceLocation.currentLocations")
		if s.Account == "" {
			s.Account = projectOf(first(g, "logName"))
		}
		s.Region = first(g, "resource.labels.location", "resource.labels.zone", "resource.labels.region")
		s.Principal = first(g, "protoPayload.authenticationInfo.principalEmail", "jsonPayload.actor.email")
		s.SrcIP = first(g, "protoPayload.requestMetadata.callerIp", "jsonPayload.connection.src_ip")
		s.Facets = gcpFacets(g)
	case isAzure(a.Location, d):
		s.Provider = "azure"
		var m any = d
		if x := lookup(d, "azure"); x != nil {
			m = x
		} else if x := field(d, "ms-graph"); x != nil {
			// The ms-graph module nests the Graph record.
			m = x
		}
		s.Account = first(m, "SubscriptionId", "subscriptionId", "TenantId", "tenantId")
		if s.Account == "" {
			s.Account = subscriptionOf(first(m, "ResourceId", "resourceId", "_ResourceId"))
		}
		s.Region = first(m, "Location", "location", "properties.location")
		s.Principal = first(m, "Caller", "caller", "identity.claims.name", "UserPrincipalName", "userPrincipalName",
			"initiatedBy.user.userPrincipalName", "Identity")
		s.SrcIP = first(m, "CallerIpAddress", "callerIpAddress", "IPAddress", "ipAddress")
		s.Facets = azureFacets(d, m)
	}
	return s, nil
}

func isAzure(location string, d map[string]any) bool {
	if strings.EqualFold(location, "azure") || lookup(d, "azure_tag") != nil || lookup(d, "ms-graph") != nil {
		return true
	}
	// Log Analytics rows carry a Type column and a tenant; activity records an
	// operationName and a resourceId under /subscriptions/.
	if lookup(d, "TenantId") != nil && lookup(d, "Type") != nil {
		return true
	}
	return lookup(d, "operationName") != nil && subscriptionOf(first(d, "resourceId")) != ""
}

// lookup follows a dotted path through decoded JSON objects; keys compare
// case-insensitively when there is no exact match, as Azure's columns vary in case.
func lookup(v any, path string) any {
	// strings.Cut rather than strings.Split: Summarize runs per stored alert and
	// looks up dozens of paths, so the lookups must not allocate.
	for rest, more := path, true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ".")
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		next, ok := m[part]
		if !ok {
			for k, x := range m {
				if strings.EqualFold(k, part) {
					next, ok = x, true
					break
				}
			}
		}
		if !ok {
			return nil
		}
		v = next
	}
	return v
}

// first returns the first of paths that holds a string (or a one-string array).
func first(v any, paths ...string) string {
	for _, p := range paths {
		switch x := lookup(v, p).(type) {
		case string:
			if x != "" {
				return x
			}
		case []any:
			if len(x) > 0 {
				if s, ok := x[0].(string); ok && s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// projectOf reads the project out of "projects/<id>/logs/...".
func projectOf(logName string) string {
	rest, ok := strings.CutPrefix(logName, "projects/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// subscriptionOf reads the subscription out of "/subscriptions/<id>/...".
func subscriptionOf(resourceID string) string {
	i := strings.Index(strings.ToLower(resourceID), "/subscriptions/")
	if i < 0 {
		return ""
	}
	id, _, _ := strings.Cut(resourceID[i+len("/subscriptions/"):], "/")
	return id
}
