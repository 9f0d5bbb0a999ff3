package msgraph

import (
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

// TestReadmeExample keeps the README's example valid: it must parse, decode
// strictly, validate, mean what the README says and read records.
func TestReadmeExample(t *testing.T) {
	t.Setenv("GRAPH_CLIENT_SECRET", testSecret)
	sc := configtest.ExampleFromREADME(t, "README.md").Sources[0]
	if sc.Type != "ms-graph" {
		t.Fatalf("the README example's first source has type %q", sc.Type)
	}
	c := DefaultConfig()
	if err := sc.Decode(&c); err != nil {
		t.Fatalf("the README example does not decode: %v", err)
	}
	if sc.Name != "entra" || len(c.Resources) != 4 || c.Resources[2].Filter != "serviceSource ne 'microsoftDefenderForCloudApps'" ||
		c.Azure.ClientSecret.Reveal() != testSecret || c.Interval.Std() != 5*time.Minute || c.Lookback.Std() != 15*time.Minute ||
		c.OnlyLogsAfter != "2024-01-01" || c.Resources[0].TimeField != "activityDateTime" {
		t.Errorf("README example decoded to %q %+v", sc.Name, c)
	}

	f := newFakes(t)
	f.graph.Put("auditLogs/signIns", signIns("s", 3, day.Add(time.Hour), time.Second)...)
	c.Azure.TenantID, c.Azure.ClientID, c.Azure.AuthorityHost, c.Endpoint = testTenant, testClient, f.cfg.Azure.AuthorityHost, f.cfg.Endpoint
	c.OnlyLogsAfter = "2024-03-01"
	s := mustNew(t, c, f.settings(sc.Name, nil, &clock{t: noon}, nil, nil))
	col := &collector{}
	mustPass(t, s, col)
	if n := len(col.take()); n != 3 {
		t.Errorf("read %d events, want 3", n)
	}
}
