package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"gopkg.in/yaml.v3"
)

// Builtin is the rules entry that stands for the embedded default ruleset.
const Builtin = "builtin"

// Config is the top-level configuration file.
type Config struct {
	// File is the name the configuration was loaded from, used in messages.
	File string
	// BaseDir is the directory relative paths were resolved against: the
	// configuration file's directory after Load, "" after Parse.
	BaseDir string
	// DataDir holds checkpoints and the alert store (data_dir, default ./var).
	DataDir string
	// Rules lists rule files or folders; Builtin is the embedded ruleset
	// (rules, default [builtin]).
	Rules []string
	// ManagerName is the host name reported in alerts (manager_name, default
	// the machine's host name).
	ManagerName string
	// Engine tunes the rules engine (engine).
	Engine EngineConfig
	// Outputs are the alert sinks, in file order (outputs).
	Outputs []OutputConfig
	// Sources are the log sources, in file order (sources).
	Sources []SourceConfig
	// API configures the HTTP API (api).
	API APIConfig
	// Service tunes the long-running service (service).
	Service ServiceConfig

	root *yaml.Node // the top-level mapping, for positions in Validate
}

// EngineConfig tunes the rules engine.
type EngineConfig struct {
	// LogAlertLevel is the minimum rule level that produces an alert (default 3).
	LogAlertLevel int `yaml:"log_alert_level"`
	// MemorySize is how many past events correlation rules can look back on
	// (default 8192).
	MemorySize int `yaml:"memory_size"`
	// MaxFields caps the dynamic fields extracted per event (default 8192; Wazuh
	// uses 256).
	MaxFields int `yaml:"max_fields"`
	// MaxEventBytes caps the size of one record a source reads; larger records are
	// refused, counted and logged (default 256MiB; Wazuh's limit is 64 KiB).
	MaxEventBytes ByteSize `yaml:"max_event_bytes"`
	// Workers is the number of matching goroutines; 0 means one per CPU.
	Workers int `yaml:"workers"`
}

// APIConfig is the api section. Listen is read here, since it decides whether the
// service serves HTTP at all; the API package decodes the whole section with Decode.
type APIConfig struct {
	// Listen is the host:port to serve the API, metrics and health checks on;
	// empty disables the listener.
	Listen string
	// File, Line and BaseDir locate the section; Node is its mapping.
	File    string
	Line    int
	BaseDir string
	Node    *yaml.Node
}

// Decode decodes the api section strictly into v (filled with defaults by the
// caller), resolves its relative Path fields and runs v.Validate.
func (a APIConfig) Decode(v Validator) error {
	body := resolve(a.Node)
	if body == nil || body.Kind != yaml.MappingNode {
		body = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: a.Line}
	}
	return decodeSection(a.File, a.Line, a.BaseDir, body, "api: ", v)
}

// ServiceConfig tunes `skywatch run` as a long-running service.
type ServiceConfig struct {
	// ShutdownTimeout bounds a graceful stop (SIGTERM, SIGINT, or a reload):
	// sources stop, work in flight is finished and acknowledged, outputs flushed
	// (default 30s). Past it the process exits anyway; unacknowledged work is read
	// again on the next start.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// MaxConcurrentPasses caps how many polling sources run a pass at the same
	// time; 0 means no cap (default 0).
	MaxConcurrentPasses int `yaml:"max_concurrent_passes"`
	// ProgressInterval is how often progress (events, rate, estimated time left)
	// is logged while sources are busy (default 30s; 0 turns it off).
	ProgressInterval Duration `yaml:"progress_interval"`
}

// Default returns the configuration an empty file yields, apart from the host
// name, which Parse fills in.
func Default() Config {
	return Config{
		DataDir: "./var",
		Rules:   []string{Builtin},
		Engine: EngineConfig{
			LogAlertLevel: 3,
			MemorySize:    8192,
			MaxFields:     8192,
			MaxEventBytes: 256 << 20,
			Workers:       0,
		},
		Service: ServiceConfig{
			ShutdownTimeout:  Duration(30 * time.Second),
			ProgressInterval: Duration(30 * time.Second),
		},
	}
}

// fileConfig is the top-level file as the YAML decoder sees it; components stay
// nodes.
type fileConfig struct {
	DataDir     string        `yaml:"data_dir"`
	Rules       []string      `yaml:"rules"`
	ManagerName string        `yaml:"manager_name"`
	Engine      EngineConfig  `yaml:"engine"`
	Outputs     yaml.Node     `yaml:"outputs"`
	Sources     yaml.Node     `yaml:"sources"`
	API         yaml.Node     `yaml:"api"`
	Service     ServiceConfig `yaml:"service"`
}

