// Package rules is skywatch's rules engine: a compiled tree of Wazuh-compatible rules
// and decoders, evaluated against events exactly as Wazuh's analysisd evaluates them.
//
// The loader (package wazuhxml) builds a Ruleset; an Engine holds the mutable state
// (correlation history, counters) and hands out Matchers, one per goroutine, that turn
// events into results.
package rules

import (
	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/mitre"
)

// Defaults for the ruleset options, as Wazuh's stock configuration sets them.
const (
	DefaultLogAlertLevel   = 3
	DefaultEmailAlertLevel = 12
	DefaultMemorySize      = 8192
	DefaultTimeframe       = 360
	// DefaultMaxFields is the per-event cap on dynamic fields. Wazuh's is 256; ours
	// is large so big cloud events are not cut, and hits are counted.
	DefaultMaxFields = 8192
)

// Options are the engine settings that Wazuh keeps in ossec.conf and
// internal_options.conf.
type Options struct {
	// LogAlertLevel is the lowest level that produces an alert (Wazuh log_alert_level).
	LogAlertLevel int
	// EmailAlertLevel decides rule.mail (Wazuh email_alert_level).
	EmailAlertLevel int
	// MemorySize bounds the correlation history (Wazuh analysisd memory_size).
	MemorySize int
	// MaxFields caps the dynamic fields kept per event (Wazuh decoder_order_size).
	MaxFields int
	// ManagerName is the hostname reported for local events.
	ManagerName string
	// EventChannelAsJSON applies the edit Wazuh's ruleset test runner (runtests.py)
	// makes before running its suite: the Windows event-channel base rule (the one
	// decoded_as windows_eventchannel) is decoded as json, without its category, so
	// the suite's JSON-encoded Windows events reach the Windows rules. Only for that
	// suite.
	EventChannelAsJSON bool
}

// WithDefaults fills unset options.
func (o Options) WithDefaults() Options {
	if o.LogAlertLevel == 0 {
		o.LogAlertLevel = DefaultLogAlertLevel
	}
	if o.EmailAlertLevel == 0 {
		o.EmailAlertLevel = DefaultEmailAlertLevel
	}
	if o.MemorySize == 0 {
		o.MemorySize = DefaultMemorySize
	}
	if o.MaxFields == 0 {
		o.MaxFields = DefaultMaxFields
	}
	if o.ManagerName == "" {
		o.ManagerName = "skywatch"
	}
	return o
}

// Ruleset is a loaded, compiled set of decoders and rules. It is immutable once built
// and shared by every Matcher.
type Ruleset struct {
	Options Options
	// Decoders in the two top-level lists Wazuh keeps: those with a program_name and
	// those without.
	DecodersPname   []*Decoder
	DecodersNoPname []*Decoder
	// Top holds the top-level rules (ids below 10) in walk order.
	Top []*Rule
	// ByID indexes every loaded rule.
	ByID map[int]*Rule
	// All lists rules in load order.
	All []*Rule
	// Fields interns the dynamic field names rules and decoders refer to.
	Fields *FieldTable
	// NumDecoderIDs is the number of distinct decoder ids handed out.
	NumDecoderIDs int
	// Warnings are the non-fatal problems found while loading, as Wazuh logs them.
	Warnings []string
	// corrLists is the number of correlation lists rules use (sid and group lists).
	corrLists int
	// corrSlots are the dynamic fields same_field/different_field compare; stored
	// events keep only these.
	corrSlots []int32
	// keepRecent is set when a rule uses if_matched_regex, which scans every stored
	// event.
	keepRecent bool
	// regexCorrs numbers the if_matched_regex rules, for the per-event result cache.
	regexCorrs int
	// maxTimeframe is the longest correlation window, beyond which history is dropped.
	maxTimeframe int64
}

// PluginKind names a decoder plugin.
type PluginKind uint8

// Decoder plugins. Only the JSON plugin decodes today; the others load and are reported.
const (
	PluginNone PluginKind = iota
	PluginJSON
	PluginOther
)

// Offset says where a decoder expression starts reading.
type Offset uint8

// Decoder expression offsets.
const (
	OffsetNone Offset = iota
	OffsetAfterParent
	OffsetAfterPrematch
	OffsetAfterRegex
)

// Decoder is one compiled decoder.
type Decoder struct {
	Name string
	// ID is what decoded_as compares: children share their parent's id unless they
	// use their own name.
	ID int
	// ReportName is the name shown as decoder.name; ParentName is decoder.parent.
	File string
	Line int

	ProgramName    Expr
	Prematch       CaptureExpr
	PrematchOffset Offset
	Regex          CaptureExpr
	RegexOffset    Offset
	Order          []OrderTarget
	Plugin         PluginKind
	PluginName     string
	PluginOffset   Offset
	JSON           event.FlattenOptions
	Type           string
	FTS            []string
	FTSComment     string
	Accumulate     bool
	UseOwnName     bool

	// chain is the decoder's own name: consecutive children with the same own name
	// form a chain whose regexes all run.
	chain string
	// Parent is set for child decoders.
	Parent *Decoder
	// Children are the child decoders in load order; same-name children follow each
	// other and form a chain.
	Children []*Decoder
}

// OrderTarget is where a regex capture goes: a static field or a dynamic slot.
type OrderTarget struct {
	Static StaticField // NoStatic for dynamic fields
	Slot   int32
	Name   string
}

// Rule is one compiled rule.
type Rule struct {
	ID        int
	Level     int
	Frequency int // as configured; 0 when absent
	Timeframe int
	Ignore    int
	NoAlert   bool
	MaxSize   int
	Category  string
	File      string
	Line      int

	conds []cond
	lists []listCond
	fts   bool
	corr  *correlation

	Description descTemplate
	DescText    string
	GroupString string
	Groups      []string
	Compliance  []Compliance
	Mitre       *mitre.Mitre
	Info        string
	CVE         string
	NoFullLog   bool
	NoLog       bool
	NoCounter   bool
	Mail        bool
	// HasCorrelation is true for rules with if_matched_*: their alerts carry
	// rule.frequency.
	HasCorrelation bool

	// idText, alertMitre and alertCompliance are the alert's rule fields, built once.
	idText          string
	alertMitre      *alert.Mitre
	alertCompliance []alert.Compliance

	Children []*Rule
	priority int
	// skip marks a rule the loader drops with a warning (missing list, parent...).
	skip bool

	// index is the rule's position in Ruleset.All, used for per-rule state.
	index int
	// sidList is the correlation list this rule's events feed (-1 none); groupLists
	// are the if_matched_group lists it feeds when it has no sid list.
	sidList    int
	groupLists []int
}

// Compliance is one compliance array of an alert (pci_dss, gdpr, ...).
type Compliance struct {
	Name   string
	Values []string
}

// Index returns the rule's position in load order.
func (r *Rule) Index() int { return r.index }
