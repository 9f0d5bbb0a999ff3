package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// testComponent stands in for a source's or sink's Config struct.
type testComponent struct {
	Bucket   string          `yaml:"bucket"`
	Region   string          `yaml:"region"`
	Path     config.Path     `yaml:"path"`
	Interval config.Duration `yaml:"interval"`
	MaxSize  config.ByteSize `yaml:"max_size"`
	Password config.Secret   `yaml:"password"`
	TLS      testTLS         `yaml:"tls"`
	Topics   []string        `yaml:"topics"`
	Port     int             `yaml:"port"`
}

type testTLS struct {
	CAFile   config.Path `yaml:"ca_file"`
	Insecure bool        `yaml:"insecure"`
}

func defaultTestComponent() testComponent {
	return testComponent{Region: "us-east-1", Interval: config.Duration(time.Minute), MaxSize: 1 << 20}
}

func (c *testComponent) Validate() error {
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, config.FieldError{Field: "bucket", Msg: "required"})
	}
	if c.Region == "mars-1" {
		errs = append(errs, &config.FieldError{Field: "region", Msg: "unknown region"})
	}
	for i, t := range c.Topics {
		if t == "" {
			errs = append(errs, config.FieldError{Field: fmt.Sprintf("topics[%d]", i), Msg: "must not be empty"})
		}
	}
	if c.TLS.Insecure && c.TLS.CAFile != "" {
		errs = append(errs, config.FieldError{Field: "tls.insecure", Msg: "conflicts with tls.ca_file"})
	}
	if c.Port < 0 {
		errs = append(errs, errors.New("port must not be negative"))
	}
	return errors.Join(errs...)
}

// thirteenLines puts the first source entry on line 14, as in the documented
// example message.
const thirteenLines = "data_dir: ./var\nrules: [builtin]\n# 3\n# 4\n# 5\n# 6\n# 7\n# 8\n# 9\n# 10\n# 11\n# 12\nsources:\n"

func TestComponentDecode(t *testing.T) {
	tests := []struct {
		name  string
		entry string // the YAML of sources[0], starting on line 14
		want  []string
		check func(t *testing.T, c testComponent)
	}{{
		name:  "documented example: missing required key",
		entry: "  - name: demo\n    type: aws-s3\n    region: eu-west-1\n",
		want:  []string{"skywatch.yaml:14: sources[0] (demo): bucket: required"},
	}, {
		name:  "defaults kept and values decoded",
		entry: "  - name: demo\n    type: aws-s3\n    bucket: b\n    max_size: 64KiB\n    password: hunter2\n    topics: [a, b]\n",
		check: func(t *testing.T, c testComponent) {
			if c.Region != "us-east-1" || c.Interval.Std() != time.Minute {
				t.Errorf("defaults lost: %+v", c)
			}
			if c.Bucket != "b" || c.MaxSize != 64<<10 || c.Password.Reveal() != "hunter2" || len(c.Topics) != 2 {
				t.Errorf("values not decoded: %+v", c)
			}
		},
	}, {
		name:  "unknown key in component",
		entry: "  - name: demo\n    type: aws-s3\n    bucket: b\n    regoin: eu-west-1\n",
		want:  []string{`skywatch.yaml:17: sources[0] (demo): unknown key "regoin" (did you mean "region"?)`},
	}, {
		name:  "unknown nested key in component",
		entry: "  - name: demo\n    type: aws-s3\n    bucket: b\n    tls:\n      ca_fiel: /ca.pem\n",
		want:  []string{`skywatch.yaml:18: sources[0] (demo): tls: unknown key "ca_fiel" (did you mean "ca_file"?)`},
	}, {
		name:  "bad type in component",
		entry: "  - name: demo\n    type: aws-s3\n    bucket: b\n    port: eighty\n",
		want:  []string{"skywatch.yaml:17: sources[0] (demo): cannot unmarshal !!str `eighty` into int"},
	}, {
		name:  "bad duration in component",
		entry: "  - name: demo\n    type: aws-s3\n    bucket: b\n    interval: 5\n",
		want:  []string{`skywatch.yaml:17: sources[0] (demo): invalid duration "5": want a number with a unit such as 90s, 10m or 1h30m`},
	}, {
		name:  "field errors map to their keys",
		entry: "  - name: demo\n    type: aws-s3\n    bucket: b\n    region: mars-1\n    topics:\n      - a\n      - \"\"\n    tls:\n      ca_file: /ca.pem\n      insecure: true\n    port: -1\n",
		want: []string{
			"skywatch.yaml:14: sources[0] (demo): port must not be negative",
			"skywatch.yaml:17: sources[0] (demo): region: unknown region",
			"skywatch.yaml:20: sources[0] (demo): topics[1]: must not be empty",
			"skywatch.yaml:23: sources[0] (demo): tls.insecure: conflicts with tls.ca_file",
		},
	}, {
		name:  "component keys can come from an anchor",
		entry: "  - name: demo\n    type: aws-s3\n    <<: &common\n      bucket: shared\n      regoin: x\n",
		want:  []string{`skywatch.yaml:18: sources[0] (demo): unknown key "regoin" (did you mean "region"?)`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("skywatch.yaml", []byte(thirteenLines+tt.entry))
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			c := defaultTestComponent()
			err = cfg.Sources[0].Decode(&c)
			checkErrors(t, err, tt.want)
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestOutputDecodeLabel(t *testing.T) {
	cfg, err := config.Parse("c.yaml", []byte("outputs:\n  - type: file\n    path: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := defaultTestComponent()
	checkErrors(t, cfg.Outputs[0].Decode(&c), []string{"c.yaml:2: outputs[0] (file): bucket: required"})
}

func TestDecodeNeedsPointer(t *testing.T) {
	cfg, err := config.Parse("c.yaml", []byte("sources:\n  - name: a\n    type: t\n"))
	if err != nil {
		t.Fatal(err)
	}
	var nilComponent *testComponent
	if err := cfg.Sources[0].Decode(nilComponent); err == nil || !strings.Contains(err.Error(), "non-nil pointer") {
		t.Errorf("got %v, want a non-nil pointer error", err)
	}
}
