package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

var azurite azurefake.Azurite

func TestMain(m *testing.M) {
	code := m.Run()
	azurite.Stop()
	os.Exit(code)
}

// An activity-log export in Blob Storage, read through the wiring as users
// configure it (shared key, Azurite endpoint): the role assignment raises the
// built-in rule with the event shaped as Wazuh's storage module shapes it, the
// benign read raises nothing above level 3, and a second run reads nothing again.
func TestAzureBlobWired(t *testing.T) {
	ep := azurite.Endpoint(t)
	cred, err := azblob.NewSharedKeyCredential(azurefake.DevAccount, azurefake.DevKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential(ep, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.CreateContainer(ctx, "insights-activity-logs", nil); err != nil {
		t.Fatal(err)
	}
	grant := `{"time": "2024-05-03T10:15:00.0000000Z", "resourceId": "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/AAAA", "operationName": "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", "category": "Administrative", "resultType": "Success", "callerIpAddress": "52.174.10.20", "level": "Information", "properties": {"requestbody": "{\"Properties\":{\"PrincipalId\":\"bbbb\",\"RoleDefinitionId\":\"/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635\"}}", "eventCategory": "Administrative"}}`
	read := `{"time": "2024-05-03T10:16:00.0000000Z", "resourceId": "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/SA1", "operationName": "MICROSOFT.STORAGE/STORAGEACCOUNTS/READ", "category": "Administrative", "resultType": "Success", "callerIpAddress": "52.174.10.20", "level": "Information"}`
	blob := "resourceId=/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/y=2024/m=05/d=03/h=10/m=00/PT1H.json"
	if _, err := c.UploadBuffer(ctx, "insights-activity-logs", blob, []byte(grant+"\n"+read+"\n"), nil); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	alerts := filepath.Join(tmp, "alerts.json")
	text := "data_dir: " + tmp + "\nrules: [builtin]\noutputs:\n  - type: file\n    path: " + alerts + "\n" +
		"sources:\n  - name: activity\n    type: azure-blob\n    account_name: " + azurefake.DevAccount +
		"\n    account_key: " + azurefake.DevKey + "\n    endpoint: " + ep +
		"\n    container: insights-activity-logs\n    tag: activity\n    only_logs_after: 2024-05-01\n"
	for run := 1; run <= 2; run++ {
		cfg, err := config.Parse("c.yaml", []byte(text))
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			t.Fatal(err)
		}
		sum, err := Run(ctx, cfg, Options{Once: true})
		if err != nil {
			t.Fatal(err)
		}
		want := int64(2)
		if run == 2 {
			want = 0
		}
		if sum.Events != want {
			t.Fatalf("run %d read %d events, want %d", run, sum.Events, want)
		}
	}
	out, err := os.ReadFile(alerts)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	found := false
	for _, l := range lines {
		s := string(l)
		if strings.Contains(s, `"id":"350122"`) {
			found = true
			for _, part := range []string{`"azure_tag":"azure-storage"`, `"azure_storage_tag":"activity"`, `"location":"Azure"`} {
				if !strings.Contains(s, part) {
					t.Errorf("alert lacks %s: %s", part, s)
				}
			}
		}
		if strings.Contains(s, "STORAGEACCOUNTS/READ") && !strings.Contains(s, `"level":3`) && !strings.Contains(s, `"level":2`) {
			t.Errorf("the benign read raised more than level 3: %s", s)
		}
	}
	if !found {
		t.Fatalf("no alert of rule 350122 among %d alerts:\n%s", len(lines), out)
	}
}
