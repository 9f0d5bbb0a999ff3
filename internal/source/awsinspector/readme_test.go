package awsinspector

import (
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config/configtest"
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// TestReadmeExample keeps the README's configuration example valid: it must parse,
// decode strictly into the source's Config, validate, mean what the README says,
// and start a source that reads findings.
func TestReadmeExample(t *testing.T) {
	t.Setenv("INSPECTOR_EXTERNAL_ID", "readme-external-id")
	sc := configtest.ExampleFromREADME(t, "README.md").Sources[0]
	if sc.Type != "aws-inspector" {
		t.Fatalf("the README example's first source has type %q", sc.Type)
	}
	c := DefaultConfig()
	if err := sc.Decode(&c); err != nil {
		t.Fatalf("the README example does not decode: %v", err)
	}
	if sc.Name != "inspector" || len(c.Regions) != 2 || c.Regions[1] != "eu-west-1" || c.OnlyLogsAfter != "2024-01-01" ||
		c.Interval.Std() != 10*time.Minute || c.AWS.RoleARN != "arn:aws:iam::123456789012:role/skywatch-inspector" ||
		c.AWS.ExternalID.Reveal() != "readme-external-id" {
		t.Errorf("README example decoded to name %q, %+v", sc.Name, c)
	}

	// The decoded configuration reads findings (through the fake STS and service).
	fake, base := newFake(t)
	fake.STS.AddRole(c.AWS.RoleARN, "readme-external-id")
	fake.Inspector.Put(findings("r", 2, day.Add(time.Hour), time.Second)...)
	c.AWS.AccessKeyID, c.AWS.SecretAccessKey = base.AWS.AccessKeyID, base.AWS.SecretAccessKey
	c.AWS.Endpoint, c.AWS.STSEndpoint = fake.URL, fake.URL
	s, err := New(c, settings(sc.Name, nil, awsfake.NewClock(noon), nil))
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	col := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, col)
	if n := len(col.Take()); n != 2 {
		t.Errorf("read %d events, want 2", n)
	}
}
