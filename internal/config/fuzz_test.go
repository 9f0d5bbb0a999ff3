package config_test

import (
	"os"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// FuzzParse checks that no input makes Parse, Validate or a component's Decode
// panic, and that every error Parse returns names the file.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/full.yaml"); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"outptus: []\n",
		"engine:\n  workers: many\n  max_event_bytes: 1GiB\n",
		"sources:\n  - name: a\n    type: t\n    bucket: ${HOME:-x}$$\n    tls: {ca_file: x}\n",
		"a: &a [*a]\n",
		"<<: {data_dir: x}\nrules: [builtin, ${X:-y}]\n",
		"sources:\n  - &s {name: a, type: b}\n  - *s\n  - <<: *s\n    port: 1\n",
		"data_dir: [a\n",
		"outputs: !!map {}\n",
		"--- a\n--- b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("fuzz.yaml", data)
		if err != nil {
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			for _, e := range errs {
				if ce, ok := e.(*config.Error); !ok || ce.File != "fuzz.yaml" {
					t.Fatalf("error is not a *config.Error naming the file: %#v", e)
				}
			}
			return
		}
		_ = cfg.Validate()
		for _, s := range cfg.Sources {
			c := defaultTestComponent()
			_ = s.Decode(&c)
		}
		for _, o := range cfg.Outputs {
			c := defaultTestComponent()
			_ = o.Decode(&c)
		}
	})
}
