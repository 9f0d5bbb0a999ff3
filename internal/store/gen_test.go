package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// gen makes realistic cloud alerts: 3 providers, ~50 accounts, ~500 principals,
// ~2000 source IPs, ~300 rules with levels 3–15, spread over a time window.
// Facets: ~20 services, ~60 actions, 20 resource groups, 3 Log Analytics tags,
// 6 GKE clusters and ~25,000 resources (50 of each type per account).
type gen struct {
	rng        *rand.Rand
	end        time.Time     // newest timestamp
	window     time.Duration // timestamps fall in (end-window, end]
	accounts   [3][]string
	principals [3][]string
	ips        []string
	rules      []genRule
	seq        int
	source     string // makes ids differ between generators of different seeds
	// step, when set, makes timestamps advance with the sequence number, as
	// alerts arrive: the n-th is at end-window+n*step, less up to 10 minutes of
	// lateness.
	step time.Duration
}

type genRule struct {
	id, desc, event string
	level           int
	provider        int
	groups          []string
	tactics, techs  []string
}

var (
	providers   = []string{"aws", "azure", "gcp"}
	regions     = [3][]string{{"us-east-1", "eu-west-1", "ap-south-1", "us-west-2"}, {"westeurope", "eastus", "northeurope"}, {"europe-west1", "us-central1", "asia-east1"}}
	eventNames  = []string{"DeleteTrail", "StopLogging", "CreateAccessKey", "PutBucketPolicy", "ConsoleLogin", "AssumeRole", "RunInstances", "AuthorizeSecurityGroupIngress", "DeleteFlowLogs", "UpdateAssumeRolePolicy", "AttachUserPolicy", "CreateUser", "DisableKey", "ScheduleKeyDeletion", "PutEventSelectors", "DeleteDetector", "CreateLoginProfile", "GetSecretValue", "ModifySnapshotAttribute", "PutObjectAcl"}
	groupNames  = []string{"aws", "azure", "gcp", "cloudtrail", "authentication_failed", "authentication_success", "iam", "network", "storage", "logging", "pci_dss", "gdpr", "policy_changed", "key_management"}
	tacticNames = []string{"Defense Evasion", "Persistence", "Privilege Escalation", "Credential Access", "Discovery", "Exfiltration", "Initial Access", "Impact"}
	techniques  = []string{"T1562.008", "T1562.001", "T1098", "T1098.001", "T1078", "T1078.004", "T1530", "T1136.003", "T1552.005", "T1485", "T1537", "T1190"}
)

func newGen(seed uint64, end time.Time, window time.Duration) *gen {
	g := &gen{rng: rand.New(rand.NewPCG(seed, 42)), end: end, window: window, source: fmt.Sprint("gen", seed)}
	for i := range 50 {
		p := i % 3
		var a string
		switch p {
		case 0:
			a = fmt.Sprintf("%012d", 111122223333+int64(i)*7919)
		case 1:
			a = fmt.Sprintf("8f3c%04x-1b2a-4c5d-9e8f-%012x", i, i*977)
		default:
			a = fmt.Sprintf("acme-project-%02d", i)
		}
		g.accounts[p] = append(g.accounts[p], a)
	}
	for i := range 500 {
		p := i % 3
		acct := g.accounts[p][i%len(g.accounts[p])]
		switch p {
		case 0:
			g.principals[p] = append(g.principals[p], fmt.Sprintf("arn:aws:iam::%s:user/user%03d", acct, i))
		case 1:
			g.principals[p] = append(g.principals[p], fmt.Sprintf("user%03d@contoso.onmicrosoft.com", i))
		default:
			g.principals[p] = append(g.principals[p], fmt.Sprintf("svc%03d@%s.iam.gserviceaccount.com", i, acct))
		}
	}
	for i := range 2000 {
		g.ips = append(g.ips, fmt.Sprintf("%d.%d.%d.%d", 20+i%200, (i*7)%256, (i*13)%256, 1+i%254))
	}
	for i := range 300 {
		r := genRule{id: strconv.Itoa(100000 + i), provider: i % 3, level: 3 + i%13, event: eventNames[i%len(eventNames)]}
		r.desc = fmt.Sprintf("%s: %s called by a %s principal", providers[r.provider], r.event, []string{"new", "known", "privileged", "external"}[i%4])
		r.groups = []string{providers[r.provider], groupNames[3+i%11]}
		if i%5 == 0 {
			r.groups = append(r.groups, groupNames[3+(i/5)%11])
		}
		if i%2 == 0 {
			r.tactics = []string{tacticNames[i%len(tacticNames)]}
			r.techs = []string{techniques[i%len(techniques)]}
		}
		g.rules = append(g.rules, r)
	}
	return g
}

