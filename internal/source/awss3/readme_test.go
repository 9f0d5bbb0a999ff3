package awss3

import (
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config/configtest"
)

// The README's configuration example must load and validate.
func TestREADMEExample(t *testing.T) {
	cfg := configtest.ExampleFromREADME(t, "README.md")
	sc := DefaultConfig()
	if err := cfg.Sources[0].Decode(&sc); err != nil {
		t.Fatal(err)
	}
	if sc.Bucket != "acme-cloudtrail" || sc.RereadWindow.Std().Hours() != 6 || sc.AWS.RoleARN == "" || sc.Discard.Field != "eventName" {
		t.Fatalf("decoded %+v", sc)
	}
}
