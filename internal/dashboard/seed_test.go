package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/api"
	"github.com/skywatch-dev/skywatch/internal/store"
)

// seedRule is a rule of the test's catalog and the kind of event it fires on.
type seedRule struct {
	id, desc, cloud string
	level           int
	groups          []string
	mitre           *alert.Mitre
	pci, gdpr       []string
}

// mitre builds a rule's ATT&CK mapping from colon-separated lists.
func mitre(ids, tactics, names string) *alert.Mitre {
	return &alert.Mitre{ID: strings.Split(ids, ":"), Tactic: strings.Split(tactics, ":"), Technique: strings.Split(names, ":")}
}

// seedRules resemble the built-in cloud rules: CloudTrail, GuardDuty, Azure
// activity and sign-ins, GCP audit and GKE, and an agent's sshd.
var seedRules = []seedRule{
	{"80202", "AWS Cloudtrail: ec2.amazonaws.com - DeleteSecurityGroup.", "aws", 3, []string{"aws", "aws_cloudtrail"}, nil, nil, nil},
	{"80253", "AWS Cloudtrail: iam.amazonaws.com - CreateAccessKey.", "aws", 5, []string{"aws", "aws_cloudtrail", "iam"}, mitre("T1098.001", "Persistence:Privilege Escalation", "Additional Cloud Credentials"), []string{"8.1.2"}, []string{"IV_32.2"}},
	{"300001", "AWS CloudTrail: logging was stopped (StopLogging).", "aws", 12, []string{"aws", "cloudtrail", "defense_evasion"}, mitre("T1562.008", "Defense Evasion", "Disable or Modify Cloud Logs"), []string{"10.5.2"}, []string{"IV_35.7.d"}},
	{"300010", "AWS: console login without MFA.", "aws", 8, []string{"aws", "authentication_success"}, mitre("T1078.004", "Defense Evasion:Persistence:Privilege Escalation:Initial Access", "Cloud Accounts"), []string{"8.3"}, nil},
	{"80301", "AWS GuardDuty: UnauthorizedAccess:EC2/SSHBruteForce.", "aws", 10, []string{"aws", "aws_guardduty"}, mitre("T1110", "Credential Access", "Brute Force"), nil, nil},
	{"300020", "AWS: S3 bucket policy made public (PutBucketPolicy).", "aws", 13, []string{"aws", "storage"}, mitre("T1530", "Collection", "Data from Cloud Storage"), []string{"1.3"}, []string{"IV_30.1.g"}},
	{"62723", "Azure: Log analytics: Microsoft.Compute/virtualMachines/start/action", "azure", 3, []string{"azure"}, nil, nil, nil},
	{"62750", "Azure: role assignment created.", "azure", 9, []string{"azure", "iam"}, mitre("T1098", "Persistence:Privilege Escalation", "Account Manipulation"), nil, nil},
	{"62790", "Azure: network security group rule deleted.", "azure", 11, []string{"azure", "network"}, mitre("T1562.007", "Defense Evasion", "Disable or Modify Cloud Firewall"), []string{"1.1.1"}, nil},
	{"62800", "Azure AD: sign-in from a risky location.", "azure", 12, []string{"azure", "authentication_failed"}, mitre("T1078.004", "Defense Evasion:Persistence:Privilege Escalation:Initial Access", "Cloud Accounts"), nil, []string{"IV_35.7.d"}},
	{"400001", "GCP: service account key created.", "gcp", 7, []string{"gcp", "iam"}, mitre("T1098.001", "Persistence:Privilege Escalation", "Additional Cloud Credentials"), nil, nil},
	{"400003", "Malicious GKE request origin for io.k8s.core.v1.pods.list operation.", "gcp", 10, []string{"gcp", "gke"}, mitre("T1613", "Discovery", "Container and Resource Discovery"), nil, nil},
	{"400010", "GCP: Cloud Storage bucket IAM policy set to allUsers.", "gcp", 14, []string{"gcp", "storage"}, mitre("T1530", "Collection", "Data from Cloud Storage"), []string{"1.3"}, nil},
	{"400020", "GCP: firewall rule allows 0.0.0.0/0.", "gcp", 6, []string{"gcp", "network"}, mitre("T1562.007", "Defense Evasion", "Disable or Modify Cloud Firewall"), nil, nil},
	{"5710", "sshd: Attempt to login using a non-existent user", "agent", 5, []string{"syslog", "sshd", "authentication_failed"}, mitre("T1110.001", "Credential Access", "Password Guessing"), []string{"10.2.4"}, nil},
	{"5712", "sshd: brute force trying to get access to the system.", "agent", 10, []string{"syslog", "sshd", "authentication_failures"}, mitre("T1110", "Credential Access", "Brute Force"), nil, nil},
}

