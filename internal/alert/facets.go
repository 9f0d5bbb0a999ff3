package alert

import (
	"net/url"
	"strings"
)

// Facets are the per-cloud dimensions of an alert that dashboards break alerts
// down by. Each holds one value or "" when the alert has none. They are plain
// strings rather than a slice or map so that Summarize, which runs for every
// stored alert, allocates nothing for them beyond the values it lower-cases.
type Facets struct {
	// Service is the cloud service: CloudTrail's eventSource (s3.amazonaws.com),
	// else the AWS module's log type (guardduty, vpc, config); GCP's
	// protoPayload.serviceName, else the service of the logName's log id
	// (dns.googleapis.com); Azure's azure_tag (azure-log-analytics,
	// azure-storage, azure-ad-graph) or "ms-graph".
	Service string
	// Action is the API operation: eventName, operationName (and its Log
	// Analytics spellings), activityDisplayName or methodName.
	Action string
	// ResourceGroup is the Azure resource group, lower-cased.
	ResourceGroup string
	// Tag is the Azure module's sub-type tag (log_analytics_tag,
	// azure_storage_tag, azure_aad_tag), or "resource/relationship" for ms-graph.
	Tag string
	// Cluster is the GKE cluster (resource.labels.cluster_name) or the EKS
	// cluster an eks.amazonaws.com call names.
	Cluster string
	// Resource is the main resource the event is about: the first resources[]
	// ARN or the bucket of a CloudTrail call, the Azure resource id
	// (lower-cased, as Azure spells ids in varying case), GCP's resourceName.
	Resource string
}

// FacetNames are the facets' names in the API and the store, in the order of
// Facets' fields and of Values.
var FacetNames = [...]string{"service", "action", "resource_group", "tag", "cluster", "resource"}

// Values returns the facets in the order of FacetNames.
func (f *Facets) Values() [len(FacetNames)]string {
	return [...]string{f.Service, f.Action, f.ResourceGroup, f.Tag, f.Cluster, f.Resource}
}

// Get returns the facet named name (one of FacetNames), "" for another name.
func (f *Facets) Get(name string) string {
	for i, n := range FacetNames {
		if n == name {
			return f.Values()[i]
		}
	}
	return ""
}

// awsFacets reads the facets of the AWS module's data.aws object.
func awsFacets(aws any) Facets {
	f := Facets{
		Service: first(aws, "eventSource", "source"),
		Action:  first(aws, "eventName"),
	}
	// CloudTrail's resources is a list of {ARN, accountId, type}; the AWS module
	// turns a one-element list into the object itself.
	switch r := lookup(aws, "resources").(type) {
	case map[string]any:
		f.Resource = first(r, "ARN")
	case []any:
		for _, x := range r {
			if f.Resource = first(x, "ARN"); f.Resource != "" {
				break
			}
		}
	}
	if f.Resource == "" {
		f.Resource = first(aws, "requestParameters.bucketName")
	}
	if f.Service == "eks.amazonaws.com" {
		f.Cluster = first(aws, "requestParameters.name", "requestParameters.clusterName")
	}
	return f
}

// gcpFacets reads the facets of a Cloud Logging LogEntry.
func gcpFacets(g any) Facets {
	f := Facets{
		Service:  first(g, "protoPayload.serviceName"),
		Action:   first(g, "protoPayload.methodName"),
		Cluster:  first(g, "resource.labels.cluster_name"),
		Resource: first(g, "protoPayload.resourceName"),
	}
	if f.Service == "" {
		f.Service = logService(first(g, "logName"))
	}
	return f
}

// logService reads the service out of "projects/<p>/logs/dns.googleapis.com%2Fdns_queries":
// the log id's part before its first '/', when it names a googleapis service
// other than the audit logs'.
func logService(logName string) string {
	_, id, ok := strings.Cut(logName, "/logs/")
	if !ok {
		return ""
	}
	if u, err := url.PathUnescape(id); err == nil {
		id = u
	}
	svc, _, _ := strings.Cut(id, "/")
	// Audit logs (cloudaudit.googleapis.com) name the audited service in
	// protoPayload; their log id would make every audit event one service.
	if !strings.HasSuffix(svc, ".googleapis.com") || svc == "cloudaudit.googleapis.com" {
		return ""
	}
	return svc
}

// azureFacets reads the facets of an Azure record: d is the whole data object,
// m the record (data itself, data.azure, or data.ms-graph).
func azureFacets(d map[string]any, m any) Facets {
	var f Facets
	if first(d, "integration") == "ms-graph" {
		f.Service = "ms-graph"
		if res, rel := first(m, "resource"), first(m, "relationship"); res != "" && rel != "" {
			f.Tag = res + "/" + rel
		}
	} else {
		f.Service = first(d, "azure_tag")
		f.Tag = first(d, "log_analytics_tag", "azure_storage_tag", "azure_aad_tag")
	}
	// Exact spellings first: lookup falls back to any case, and "operationName"
	// would otherwise find a Log Analytics row's OperationName ("Create role
	// assignment") before its OperationNameValue (the operation's id).
	actions := [...]string{"operationName", "OperationNameValue", "OperationName", "activityDisplayName"}
	for _, p := range actions {
		if x, ok := field(m, p).(string); ok && x != "" {
			f.Action = x
			break
		}
	}
	if f.Action == "" {
		// Activity logs exported by the Azure SDK spell members in snake case
		// and wrap names in {value, localized_value}.
		f.Action = first(m, "operationName", "OperationNameValue", "activityDisplayName",
			"operationName.value", "operation_name.value")
	}
	id := first(m, "resourceId", "_ResourceId", "resource_id")
	f.Resource = strings.ToLower(id)
	if rg := first(m, "ResourceGroup", "resource_group_name"); rg != "" && !strings.HasPrefix(rg, "/") {
		f.ResourceGroup = strings.ToLower(rg)
	} else {
		for _, s := range [...]string{id, first(m, "id"), first(m, "targetResourceID"), first(m, "flowLogResourceID")} {
			if f.ResourceGroup = resourceGroupOf(s); f.ResourceGroup != "" {
				break
			}
		}
	}
	return f
}

// field is a top-level member of an object, by exact name.
func field(v any, name string) any {
	m, _ := v.(map[string]any)
	return m[name]
}

// resourceGroupOf reads the resource group out of an Azure resource id
// ".../resourceGroups/<rg>/...", in any case, lower-cased.
func resourceGroupOf(id string) string {
	const key = "/resourcegroups/"
	for i := 0; i+len(key) <= len(id); i++ {
		if id[i] == '/' && strings.EqualFold(id[i:i+len(key)], key) {
			rg, _, _ := strings.Cut(id[i+len(key):], "/")
			return strings.ToLower(rg)
		}
	}
	return ""
}
