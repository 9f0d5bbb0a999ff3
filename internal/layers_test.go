// Package internal holds skywatch's packages; this test keeps their imports one-way.
package internal

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/skywatch-dev/skywatch/"

// allowed lists, for each package, the skywatch packages it may import. Imports flow
// one way: leaves → engine and interfaces → plugins → pipeline → wiring → cmd. A
// package not listed here fails the test, so new packages get a place in the order.
var allowed = map[string][]string{
	// Leaves.
	"internal/event":             nil,
	"internal/alert":             nil,
	"internal/retry":             nil,
	"internal/mitre":             nil,
	"internal/mitre/gen":         nil,
	"internal/config":            nil,
	"internal/config/configtest": {"internal/config"}, // README examples, for tests
	"internal/checkpoint":        nil,
	"internal/sharedcorpus":      nil,
	"internal/ruleset":           nil,
	"internal/rules/wregex":      nil,
	"internal/rules/cdb":         nil,
	"internal/decode/jsonstream": nil,
	"internal/decode/awsevent":   {"internal/decode/jsonstream"},
	"internal/awsclient":         {"internal/config", "internal/retry", "internal/checkpoint", "internal/source"},
	"internal/store":             {"internal/alert"},
	"internal/azureclient":       {"internal/config", "internal/retry", "internal/checkpoint"},
	"internal/gcpclient":         {"internal/config"},
	"internal/dashboard":         nil,
	// Engine and interfaces.
	"internal/rules":          {"internal/event", "internal/alert", "internal/mitre", "internal/rules/wregex", "internal/rules/cdb"},
	"internal/rules/wazuhxml": {"internal/rules", "internal/rules/cdb"},
	"internal/source":         {"internal/event"},
	"internal/sink":           {"internal/config"},
	// Plugins.
	"internal/source/localdir":     {"internal/source", "internal/event", "internal/checkpoint", "internal/config", "internal/decode/jsonstream", "internal/decode/awsevent"},
	"internal/sink/file":           {"internal/sink", "internal/config"},
	"internal/source/awsinspector": {"internal/source", "internal/event", "internal/checkpoint", "internal/config", "internal/awsclient", "internal/retry"},
	"internal/source/awslogs":      {"internal/source", "internal/event", "internal/checkpoint", "internal/config", "internal/awsclient", "internal/retry"},
	"internal/source/awsfake":      {"internal/source", "internal/event", "internal/checkpoint", "internal/awsclient", "internal/retry"}, // protocol fakes and harness for tests
	"internal/source/awssqs":       {"internal/source", "internal/event", "internal/config", "internal/decode/awsevent", "internal/awsclient", "internal/retry", "internal/source/awss3"},
	"internal/source/daycursor":    {"internal/checkpoint"}, // the day-folder checkpoint aws-s3 and gcs share
	"internal/source/awss3":        {"internal/source", "internal/event", "internal/checkpoint", "internal/config", "internal/decode/awsevent", "internal/awsclient", "internal/source/daycursor"},
	"internal/source/azurefake":    nil, // protocol fakes for tests
	"internal/source/azureblob":    {"internal/source", "internal/event", "internal/checkpoint", "internal/config", "internal/azureclient", "internal/retry", "internal/decode/jsonstream"},
	"internal/source/azurela":      {"internal/source", "internal/event", "internal/checkpoint", "internal/config", "internal/azureclient", "internal/retry"},
	"internal/source/msgraph":      {"internal/source", "internal/event", "internal/checkpoint", "internal/config", "internal/azureclient", "internal/retry"},
	"internal/source/gcppubsub":    {"internal/source", "internal/event", "internal/config", "internal/gcpclient", "internal/retry", "internal/alert"},
	"internal/source/gcs":          {"internal/source", "internal/event", "internal/checkpoint", "internal/config", "internal/gcpclient", "internal/retry", "internal/decode/jsonstream", "internal/source/daycursor"},
	"internal/sink/syslog":         {"internal/sink", "internal/config", "internal/alert", "internal/retry"},
	"internal/sink/email":          {"internal/sink", "internal/config", "internal/alert", "internal/retry", "internal/sink/deadletter"},
	"internal/sink/opensearch":     {"internal/sink", "internal/config", "internal/retry", "internal/alert", "internal/sink/deadletter"},
	"internal/sink/store":          {"internal/sink", "internal/config", "internal/alert", "internal/store", "internal/retry"},
	"internal/sink/spool":          {"internal/sink", "internal/config", "internal/retry"},
	"internal/sink/deadletter":     nil,
	"internal/sink/notify":         {"internal/sink", "internal/config", "internal/retry", "internal/sink/deadletter"},
	"internal/sink/suppress":       {"internal/sink", "internal/config", "internal/alert"},
	"internal/sink/webhook":        {"internal/sink", "internal/config", "internal/sink/notify", "internal/sink/suppress"},
	"internal/sink/slack":          {"internal/sink", "internal/config", "internal/alert", "internal/sink/notify", "internal/sink/suppress"},
	"internal/sink/pagerduty":      {"internal/sink", "internal/config", "internal/alert", "internal/sink/notify", "internal/sink/suppress"},
	// Runtime.
	"internal/pipeline": {"internal/event", "internal/sink", "internal/source", "internal/retry"},
	"internal/ruletest": {"internal/rules", "internal/event", "internal/alert"},
	"internal/ruledoc":  {"internal/rules"},
	"internal/api":      {"internal/config", "internal/store", "internal/mitre"},
	// Wiring.
	"internal/app": {"*"},
	// Benchmark tooling, not shipped.
	"tools/fakes3":   nil,
	"tools/ruleeval": {"internal/event", "internal/rules", "internal/rules/wazuhxml", "internal/ruleset"},
	// Binary: wiring and the pieces its commands drive directly.
	"cmd/skywatch": {"internal/app", "internal/api", "internal/config", "internal/rules", "internal/rules/cdb", "internal/rules/wazuhxml",
		"internal/ruleset", "internal/ruletest", "internal/event", "internal/alert"},
}

func TestImportsFlowOneWay(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") || name == "var" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if pkgs[rel] == nil {
			pkgs[rel] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, module) {
				pkgs[rel][strings.TrimPrefix(path, module)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		allow, known := allowed[p]
		if !known {
			t.Errorf("package %s has no place in the import order: add it to allowed", p)
			continue
		}
		if len(allow) == 1 && allow[0] == "*" {
			for imp := range pkgs[p] {
				if strings.HasPrefix(imp, "cmd/") {
					t.Errorf("%s imports %s: nothing imports cmd", p, imp)
				}
			}
			continue
		}
		for imp := range pkgs[p] {
			ok := false
			for _, a := range allow {
				if imp == a {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s, which is not below it", p, imp)
			}
		}
	}
}