func (r seedRule) info() api.RuleInfo {
	id, _ := strconv.Atoi(r.id)
	ri := api.RuleInfo{ID: id, Level: r.level, Description: r.desc, Groups: r.groups, File: "0350-" + r.cloud + "_rules.xml"}
	if r.mitre != nil {
		ri.Mitre = r.mitre.ID
	}
	return ri
}

// seedStore opens a store in a temporary folder and fills it with n alerts
// spread over the last three days, in the shapes Wazuh's cloud modules give
// (the seed's three examples), and returns it.
func seedStore(t *testing.T, n int) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "alerts.db"), store.Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rng := rand.New(rand.NewPCG(8, 8))
	now := time.Now().UTC()
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	batch := make([]store.Alert, 0, 500)
	for i := range n {
		r := seedRules[rng.IntN(len(seedRules))]
		ts := now.Add(-time.Duration(rng.Int64N(int64(72 * time.Hour))))
		ip := fmt.Sprintf("%s.%d.%d.%d", pick("203", "198", "35", "83"), rng.IntN(4), rng.IntN(8), 1+rng.IntN(20))
		a := alert.Alert{Timestamp: ts, Agent: alert.Agent{ID: "000", Name: "skywatch"}, Manager: "skywatch",
			ID:   alert.ID("seed", strconv.Itoa(i/100), int64(i), r.id),
			Rule: alert.Rule{Level: r.level, Description: r.desc, ID: r.id, Mitre: r.mitre, Groups: r.groups, Firedtimes: int64(1 + i%40)}}
		if r.pci != nil {
			a.Rule.Compliance = append(a.Rule.Compliance, alert.Compliance{Name: "pci_dss", Values: r.pci})
		}
		if r.gdpr != nil {
			a.Rule.Compliance = append(a.Rule.Compliance, alert.Compliance{Name: "gdpr", Values: r.gdpr})
		}
		var data any
		switch r.cloud {
		case "aws":
			a.Location, a.Decoder.Name = "Wazuh-AWS", "json"
			acct := pick("111122223333", "444455556666", "777788889999")
			user := pick("alice", "bob", "deploy-bot", "carol", "admin")
			aws := map[string]any{"source": "cloudtrail", "awsRegion": pick("us-east-1", "eu-west-1", "us-west-2", "ap-south-1"),
				"aws_account_id": acct, "recipientAccountId": acct, "eventID": fmt.Sprintf("ev-%d", i), "eventType": "AwsApiCall",
				"eventTime": ts.Format(time.RFC3339), "sourceIPAddress": ip, "userAgent": "aws-cli/2.15",
				"userIdentity": map[string]any{"type": "IAMUser", "accountId": acct, "arn": "arn:aws:iam::" + acct + ":user/" + user, "userName": user}}
			switch r.id {
			case "80301":
				aws = map[string]any{"source": "guardduty", "aws_account_id": acct, "awsRegion": "us-east-1", "type": "UnauthorizedAccess:EC2/SSHBruteForce",
					"service": map[string]any{"action": map[string]any{"awsApiCallAction": map[string]any{"remoteIpDetails": map[string]any{"ipAddressV4": ip}}}}}
			case "80202":
				aws["eventSource"], aws["eventName"] = "ec2.amazonaws.com", "DeleteSecurityGroup"
				aws["requestParameters"] = map[string]any{"groupId": fmt.Sprintf("sg-%08x", rng.IntN(1<<20))}
			case "80253":
				aws["eventSource"], aws["eventName"] = "iam.amazonaws.com", "CreateAccessKey"
			case "300001":
				aws["eventSource"], aws["eventName"] = "cloudtrail.amazonaws.com", "StopLogging"
				aws["requestParameters"] = map[string]any{"name": "main-trail"}
			case "300010":
				aws["eventSource"], aws["eventName"] = "signin.amazonaws.com", "ConsoleLogin"
			default:
				bucket := pick("acme-logs", "acme-backups", "public-site")
				aws["eventSource"], aws["eventName"] = "s3.amazonaws.com", "PutBucketPolicy"
				aws["requestParameters"] = map[string]any{"bucketName": bucket}
				aws["resources"] = []any{map[string]any{"ARN": "arn:aws:s3:::" + bucket, "type": "AWS::S3::Bucket"}}
			}
			data = map[string]any{"integration": "aws", "aws": aws}
		case "azure":
			a.Location, a.Decoder.Name = "Azure", "json"
			sub := pick("8f3c0001-1b2a-4c5d-9e8f-000000000977", "8f3c0002-1b2a-4c5d-9e8f-000000001954")
			rg := pick("Prod-RG", "web-rg", "WazuhGroup")
			op := map[string]string{"62723": "Microsoft.Compute/virtualMachines/start/action", "62750": "Microsoft.Authorization/roleAssignments/write",
				"62790": "Microsoft.Network/networkSecurityGroups/securityRules/delete", "62800": "Sign-in activity"}[r.id]
			data = map[string]any{"azure_tag": "azure-log-analytics", "log_analytics_tag": pick("activity", "security"),
				"Type": "AzureActivity", "Category": "Administrative", "OperationName": op, "ResourceGroup": rg,
				"ResourceId": "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/" + pick("vm-01", "vm-02", "logstash"),
				"Caller":     pick("john.doe@contoso.com", "jane@contoso.com", "ops@contoso.com"), "CallerIpAddress": ip,
				"SubscriptionId": sub, "TenantId": "d4cd75e6-0000-554d-b604-3811e9914fea", "TimeGenerated": ts.Format(time.RFC3339),
				"Level": "Informational", "ActivityStatus": "Succeeded"}
		case "gcp":
			a.Location, a.Decoder.Name = "Wazuh-GCloud", "json"
			project := pick("acme-prod", "acme-data", "gke-audit-logs")
			method, service, res := "google.iam.admin.v1.CreateServiceAccountKey", "iam.googleapis.com", "projects/"+project+"/serviceAccounts/ci@"+project+".iam.gserviceaccount.com"
			labels := map[string]any{"project_id": project}
			switch r.id {
			case "400003":
				method, service, res = "io.k8s.core.v1.pods.list", "k8s.io", "core/v1/namespaces/default/pods"
				labels["cluster_name"], labels["location"] = pick("wazuh", "prod-east", "analytics"), "us-central1-c"
			case "400010":
				method, service, res = "storage.setIamPermissions", "storage.googleapis.com", "projects/_/buckets/"+pick("acme-exports", "acme-site")
			case "400020":
				method, service, res = "v1.compute.firewalls.insert", "compute.googleapis.com", "projects/"+project+"/global/firewalls/allow-all"
			}
			data = map[string]any{"integration": "gcp", "gcp": map[string]any{"insertId": fmt.Sprintf("ins-%d", i),
				"logName": "projects/" + project + "/logs/cloudaudit.googleapis.com%2Factivity",
				"protoPayload": map[string]any{"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": service, "methodName": method,
					"resourceName": res, "authenticationInfo": map[string]any{"principalEmail": pick("john.doe@email.com", "ci@acme-prod.iam.gserviceaccount.com", "eve@email.com")},
					"requestMetadata": map[string]any{"callerIp": ip, "callerSuppliedUserAgent": "kubectl/v1.29.1"}},
				"resource": map[string]any{"type": "k8s_cluster", "labels": labels}, "timestamp": ts.Format(time.RFC3339Nano)}}
		default:
			a.Location, a.Decoder.Name = "/var/log/auth.log", "sshd"
			a.Agent = alert.Agent{ID: fmt.Sprintf("%03d", 1+rng.IntN(3)), Name: pick("web-01", "db-01", "bastion")}
			a.FullLog = fmt.Sprintf("%s sshd[%d]: Invalid user admin from %s port 51234", ts.Format(time.Stamp), 1000+i, ip)
			data = map[string]any{"srcip": ip, "srcuser": "admin", "srcport": "51234"}
		}
		a.Data, _ = json.Marshal(data)
		js := a.AppendJSON(nil)
		sum, err := alert.Summarize(js)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, store.Alert{JSON: js, Summary: sum})
		if len(batch) == cap(batch) || i == n-1 {
			if err := st.Insert(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return st
}
