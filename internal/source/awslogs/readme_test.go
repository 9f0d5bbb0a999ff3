package awslogs

import (
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config/configtest"
	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// TestReadmeExample keeps the README's configuration example valid: it must parse,
// decode strictly into the source's Config, validate, mean what the README says,
// and start a source that reads log events.
func TestReadmeExample(t *testing.T) {
	sc := configtest.ExampleFromREADME(t, "README.md").Sources[0]
	if sc.Type != "aws-cloudwatch-logs" {
		t.Fatalf("the README example's first source has type %q", sc.Type)
	}
	c := DefaultConfig()
	if err := sc.Decode(&c); err != nil {
		t.Fatalf("the README example does not decode: %v", err)
	}
	if sc.Name != "lambda-logs" || len(c.LogGroups) != 2 || c.LogGroups[1] != "/aws/eks/prod/cluster" ||
		len(c.Regions) != 1 || c.OnlyLogsAfter != "2024-JAN-01" || c.LogStreamPrefix != "2024/" ||
		c.Interval.Std() != 5*time.Minute || c.AWS.Profile != "security-audit" || c.RemoveLogStreams ||
		c.ForgetAfter.Std() != DefaultForgetAfter || c.BatchSize != DefaultBatchSize {
		t.Errorf("README example decoded to name %q, %+v", sc.Name, c)
	}

	// The decoded configuration reads the groups (static keys instead of the
	// profile, which this machine does not have).
	fake, base := newFake(t)
	for _, g := range c.LogGroups {
		fake.Logs.Put("us-east-1", g, "2024/03/01/a", events(g, 2, day.Add(time.Hour))...)
		fake.Logs.Put("us-east-1", g, "other", events(g, 2, day.Add(time.Hour))...)
	}
	c.AWS = base.AWS
	s, err := New(c, settings(sc.Name, nil, awsfake.NewClock(noon), nil))
	if err != nil {
		t.Fatalf("the README example does not start: %v", err)
	}
	col := &awsfake.Collector{}
	awsfake.MustRunPass(t, s, col)
	if got := awsfake.Units(col.Take()); len(got) != 2 || got["us-east-1//aws/eks/prod/cluster/2024/03/01/a"] != 2 {
		t.Errorf("read %v, want the two prefixed streams", got)
	}
}
