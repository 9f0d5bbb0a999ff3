package zzscratch

import (
	"os"
	"regexp"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink/file"
	"github.com/skywatch-dev/skywatch/internal/source/localdir"
)

func TestDocExamples(t *testing.T) {
	b, _ := os.ReadFile("../../docs/configuration.md")
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(b, -1) {
		cfg, err := config.Parse("doc.yaml", m[1])
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, o := range cfg.Outputs {
			fc := file.DefaultConfig()
			if err := o.Decode(&fc); err != nil {
				t.Fatal(err)
			}
			t.Logf("out %s %+v", o.Name, fc)
		}
		for _, s := range cfg.Sources {
			lc := localdir.DefaultConfig()
			if err := s.Decode(&lc); err != nil {
				t.Fatal(err)
			}
			t.Logf("src %s %+v", s.Name, lc)
		}
		t.Logf("%s %v %+v %v", cfg.ManagerName, cfg.Rules, cfg.Engine, cfg.API)
	}
}
