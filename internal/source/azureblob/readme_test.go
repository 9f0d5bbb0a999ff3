package azureblob

import (
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

// TestReadmeExample keeps the README's configuration example valid: it decodes
// strictly into Config, validates, means what the README says, and a source
// built from it (pointed at Azurite) reads a container.
func TestReadmeExample(t *testing.T) {
	t.Setenv("AZURE_STORAGE_KEY", devKey)
	sc := configtest.ExampleFromREADME(t, "README.md").Sources[0]
	if sc.Type != "azure-blob" {
		t.Fatalf("the README example's first source has type %q", sc.Type)
	}
	c := DefaultConfig()
	if err := sc.Decode(&c); err != nil {
		t.Fatalf("the README example does not decode: %v", err)
	}
	if sc.Name != "activity" || c.AccountName != "mystorageaccount" || c.AccountKey.Reveal() != devKey ||
		c.Container != "insights-activity-logs" || c.ContentType != JSONFile || c.Blobs != ".json" ||
		c.Tag != "activity-log" || c.OnlyLogsAfter != "2024-01-01" || c.Interval.Std() != 5*time.Minute ||
		c.RereadWindow.Std() != DefaultRereadWindow || c.Path != "resourceId=/SUBSCRIPTIONS/" {
		t.Errorf("README example decoded to %+v", c)
	}
	cname, cl := newContainer(t)
	put(t, cl, cname, "resourceId=/SUBSCRIPTIONS/S/y=2024/m=05/d=03/h=10/m=00/PT1H.json", jsonLines(0, 2))
	c.AccountName, c.Endpoint, c.Container, c.Tag = devAccount, azurite.URL(), cname, "t1"
	if got := logs(runPass(t, newSource(t, c, openStore(t, t.TempDir()), nil), &collector{})); len(got) != 2 || got[1] != want(1) {
		t.Errorf("README example read %q", got)
	}
}
