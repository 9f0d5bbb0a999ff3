package alert

import (
	"encoding/json"
	"testing"
)

// The alerts below are real ones, trimmed: CloudTrail, GuardDuty and GCP from
// wazuh-analysisd's output in shared/corpus/wazuh-oracle, the Azure ones in the
// shapes the azure-log-analytics, azure-blob and ms-graph sources write (the
// azure-logs and ms-graph modules' shapes).
func TestSummarizeFacets(t *testing.T) {
	tests := []struct {
		name     string
		json     string
		provider string
		want     Facets
	}{
		{"cloudtrail, resources as the module's one object", `{"rule":{"level":0,"id":"80200"},"location":"Wazuh-AWS","data":{"integration":"aws","aws":{
			"eventSource":"s3.amazonaws.com","eventName":"GetBucketPublicAccessBlock","awsRegion":"us-east-1",
			"requestParameters":{"bucketName":"baker221b-bucket","Host":"baker221b-bucket.s3.us-east-1.amazonaws.com"},
			"resources":{"accountId":"123837392027","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::baker221b-bucket"},
			"recipientAccountId":"123837392027","source":"cloudtrail"}}}`,
			"aws", Facets{Service: "s3.amazonaws.com", Action: "GetBucketPublicAccessBlock", Resource: "arn:aws:s3:::baker221b-bucket"}},
		{"cloudtrail, resources list", `{"rule":{"id":"1"},"data":{"integration":"aws","aws":{"eventSource":"kms.amazonaws.com","eventName":"Decrypt",
			"resources":[{"type":"AWS::KMS::Key"},{"ARN":"arn:aws:kms:eu-west-1:111122223333:key/k1","type":"AWS::KMS::Key"}],"source":"cloudtrail"}}}`,
			"aws", Facets{Service: "kms.amazonaws.com", Action: "Decrypt", Resource: "arn:aws:kms:eu-west-1:111122223333:key/k1"}},
		{"cloudtrail, bucket only", `{"rule":{"id":"1"},"data":{"integration":"aws","aws":{"eventSource":"s3.amazonaws.com","eventName":"CreateBucket",
			"requestParameters":{"CreateBucketConfiguration":{"LocationConstraint":"us-west-2"},"bucketName":"custodian-create-bucket-v4"},"source":"s3"}}}`,
			"aws", Facets{Service: "s3.amazonaws.com", Action: "CreateBucket", Resource: "custodian-create-bucket-v4"}},
		{"cloudtrail, EKS cluster", `{"rule":{"id":"1"},"data":{"integration":"aws","aws":{"eventSource":"eks.amazonaws.com","eventName":"DeleteCluster",
			"requestParameters":{"name":"prod-eks"},"source":"cloudtrail"}}}`,
			"aws", Facets{Service: "eks.amazonaws.com", Action: "DeleteCluster", Cluster: "prod-eks"}},
		{"guardduty", `{"rule":{"level":5,"id":"80302"},"location":"Wazuh-AWS","data":{"integration":"aws","aws":{
			"log_info":{"log_file":"AWSLogs/883606788610/GuardDuty/us-east-1/2017/12/08/61433573-24d6-569a.jsonl.gz","s3bucket":"corpus-bucket"},
			"description":"EC2 instance i-99999999 is querying a domain name associated with a known Command & Control server.",
			"resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"i-99999999"}},"severity":"5",
			"type":"Backdoor:EC2/C&CActivity.B!DNS","region":"us-east-1","accountId":"883606788610","source":"guardduty"}}}`,
			"aws", Facets{Service: "guardduty"}},
		{"vpc flow", `{"rule":{"id":"80402"},"data":{"integration":"aws","aws":{"account_id":"216782312663","srcaddr":"10.0.0.1","source":"vpc"}}}`,
			"aws", Facets{Service: "vpc"}},
		{"gcp audit", `{"rule":{"level":3,"id":"65004"},"location":"Wazuh-GCloud","data":{"integration":"gcp","gcp":{"protoPayload":{
			"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{"principalEmail":"no@gmail.com"},
			"requestMetadata":{"callerIp":"86.57.255.94"},"serviceName":"compute.googleapis.com","methodName":"v1.compute.autoscalers.insert",
			"resourceName":"projects/mitrop-custodian/zones/us-central1-a/autoscalers/instance-group-1"},
			"resource":{"type":"gce_autoscaler","labels":{"project_id":"mitrop-custodian","zone":"us-central1-a"}},
			"logName":"projects/mitrop-custodian/logs/cloudaudit.googleapis.com%2Factivity"}}}`,
			"gcp", Facets{Service: "compute.googleapis.com", Action: "v1.compute.autoscalers.insert",
				Resource: "projects/mitrop-custodian/zones/us-central1-a/autoscalers/instance-group-1"}},
		{"gke audit", `{"rule":{"id":"65000"},"location":"Wazuh-GCloud","data":{"integration":"gcp","gcp":{"protoPayload":{
			"authenticationInfo":{"principalEmail":"system:node:gke-standard-cluster-1-pool-1-c733eefe-xtbq"},"methodName":"io.k8s.core.v1.nodes.create",
			"requestMetadata":{"callerIp":"35.184.126.154"},"resourceName":"core/v1/nodes/gke-standard-cluster-1-pool-1-c733eefe-xtbq",
			"serviceName":"k8s.io"},
			"resource":{"type":"k8s_cluster","labels":{"cluster_name":"standard-cluster-1","location":"us-central1-a","project_id":"mythic-tribute-232915"}},
			"logName":"projects/mythic-tribute-232915/logs/cloudaudit.googleapis.com%2Factivity"}}}`,
			"gcp", Facets{Service: "k8s.io", Action: "io.k8s.core.v1.nodes.create", Cluster: "standard-cluster-1",
				Resource: "core/v1/nodes/gke-standard-cluster-1-pool-1-c733eefe-xtbq"}},
		{"gcp dns log, service from the log name", `{"rule":{"id":"65010"},"data":{"integration":"gcp","gcp":{"jsonPayload":{"queryName":"x.example.","sourceIP":"10.128.0.2"},
			"logName":"projects/wazuh-dev/logs/dns.googleapis.com%2Fdns_queries","resource":{"labels":{"location":"us-central1","project_id":"wazuh-dev"},"type":"dns_query"}}}}`,
			"gcp", Facets{Service: "dns.googleapis.com"}},
		{"gcp custom log: no googleapis service", `{"rule":{"id":"65010"},"data":{"integration":"gcp","gcp":{"textPayload":"x",
			"logName":"projects/fake-project/logs/testlog","resource":{"labels":{"project_id":"fake-project"},"type":"generic_node"}}}}`,
			"gcp", Facets{}},
		{"azure log analytics AzureActivity row", `{"rule":{"level":3,"id":"87811"},"location":"Azure","data":{"TenantId":"t1","SourceSystem":"Azure",
			"CallerIpAddress":"203.0.113.4","CategoryValue":"Administrative","OperationName":"Create role assignment",
			"OperationNameValue":"Microsoft.Authorization/roleAssignments/write","ResourceGroup":"RG-Prod",
			"_ResourceId":"/subscriptions/sub-1/resourcegroups/rg-prod/providers/microsoft.authorization/roleassignments/ra1",
			"SubscriptionId":"sub-1","Type":"AzureActivity","azure_tag":"azure-log-analytics","log_analytics_tag":"activity"}}`,
			"azure", Facets{Service: "azure-log-analytics", Action: "Microsoft.Authorization/roleAssignments/write", ResourceGroup: "rg-prod",
				Tag: "activity", Resource: "/subscriptions/sub-1/resourcegroups/rg-prod/providers/microsoft.authorization/roleassignments/ra1"}},
		{"azure log analytics AuditLogs row: ResourceGroup is not a group", `{"rule":{"id":"87801"},"location":"Azure","data":{"TenantId":"t1",
			"ResourceId":"/tenants/t1/providers/Microsoft.aadiam","OperationName":"Update application","ResourceGroup":"Microsoft.aadiam",
			"ActivityDisplayName":"Update application","Type":"AuditLogs","azure_tag":"azure-log-analytics","log_analytics_tag":"aad"}}`,
			"azure", Facets{Service: "azure-log-analytics", Action: "Update application", ResourceGroup: "microsoft.aadiam", Tag: "aad",
				Resource: "/tenants/t1/providers/microsoft.aadiam"}},
		{"azure storage activity log, the SDK's snake case", `{"rule":{"id":"87900"},"location":"Azure","data":{
			"id":"/subscriptions/12345678/resourceGroups/TEST-RESOURCE-GROUP/providers/Microsoft.Compute/disks/d1/events/587e/ticks/1111",
			"azure_tag":"azure-storage","azure_storage_tag":"activity-log","authorization":{"action":"Microsoft.Compute/disks/delete"},
			"caller":"12345678-9abc","event_name":{"value":"BeginRequest","localized_value":"BeginRequest"},"resource_group_name":"TEST-RESOURCE-GROUP",
			"resource_id":"/subscriptions/12345678/resourceGroups/TEST-RESOURCE-GROUP/providers/Microsoft.Compute/disks/d1",
			"operation_name":{"value":"Microsoft.Compute/disks/delete","localized_value":"Microsoft.Compute/disks/delete"}}}`,
			"azure", Facets{Service: "azure-storage", Action: "Microsoft.Compute/disks/delete", ResourceGroup: "test-resource-group", Tag: "activity-log",
				Resource: "/subscriptions/12345678/resourcegroups/test-resource-group/providers/microsoft.compute/disks/d1"}},
		{"azure activity log from diagnostic settings", `{"rule":{"id":"87900"},"location":"Azure","data":{
			"operationName":"MICROSOFT.COMPUTE/DISKS/DELETE","resourceId":"/SUBSCRIPTIONS/1234/RESOURCEGROUPS/RG-A/PROVIDERS/MICROSOFT.COMPUTE/DISKS/D1",
			"azure_tag":"azure-storage","azure_storage_tag":"activity"}}`,
			"azure", Facets{Service: "azure-storage", Action: "MICROSOFT.COMPUTE/DISKS/DELETE", ResourceGroup: "rg-a", Tag: "activity",
				Resource: "/subscriptions/1234/resourcegroups/rg-a/providers/microsoft.compute/disks/d1"}},
		{"azure storage NSG flow log", `{"rule":{"id":"87910"},"location":"Azure","data":{"time":"2024-08-19T18:00:06.8944384Z",
			"category":"NetworkSecurityGroupFlowEvent","operationName":"NetworkSecurityGroupFlowEvents",
			"resourceId":"/SUBSCRIPTIONS/11111111/RESOURCEGROUPS/VM-TEST/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/TEST-NSG",
			"azure_tag":"azure-storage","azure_storage_tag":"nsg"}}`,
			"azure", Facets{Service: "azure-storage", Action: "NetworkSecurityGroupFlowEvents", ResourceGroup: "vm-test", Tag: "nsg",
				Resource: "/subscriptions/11111111/resourcegroups/vm-test/providers/microsoft.network/networksecuritygroups/test-nsg"}},
		{"azure storage flow log v4: group from the target", `{"rule":{"id":"87910"},"location":"Azure","data":{"category":"FlowLogFlowEvent",
			"flowLogResourceID":"/SUBSCRIPTIONS/C088/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/FL",
			"targetResourceID":"/subscriptions/c088/resourceGroups/azure-labs-001/providers/Microsoft.Network/networkInterfaces/labsvm1519",
			"operationName":"FlowLogFlowEvent","azure_tag":"azure-storage","azure_storage_tag":"flowlogs"}}`,
			"azure", Facets{Service: "azure-storage", Action: "FlowLogFlowEvent", ResourceGroup: "azure-labs-001", Tag: "flowlogs"}},
		{"azure-ad-graph directory audit", `{"rule":{"id":"62700"},"location":"Azure","data":{"activityDateTime":"2024-03-01T01:00:00Z",
			"activityDisplayName":"Add member to role","category":"RoleManagement","id":"Directory_1",
			"initiatedBy":{"user":{"userPrincipalName":"admin@contoso.com","ipAddress":"198.51.100.3"}},"result":"success",
			"azure_tag": "azure-ad-graph", "azure_aad_tag": "auditLogs/directoryAudits"}}`,
			"azure", Facets{Service: "azure-ad-graph", Action: "Add member to role", Tag: "auditLogs/directoryAudits"}},
		{"ms-graph security alert", `{"rule":{"id":"99501"},"location":"ms-graph","data":{"integration":"ms-graph","ms-graph":{
			"@odata.type":"#microsoft.graph.security.alert","category":"CredentialAccess","id":"da6372f3","severity":"high",
			"title":"Password spray","resource":"security","relationship":"alerts_v2"}}}`,
			"azure", Facets{Service: "ms-graph", Tag: "security/alerts_v2"}},
		{"ms-graph directory audit", `{"rule":{"id":"99500"},"location":"ms-graph","data":{"integration":"ms-graph","ms-graph":{
			"activityDisplayName":"Reset user password","initiatedBy":{"user":{"userPrincipalName":"helpdesk@contoso.com"}},
			"resource":"auditLogs","relationship":"directoryAudits"}}}`,
			"azure", Facets{Service: "ms-graph", Action: "Reset user password", Tag: "auditLogs/directoryAudits"}},
		{"not a cloud alert", `{"rule":{"id":"5501"},"data":{"srcip":"1.2.3.4","eventName":"x","operationName":"y"}}`, "", Facets{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Summarize([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if s.Provider != tc.provider {
				t.Errorf("provider %q, want %q", s.Provider, tc.provider)
			}
			if s.Facets != tc.want {
				t.Errorf("facets\n got  %+v\n want %+v", s.Facets, tc.want)
			}
			for i, name := range FacetNames {
				if s.Facets.Get(name) != s.Facets.Values()[i] {
					t.Errorf("Get(%s) disagrees with Values", name)
				}
			}
		})
	}
}

// The ms-graph module nests the record: principal and address are read inside.
func TestSummarizeMSGraphPrincipal(t *testing.T) {
	s, err := Summarize([]byte(`{"rule":{"id":"99500"},"location":"ms-graph","data":{"integration":"ms-graph","ms-graph":{
		"activityDisplayName":"Reset user password","initiatedBy":{"user":{"userPrincipalName":"helpdesk@contoso.com"}},
		"ipAddress":"198.51.100.8","resource":"auditLogs","relationship":"directoryAudits"}}}`))
	if err != nil || s.Principal != "helpdesk@contoso.com" || s.SrcIP != "198.51.100.8" {
		t.Fatalf("%+v %v", s, err)
	}
}

// Reading facets out of decoded data allocates nothing when no value needs
// lower-casing: Summarize runs for every stored alert.
func TestFacetsDoNotAllocate(t *testing.T) {
	var aws, gcp map[string]any
	if err := json.Unmarshal([]byte(`{"eventSource":"s3.amazonaws.com","eventName":"PutObject","resources":[{"ARN":"arn:aws:s3:::b"}],
		"requestParameters":{"bucketName":"b"}}`), &aws); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"protoPayload":{"serviceName":"iam.googleapis.com","methodName":"SetIamPolicy","resourceName":"projects/p"},
		"resource":{"labels":{"cluster_name":"c"}},"logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity"}`), &gcp); err != nil {
		t.Fatal(err)
	}
	azure := map[string]any{"azure_tag": "azure-log-analytics", "log_analytics_tag": "t", "OperationNameValue": "x/write",
		"_ResourceId": "/subscriptions/s/resourcegroups/rg/providers/p/r", "ResourceGroup": "rg"}
	var sink Facets
	if n := testing.AllocsPerRun(100, func() {
		sink = awsFacets(aws)
		sink = gcpFacets(gcp)
		sink = azureFacets(azure, azure)
	}); n != 0 {
		t.Errorf("%v allocations per alert", n)
	}
	_ = sink
}