// awsServices is the CloudTrail eventSource of each of eventNames.
var awsServices = []string{"cloudtrail", "cloudtrail", "iam", "s3", "signin", "sts", "ec2", "ec2", "ec2", "iam",
	"iam", "iam", "kms", "kms", "cloudtrail", "guardduty", "iam", "secretsmanager", "ec2", "s3"}

// azureOps are the Azure operations rules are about (one per event name, in
// turn): OperationNameValue and the resource type the row's _ResourceId names.
var azureOps = [][2]string{
	{"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "microsoft.insights/diagnosticsettings"},
	{"MICROSOFT.INSIGHTS/ACTIVITYLOGALERTS/DELETE", "microsoft.insights/activitylogalerts"},
	{"MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION", "microsoft.storage/storageaccounts"},
	{"MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE", "microsoft.storage/storageaccounts"},
	{"MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", "microsoft.authorization/roleassignments"},
	{"MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", "microsoft.compute/virtualmachines"},
	{"MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE", "microsoft.network/networksecuritygroups"},
	{"MICROSOFT.KEYVAULT/VAULTS/DELETE", "microsoft.keyvault/vaults"},
	{"MICROSOFT.COMPUTE/SNAPSHOTS/BEGINGETACCESS/ACTION", "microsoft.compute/snapshots"},
	{"MICROSOFT.SQL/SERVERS/FIREWALLRULES/WRITE", "microsoft.sql/servers"},
	{"MICROSOFT.AUTHORIZATION/POLICYASSIGNMENTS/DELETE", "microsoft.authorization/policyassignments"},
}

// azureTags are the Log Analytics sources' tags.
var azureTags = []string{"activity", "activity", "sentinel"}

// gcpMethods are the GCP audited calls rules are about: serviceName,
// methodName and a resourceName pattern (%s the project, %d a number).
var gcpMethods = [][3]string{
	{"iam.googleapis.com", "google.iam.admin.v1.CreateServiceAccountKey", "projects/%s/serviceAccounts/svc%d@%[1]s.iam.gserviceaccount.com"},
	{"cloudresourcemanager.googleapis.com", "SetIamPolicy", "projects/%s"},
	{"storage.googleapis.com", "storage.setIamPermissions", "projects/_/buckets/%s-data-%d"},
	{"compute.googleapis.com", "v1.compute.firewalls.insert", "projects/%s/global/firewalls/fw-%d"},
	{"k8s.io", "io.k8s.core.v1.secrets.get", "core/v1/namespaces/ns%[2]d/secrets/token"},
	{"logging.googleapis.com", "google.logging.v2.ConfigServiceV2.DeleteSink", "projects/%s/sinks/sink-%d"},
	{"compute.googleapis.com", "v1.compute.instances.setMetadata", "projects/%s/zones/europe-west1-b/instances/vm-%d"},
	{"k8s.io", "io.k8s.rbac.v1.clusterrolebindings.create", "rbac.authorization.k8s.io/v1/clusterrolebindings/crb-%[2]d"},
}

// next returns one alert and the event name its data holds.
func (g *gen) next() Alert {
	r := &g.rules[g.rng.IntN(len(g.rules))]
	g.seq++
	acct := g.accounts[r.provider][g.rng.IntN(len(g.accounts[r.provider]))]
	s := alert.Summary{
		ID:          alert.ID(g.source, "unit", int64(g.seq), r.id),
		Timestamp:   g.timestamp(),
		Level:       r.level,
		RuleID:      r.id,
		Description: r.desc,
		Groups:      r.groups,
		Provider:    providers[r.provider],
		Account:     acct,
		Region:      regions[r.provider][g.rng.IntN(len(regions[r.provider]))],
		Principal:   g.principals[r.provider][g.rng.IntN(len(g.principals[r.provider]))],
		SrcIP:       g.ips[g.rng.IntN(len(g.ips))],
		Tactics:     r.tactics,
		Techniques:  r.techs,
	}
	a := alert.Alert{
		Timestamp: s.Timestamp, ID: s.ID, Manager: "skywatch", Agent: alert.Agent{ID: "000", Name: "skywatch"},
		Rule:     alert.Rule{Level: r.level, Description: r.desc, ID: r.id, Groups: r.groups, Firedtimes: int64(g.seq%97 + 1)},
		Decoder:  alert.Decoder{Name: "json"},
		Location: "Wazuh-" + s.Provider,
	}
	if len(r.techs) > 0 {
		a.Rule.Mitre = &alert.Mitre{ID: r.techs, Tactic: r.tactics, Technique: []string{"Technique " + r.techs[0]}}
	}
	g.facets(r, &s)
	a.Data = g.data(r, &s)
	a.FullLog = string(a.Data)
	s.Location = a.Location
	return Alert{JSON: a.AppendJSON(nil), Summary: s}
}

func (g *gen) timestamp() time.Time {
	if g.step > 0 {
		late := time.Duration(g.rng.Int64N(int64(10 * time.Minute)))
		return g.end.Add(-g.window + time.Duration(g.seq)*g.step - late).Truncate(time.Millisecond)
	}
	return g.end.Add(-time.Duration(g.rng.Int64N(int64(g.window)))).Truncate(time.Millisecond)
}

// eventIndex is the index of the rule's event in eventNames.
func (r *genRule) eventIndex() int {
	id, _ := strconv.Atoi(r.id)
	return (id - 100000) % len(eventNames)
}

// facets sets the summary's facets the way the alert's data will carry them.
func (g *gen) facets(r *genRule, s *alert.Summary) {
	ev := r.eventIndex()
	n := g.rng.IntN(50) // which of the account's resources of the type
	switch s.Provider {
	case "aws":
		svc := awsServices[ev]
		s.Facets = alert.Facets{Service: svc + ".amazonaws.com", Action: r.event}
		switch svc {
		case "s3":
			s.Facets.Resource = fmt.Sprintf("arn:aws:s3:::%s-logs-%02d", s.Account, n)
		case "kms":
			s.Facets.Resource = fmt.Sprintf("arn:aws:kms:%s:%s:key/%08x-0000-4000-8000-%012d", s.Region, s.Account, n, n)
		case "ec2", "cloudtrail", "iam", "secretsmanager", "guardduty":
			s.Facets.Resource = fmt.Sprintf("arn:aws:%s:%s:%s:res-%s-%02d", svc, s.Region, s.Account, svc, n)
		}
	case "azure":
		op := azureOps[ev%len(azureOps)]
		rg := fmt.Sprintf("rg-prod-%d", g.rng.IntN(20))
		s.Facets = alert.Facets{Service: "azure-log-analytics", Action: op[0], ResourceGroup: rg,
			Tag:      azureTags[ev%len(azureTags)],
			Resource: fmt.Sprintf("/subscriptions/%s/resourcegroups/%s/providers/%s/res%02d", s.Account, rg, op[1], n)}
	default:
		m := gcpMethods[ev%len(gcpMethods)]
		s.Facets = alert.Facets{Service: m[0], Action: m[1], Resource: fmt.Sprintf(m[2], s.Account, n)}
		if m[0] == "k8s.io" {
			s.Facets.Cluster = fmt.Sprintf("gke-%s-%d", []string{"prod", "staging"}[n%2], n%3)
		}
	}
}

// data writes the event in the shape alert.Summarize reads for the provider.
func (g *gen) data(r *genRule, s *alert.Summary) []byte {
	reqID := fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", g.rng.Uint32(), g.rng.IntN(1<<16), g.rng.IntN(1<<12), g.rng.IntN(1<<12), g.rng.Int64N(1<<48))
	t := s.Timestamp.UTC().Format(time.RFC3339)
	f := &s.Facets
	switch s.Provider {
	case "aws":
		resources := `[]`
		if f.Resource != "" {
			resources = fmt.Sprintf(`[{"accountId":%q,"type":"AWS::Resource","ARN":%q}]`, s.Account, f.Resource)
		}
		return fmt.Appendf(nil, `{"integration":"aws","aws":{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%016X","arn":%q,"accountId":%q,"userName":"%s"},"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":%q,"sourceIPAddress":%q,"userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 botocore/2.0.0","requestParameters":{"userName":"target-%d"},"responseElements":null,"requestID":%q,"eventID":%q,"readOnly":false,"resources":%s,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":%q,"eventCategory":"Management","source":"cloudtrail","log_info":{"log_file":"AWSLogs/%s/CloudTrail/%s/2024/05/01/%s_CloudTrail_%s_20240501T1000Z_abc.json.gz","s3bucket":"org-trail-logs"}}}`,
			g.rng.Uint64(), s.Principal, s.Account, filepath.Base(s.Principal), t, f.Service, r.event, s.Region, s.SrcIP, g.rng.IntN(100), reqID, reqID, resources, s.Account, s.Account, s.Region, s.Account, s.Region)
	case "azure":
		return fmt.Appendf(nil, `{"Type":"AzureActivity","TenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47","SubscriptionId":%q,"Caller":%q,"CallerIpAddress":%q,"Location":%q,"OperationName":"%s","OperationNameValue":%q,"CategoryValue":"Administrative","ActivityStatusValue":"Success","ResourceGroup":%q,"_ResourceId":%q,"CorrelationId":%q,"TimeGenerated":%q,"Properties":{"message":"%s","eventCategory":"Administrative"},"azure_tag":%q,"log_analytics_tag":%q}`,
			s.Account, s.Principal, s.SrcIP, s.Region, r.event, f.Action, f.ResourceGroup, f.Resource, reqID, t, r.event, f.Service, f.Tag)
	default:
		resType, labels := "project", fmt.Sprintf(`{"project_id":%q,"location":%q}`, s.Account, s.Region)
		if f.Cluster != "" {
			resType, labels = "k8s_cluster", fmt.Sprintf(`{"project_id":%q,"location":%q,"cluster_name":%q}`, s.Account, s.Region, f.Cluster)
		}
		return fmt.Appendf(nil, `{"integration":"gcp","gcp":{"logName":"projects/%s/logs/cloudaudit.googleapis.com%%2Factivity","resource":{"type":%q,"labels":%s},"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","methodName":%q,"resourceName":%q,"authenticationInfo":{"principalEmail":%q},"requestMetadata":{"callerIp":%q,"callerSuppliedUserAgent":"google-cloud-sdk gcloud/467.0.0"},"serviceName":%q,"request":{"event":"%s"}},"insertId":%q,"timestamp":%q,"severity":"NOTICE"}}`,
			s.Account, resType, labels, f.Action, f.Resource, s.Principal, s.SrcIP, f.Service, r.event, reqID, t)
	}
}

func (g *gen) batch(n int) []Alert {
	out := make([]Alert, n)
	for i := range out {
		out[i] = g.next()
	}
	return out
}

// openTest opens a store in a temporary directory with the background pruning
// off, and closes it when the test ends.
func openTest(t testing.TB, opt Options) *Store {
	t.Helper()
	if opt.PruneInterval == 0 {
		opt.PruneInterval = -1
	}
	s, err := Open(filepath.Join(t.TempDir(), "alerts.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustInsert(t testing.TB, s *Store, alerts []Alert) {
	t.Helper()
	if err := s.Insert(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
}

// TestGeneratorMatchesSummarize keeps the generator honest: the summaries it
// makes are what alert.Summarize reads from the JSON it writes.
func TestGeneratorMatchesSummarize(t *testing.T) {
	g := newGen(1, time.Now(), 24*time.Hour)
	for range 60 {
		a := g.next()
		got, err := alert.Summarize(a.JSON)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(a.Summary) {
			t.Fatalf("Summarize gave\n%+v\nthe generator\n%+v\n%s", got, a.Summary, a.JSON)
		}
	}
}

func summarize(t testing.TB, js []byte) alert.Summary {
	t.Helper()
	s, err := alert.Summarize(js)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
