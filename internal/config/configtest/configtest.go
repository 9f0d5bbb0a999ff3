// Package configtest helps the components' tests keep their documentation's
// configuration examples valid.
package configtest

import (
	"os"
	"regexp"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
)

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// ExampleFromREADME returns the configuration of the first ```yaml block of the
// README at readmePath, parsed (config.Parse) and validated. It fails the test
// when the README cannot be read, has no such block, or the example does not
// parse or validate.
func ExampleFromREADME(tb testing.TB, readmePath string) *config.Config {
	tb.Helper()
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		tb.Fatal(err)
	}
	m := yamlBlock.FindSubmatch(readme)
	if m == nil {
		tb.Fatalf("%s has no ```yaml example", readmePath)
	}
	cfg, err := config.Parse(readmePath, m[1])
	if err != nil {
		tb.Fatalf("the example of %s does not parse: %v", readmePath, err)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("the example of %s does not validate: %v", readmePath, err)
	}
	return cfg
}
