package alert

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		json string
		want Summary
	}{
		{"aws cloudtrail", `{"timestamp":"2024-05-01T10:00:00.000+0000","rule":{"level":12,"id":"300001","description":"d","groups":["aws"],"mitre":{"id":["T1562.008"],"tactic":["Defense Evasion"]}},"id":"abc","location":"Wazuh-AWS",
			"data":{"integration":"aws","aws":{"recipientAccountId":"111122223333","awsRegion":"eu-west-1","userIdentity":{"arn":"arn:aws:iam::111122223333:user/carol"},"sourceIPAddress":"192.0.2.55"}}}`,
			Summary{ID: "abc", Timestamp: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Level: 12, RuleID: "300001", Description: "d", Groups: []string{"aws"}, Location: "Wazuh-AWS",
				Provider: "aws", Account: "111122223333", Region: "eu-west-1", Principal: "arn:aws:iam::111122223333:user/carol", SrcIP: "192.0.2.55",
				Tactics: []string{"Defense Evasion"}, Techniques: []string{"T1562.008"}}},
		{"aws vpc flow", `{"rule":{"level":3,"id":"80402"},"data":{"integration":"aws","aws":{"source":"vpc","account_id":"123","region":"us-east-1","srcaddr":"10.0.0.1"}}}`,
			Summary{Level: 3, RuleID: "80402", Provider: "aws", Account: "123", Region: "us-east-1", SrcIP: "10.0.0.1", Facets: Facets{Service: "vpc"}}},
		{"gcp wrapped", `{"rule":{"level":10,"id":"65057"},"data":{"integration":"gcp","gcp":{"logName":"projects/acme/logs/x","resource":{"type":"project","labels":{"project_id":"acme-prod","location":"europe-west1"}},"protoPayload":{"authenticationInfo":{"principalEmail":"a@b.c"},"requestMetadata":{"callerIp":"35.1.2.3"}}}}}`,
			Summary{Level: 10, RuleID: "65057", Provider: "gcp", Account: "acme-prod", Region: "europe-west1", Principal: "a@b.c", SrcIP: "35.1.2.3"}},
		{"gcp bare entry, project from logName", `{"rule":{"level":10,"id":"400003"},"data":{"logName":"projects/gke-audit-logs/logs/cloudaudit.googleapis.com%2Fdata_access","resource":{"type":"k8s_cluster"},"protoPayload":{"authenticationInfo":{"principalEmail":"x@y"},"requestMetadata":{"callerIp":"35.195.195.195"}}}}`,
			Summary{Level: 10, RuleID: "400003", Provider: "gcp", Account: "gke-audit-logs", Principal: "x@y", SrcIP: "35.195.195.195"}},
		{"azure log analytics row", `{"rule":{"level":3,"id":"62723"},"location":"Azure","data":{"Type":"AzureActivity","TenantId":"t1","SubscriptionId":"sub-1","Caller":"john.doe@email.com","CallerIpAddress":"83.49.98.225"}}`,
			Summary{Level: 3, RuleID: "62723", Location: "Azure", Provider: "azure", Account: "sub-1", Principal: "john.doe@email.com", SrcIP: "83.49.98.225"}},
		{"azure activity record, subscription from resourceId, case varies", `{"rule":{"level":8,"id":"350100"},"location":"azure-storage","data":{"operationName":"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE","resourceId":"/SUBSCRIPTIONS/ABC-123/RESOURCEGROUPS/RG","caller":"eve@x","callerIpAddress":"198.51.100.9"}}`,
			Summary{Level: 8, RuleID: "350100", Location: "azure-storage", Provider: "azure", Account: "ABC-123", Principal: "eve@x", SrcIP: "198.51.100.9",
				Facets: Facets{Action: "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", ResourceGroup: "rg", Resource: "/subscriptions/abc-123/resourcegroups/rg"}}},
		{"other", `{"rule":{"level":5,"id":"5501"},"data":{"srcip":"1.2.3.4"}}`, Summary{Level: 5, RuleID: "5501"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Summarize([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if !equalSummary(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if _, err := Summarize([]byte(`{"rule":`)); err == nil {
		t.Fatal("broken JSON gave no error")
	}
}

func equalSummary(a, b Summary) bool {
	eq := func(x, y []string) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return a.ID == b.ID && a.Timestamp.Equal(b.Timestamp) && a.Level == b.Level && a.RuleID == b.RuleID &&
		a.Description == b.Description && eq(a.Groups, b.Groups) && a.Location == b.Location &&
		a.Provider == b.Provider && a.Account == b.Account && a.Region == b.Region &&
		a.Principal == b.Principal && a.SrcIP == b.SrcIP && eq(a.Tactics, b.Tactics) && eq(a.Techniques, b.Techniques) &&
		a.Facets == b.Facets
}