// maxConfigFile bounds what Load reads; a configuration file is small.
const maxConfigFile = 16 << 20

// Load reads and decodes the configuration file at path and resolves relative
// paths (data_dir, rules other than builtin, ${file:...} references, and
// component Path fields at Decode time) against the file's directory. It does not
// call Validate.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	if len(data) > maxConfigFile {
		return nil, fmt.Errorf("load config %s: larger than %d bytes", path, maxConfigFile)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, err := parse(path, data, dir)
	if err != nil {
		return nil, err
	}
	cfg.DataDir = resolvePath(dir, cfg.DataDir)
	for i, r := range cfg.Rules {
		if r != Builtin {
			cfg.Rules[i] = resolvePath(dir, r)
		}
	}
	return cfg, nil
}

// Parse decodes configuration text; name is used in messages. Relative paths are
// left as written. It does not call Validate.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, "")
}

func parse(name string, data []byte, baseDir string) (*Config, error) {
	errs := &errorList{file: name}
	root, err := parseNode(data)
	if err != nil {
		errs.addSyntax(err, lineCount(data))
		return nil, errs.err()
	}
	(&expander{lookupEnv: os.LookupEnv, baseDir: baseDir, errs: errs}).walk(root)

	def := Default()
	fc := fileConfig{DataDir: def.DataDir, Rules: def.Rules, Engine: def.Engine, Service: def.Service}
	if root != nil {
		if root.Kind != yaml.MappingNode {
			errs.addf(root.Line, "the configuration must be a mapping of keys to values")
			return nil, errs.err()
		}
		(&keyChecker{errs: errs}).check(root, reflect.TypeOf(fc), "", 0)
		if err := root.Decode(&fc); err != nil {
			errs.addYAML(err, "", root.Line)
		}
	}
	cfg := &Config{
		File:        name,
		BaseDir:     baseDir,
		DataDir:     fc.DataDir,
		Rules:       fc.Rules,
		ManagerName: fc.ManagerName,
		Engine:      fc.Engine,
		API:         apiSection(errs, &fc.API, name, baseDir),
		Service:     fc.Service,
		root:        root,
	}
	cfg.Sources = components(errs, &fc.Sources, "sources", func(c component) SourceConfig { return SourceConfig(c) })
	cfg.Outputs = components(errs, &fc.Outputs, "outputs", func(c component) OutputConfig { return OutputConfig(c) })
	for i := range cfg.Sources {
		cfg.Sources[i].File, cfg.Sources[i].BaseDir = name, baseDir
	}
	for i := range cfg.Outputs {
		cfg.Outputs[i].File, cfg.Outputs[i].BaseDir = name, baseDir
	}
	nameOutputs(cfg.Outputs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	if cfg.ManagerName == "" {
		cfg.ManagerName = defaultManagerName()
	}
	return cfg, nil
}

// parseNode parses exactly one YAML document; it returns a nil node for an empty
// one.
func parseNode(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("line %d: only one YAML document is allowed", extra.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil // a file holding only comments
	}
	return root, nil
}

// defaultManagerName is the host name, as Wazuh reports the manager; "skywatch"
// when the system will not say.
func defaultManagerName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "skywatch"
	}
	return h
}

// lineCount is the number of lines in data, counting an unterminated last one.
func lineCount(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

func resolvePath(base, p string) string {
	if p == "" || base == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// apiSection reads the api mapping's listen key and keeps the mapping for Decode.
func apiSection(errs *errorList, n *yaml.Node, file, baseDir string) APIConfig {
	a := APIConfig{File: file, BaseDir: baseDir}
	m := resolve(n)
	if m == nil || m.Kind == 0 || (m.Kind == yaml.ScalarNode && m.ShortTag() == "!!null") {
		return a
	}
	a.Line = m.Line
	if m.Kind != yaml.MappingNode {
		errs.addf(m.Line, "api: must be a mapping")
		return a
	}
	a.Node = m
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "listen" {
			v := resolve(m.Content[i+1])
			if v == nil || v.Kind != yaml.ScalarNode {
				errs.addf(m.Content[i+1].Line, "api.listen: must be host:port")
				continue
			}
			a.Listen = v.Value
		}
	}
	return a
}
