package rules

// Specs are rules and decoders as a loader read them: raw text, before compilation.
// The Wazuh XML loader (package wazuhxml) produces them; the Builder compiles them
// with Wazuh's semantics.

// Pattern is one pattern element: its text and the type/negate attributes.
type Pattern struct {
	Text   string
	Type   string // "", "osmatch", "osregex", "pcre2"
	Negate bool
	Set    bool
}

// FieldSpec is a <field name="..."> condition.
type FieldSpec struct {
	Name string
	Pattern
}

// ListSpec is a <list> condition.
type ListSpec struct {
	Field, Lookup, CheckValue, Path string
	HasCheckValue                   bool
}

// MitreSpec is a rule's ATT&CK block: the old id form or tactic/technique pairs.
type MitreSpec struct {
	IDs   []string
	Pairs [][2]string
}

// RuleSpec is one rule as read from a file.
type RuleSpec struct {
	File string
	Line int

	// Attributes, raw.
	ID, Level, Frequency, Timeframe, Ignore, NoAlert, Overwrite, MaxSize, Accuracy string
	HasFrequency, HasTimeframe, HasIgnore, HasNoAlert, HasMaxSize                  bool

	Category  string
	DecodedAs string

	IfSID, IfGroup, IfLevel, IfMatchedSID, IfMatchedGroup string
	HasIfSID, HasIfGroup, HasIfLevel                      bool
	HasIfMatchedSID, HasIfMatchedGroup                    bool
	IfMatchedRegex                                        Pattern
	IfFTS                                                 bool

	Match, Regex Pattern
	// Static holds the static-field elements by element name (srcport, user, id,
	// status, url, protocol, data, extra_data, system_name, hostname, program_name,
	// location, action, srcgeoip, dstgeoip).
	Static map[string]Pattern
	Fields []FieldSpec
	SrcIP  []string
	DstIP  []string
	// SrcIPNegate and DstIPNegate invert the whole address list.
	SrcIPNegate, DstIPNegate bool
	Lists                    []ListSpec

	// Same and Different hold same_*/different_* element names without prefix
	// (e.g. "srcip", "user"); SameField/DifferentField the field names.
	Same, Different           []string
	SameField, DifferentField []string
	GlobalFrequency           bool

	Time, Weekday, CompiledRule string
	CheckDiff                   bool

	Description    string
	HasDescription bool
	// Warnings are problems the loader found that Wazuh reports without failing.
	Warnings []string
	// GroupString is the enclosing <group name> followed by the rule's <group> texts.
	GroupString string
	Info, CVE   string
	Options     []string
	Mitre       MitreSpec
}

// DecoderSpec is one decoder as read from a file.
type DecoderSpec struct {
	File string
	Line int

	Name, Parent     string
	ProgramName      Pattern
	Prematch         Pattern
	PrematchOffset   string
	Regex            Pattern
	RegexOffset      string
	Order            string
	HasOrder         bool
	Plugin           string
	PluginOffset     string
	Type             string
	FTS, FTSComment  string
	UseOwnName       bool
	Accumulate       bool
	JSONNullField    string
	JSONArrayStruct  string
	HasJSONNullField bool
	// JSONPrefix is skywatch's json_prefix extension: the JSON plugin puts it in
	// front of every key.
	JSONPrefix string
}
