package awss3

import (
	"os"
	"regexp"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// The README's configuration example must load and validate.
func TestREADMEExample(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("no yaml example in README.md")
	}
	cfg, err := config.Parse("README.md", m[1])
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	sc := DefaultConfig()
	if err := cfg.Sources[0].Decode(&sc); err != nil {
		t.Fatal(err)
	}
	if sc.Bucket != "acme-cloudtrail" || sc.RereadWindow.Std().Hours() != 6 || sc.AWS.RoleARN == "" || sc.Discard.Field != "eventName" {
		t.Fatalf("decoded %+v", sc)
	}
}
