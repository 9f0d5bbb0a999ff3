package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/rules/cdb"
	"github.com/skywatch-dev/skywatch/internal/rules/wregex"
)

// LoadError is a fatal problem in a rule or decoder file, with its position.
type LoadError struct {
	File string
	Line int
	Msg  string
}

func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Builder compiles rule and decoder specs into a Ruleset with Wazuh's loading
// semantics. Add every list and decoder before the rules, in load order.
type Builder struct {
	rs    *Ruleset
	lists map[string]*cdb.List
	errs  []error

	decTop    map[string][]*Decoder
	decIDs    map[string]int
	unhandled map[string]bool

	pendingGroupLinks map[*Rule][]int
	sidRefs           []*Rule // correlation rules naming a sid, resolved in Build
}

// internalDecoders are the decoders Wazuh's analysisd implements in code for the
// queues of its agent modules (file integrity, rootcheck, inventory, SCA, Windows
// event channel...). Rules name them in <decoded_as>, so they get ids; no XML decoder
// or cloud event ever selects them.
var internalDecoders = []string{
	"rootcheck", "syscheck_integrity_changed", "syscheck_deleted", "syscheck_new_entry",
	"syscheck_registry_key_modified", "syscheck_registry_key_deleted", "syscheck_registry_key_added",
	"syscheck_registry_value_modified", "syscheck_registry_value_deleted", "syscheck_registry_value_added",
	"hostinfo_modified", "hostinfo_new", "syscollector", "ciscat", "sca", "windows_eventchannel",
	"dbsync", "upgrade", "task_manager",
}

// NewBuilder returns a Builder for a ruleset with the given options.
func NewBuilder(opt Options) *Builder {
	b := newBuilder(opt)
	for _, name := range internalDecoders {
		b.decoderID(name)
	}
	return b
}

func newBuilder(opt Options) *Builder {
	return &Builder{
		rs: &Ruleset{
			Options: opt.WithDefaults(),
			ByID:    make(map[int]*Rule),
			Fields:  NewFieldTable(),
		},
		lists:             make(map[string]*cdb.List),
		decTop:            make(map[string][]*Decoder),
		decIDs:            make(map[string]int),
		unhandled:         make(map[string]bool),
		pendingGroupLinks: make(map[*Rule][]int),
	}
}

func (b *Builder) fail(file string, line int, format string, args ...any) {
	b.errs = append(b.errs, &LoadError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (b *Builder) warn(file string, line int, format string, args ...any) {
	b.rs.Warnings = append(b.rs.Warnings, (&LoadError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}).Error())
}

// Fail records a fatal error found by a loader, so Build reports it with the rest.
func (b *Builder) Fail(err error) { b.errs = append(b.errs, err) }

// Warn records a non-fatal problem found by a loader.
func (b *Builder) Warn(msg string) { b.rs.Warnings = append(b.rs.Warnings, msg) }

// AddList registers a CDB list under the name rules refer to it by.
func (b *Builder) AddList(name string, l *cdb.List) {
	b.lists[name] = l
}

// Build finishes the ruleset. It returns every fatal error found, joined.
func (b *Builder) Build() (*Ruleset, error) {
	rs := b.rs
	for _, r := range b.sidRefs {
		if !r.corr.sidTarget {
			continue // already resolved (a rule overwritten twice)
		}
		r.corr.sidTarget = false
		target := rs.ByID[r.corr.list]
		if target.sidList < 0 {
			target.sidList = rs.corrLists
			rs.corrLists++
		}
		r.corr.list = target.sidList
	}
	for r, gs := range b.pendingGroupLinks {
		r.groupLists = gs
	}
	for _, r := range rs.All {
		if r.corr != nil && r.corr.timeframe > rs.maxTimeframe {
			rs.maxTimeframe = r.corr.timeframe
		}
	}
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	rs.Fields.freeze()
	return rs, nil
}

// compilePattern compiles p in its declared dialect, or def when none is declared.
func (b *Builder) compilePattern(file string, line int, elem string, p Pattern, def string) (Expr, bool) {
	kind := def
	switch t := strings.ToLower(p.Type); t {
	case "":
	case "osmatch", "osregex", "pcre2":
		kind = t
	default:
		b.warn(file, line, "<%s>: unknown type %q, using %s", elem, p.Type, def)
	}
	var e Expr
	var err error
	switch kind {
	case "osmatch":
		e, err = wregex.CompileMatch(p.Text)
	case "osregex":
		e, err = wregex.CompileRegex(p.Text)
	case "pcre2":
		e, err = wregex.CompilePCRE(p.Text)
	default:
		e = ExactString(p.Text)
	}
	if err != nil {
		b.fail(file, line, "<%s>: %v", elem, err)
		return nil, false
	}
	return e, true
}

// compileCapture compiles a decoder prematch or regex, which must capture: OS_Regex
// by default, PCRE2 on request; osmatch is refused with a warning, as in Wazuh.
func (b *Builder) compileCapture(file string, line int, elem string, p Pattern) (CaptureExpr, bool) {
	switch t := strings.ToLower(p.Type); t {
	case "pcre2":
		e, err := wregex.CompilePCRE(p.Text)
		if err != nil {
			b.fail(file, line, "<%s>: %v", elem, err)
			return nil, false
		}
		return pcreCapture{e}, true
	case "", "osregex":
	default:
		b.warn(file, line, "<%s>: type %q not allowed here, using osregex", elem, p.Type)
	}
	e, err := wregex.CompileRegex(p.Text)
	if err != nil {
		b.fail(file, line, "<%s>: %v", elem, err)
		return nil, false
	}
	return e, true
}

func parseOffset(s string, allowed ...Offset) (Offset, bool) {
	var o Offset
	switch strings.ToLower(s) {
	case "":
		return OffsetNone, true
	case "after_parent":
		o = OffsetAfterParent
	case "after_prematch":
		o = OffsetAfterPrematch
	case "after_regex":
		o = OffsetAfterRegex
	default:
		return OffsetNone, false
	}
	for _, a := range allowed {
		if a == o {
			return o, true
		}
	}
	return OffsetNone, false
}

// pcreCapture gives PCRE patterns the Exec method decoders use for prematches; PCRE
// has no separate capture mode, so it is Captures without keeping the captures.
type pcreCapture struct{ *wregex.PCRE }

func (p pcreCapture) Exec(s []byte) (int, bool) {
	_, last, ok := p.Captures(s, nil)
	return last, ok
}
