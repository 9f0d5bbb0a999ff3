package config

import (
	"net"
	"regexp"
	"strconv"
)

// sourceNameRE is what a source name may look like: it becomes a checkpoint
// scope, a metrics label and part of alert locations.
var sourceNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Validate checks the top-level settings and reports every problem found, each
// with its file and line. It checks that sources and outputs have a type, that
// source names are present, well-formed and unique and that output names are
// unique; whether a type exists is for the
// caller, which knows the registered components, to check.
func (c *Config) Validate() error {
	errs := &errorList{file: c.File}
	line := func(field string) int { return fieldLine(c.root, field) }

	if c.DataDir == "" {
		errs.addf(line("data_dir"), "data_dir: must not be empty")
	}
	if len(c.Rules) == 0 {
		errs.addf(line("rules"), "rules: must list at least one file or folder (%s is the embedded ruleset)", Builtin)
	}
	for i, r := range c.Rules {
		if r == "" {
			errs.addf(line("rules["+strconv.Itoa(i)+"]"), "rules[%d]: must not be empty", i)
		}
	}
	c.validateEngine(errs, line)
	if c.API.Listen != "" {
		if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
			errs.addf(line("api.listen"), "api.listen: want host:port: %v", err)
		}
	}
	if c.Service.ShutdownTimeout < 0 {
		errs.addf(line("service.shutdown_timeout"), "service.shutdown_timeout: must not be negative")
	}
	if c.Service.MaxConcurrentPasses < 0 {
		errs.addf(line("service.max_concurrent_passes"), "service.max_concurrent_passes: must be 0 (no cap) or more, got %d", c.Service.MaxConcurrentPasses)
	}
	if c.Service.ProgressInterval < 0 {
		errs.addf(line("service.progress_interval"), "service.progress_interval: must not be negative")
	}
	c.validateSources(errs)
	c.validateOutputs(errs)
	return errs.err()
}

func (c *Config) validateEngine(errs *errorList, line func(string) int) {
	e := c.Engine
	if e.LogAlertLevel < 0 || e.LogAlertLevel > 16 {
		errs.addf(line("engine.log_alert_level"), "engine.log_alert_level: must be between 0 and 16, got %d", e.LogAlertLevel)
	}
	if e.MemorySize <= 0 {
		errs.addf(line("engine.memory_size"), "engine.memory_size: must be positive, got %d", e.MemorySize)
	}
	if e.MaxFields <= 0 {
		errs.addf(line("engine.max_fields"), "engine.max_fields: must be positive, got %d", e.MaxFields)
	}
	if e.MaxEventBytes <= 0 {
		errs.addf(line("engine.max_event_bytes"), "engine.max_event_bytes: must be positive, got %d", e.MaxEventBytes)
	}
	if e.Workers < 0 {
		errs.addf(line("engine.workers"), "engine.workers: must be 0 (one per CPU) or more, got %d", e.Workers)
	}
}

func (c *Config) validateSources(errs *errorList) {
	seen := map[string]int{} // name → line of first use
	for _, s := range c.Sources {
		comp := component(s)
		label := s.Label()
		if s.Type == "" {
			errs.addf(keyLine(comp, "type"), "%s: type: required", label)
		}
		switch {
		case s.Name == "":
			errs.addf(keyLine(comp, "name"), "%s: name: required", label)
		case !sourceNameRE.MatchString(s.Name):
			errs.addf(keyLine(comp, "name"), "%s: name: %q must start with a letter or digit and contain only letters, digits, '_', '.' and '-'", label, s.Name)
		}
		if s.Name == "" {
			continue
		}
		if first, dup := seen[s.Name]; dup {
			errs.addf(keyLine(comp, "name"), "%s: name: %q is already used by the source at line %d", label, s.Name, first)
			continue
		}
		seen[s.Name] = keyLine(comp, "name")
	}
}

// validateOutputs checks types and name uniqueness.
func (c *Config) validateOutputs(errs *errorList) {
	seen := map[string]int{}
	for _, o := range c.Outputs {
		comp := component(o)
		if o.Type == "" {
			errs.addf(keyLine(comp, "type"), "%s: type: required", o.Label())
		}
		if o.Name == "" {
			continue
		}
		if first, dup := seen[o.Name]; dup {
			errs.addf(keyLine(comp, "name"), "%s: name: %q is already used by the output at line %d", o.Label(), o.Name, first)
			continue
		}
		seen[o.Name] = keyLine(comp, "name")
	}
}

// nameOutputs gives unnamed outputs their type as name, or type-<index> when
// several outputs share the type.
func nameOutputs(outs []OutputConfig) {
	perType := map[string]int{}
	for _, o := range outs {
		perType[o.Type]++
	}
	for i := range outs {
		o := &outs[i]
		if o.Name != "" || o.Type == "" {
			continue
		}
		o.Name = o.Type
		if perType[o.Type] > 1 {
			o.Name = o.Type + "-" + strconv.Itoa(i)
		}
	}
}

// keyLine is the line of key inside the entry, or the entry's own line.
func keyLine(c component, key string) int {
	if l := fieldLine(c.Node, key); l != 0 {
		return l
	}
	return c.Line
}
