package rules

import (
	"cmp"
	"regexp"
	"slices"

	"strconv"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/alert"

	"github.com/skywatch-dev/skywatch/internal/rules/wregex"
)

var sidListSyntax = regexp.MustCompile(`^[\d, ]+$`)

// AddRule compiles one rule and attaches it to the rule tree as Wazuh's loader does.
func (b *Builder) AddRule(s RuleSpec) {
	for _, w := range s.Warnings {
		b.warn(s.File, s.Line, "rule %s: %s", s.ID, w)
	}
	if b.rs.Options.EventChannelAsJSON && s.DecodedAs == "windows_eventchannel" {
		s.DecodedAs, s.Category = "json", ""
	}
	nerr := len(b.errs)
	r := b.compileRule(s)
	if r == nil || len(b.errs) > nerr {
		return
	}
	rs := b.rs
	if old, dup := rs.ByID[r.ID]; dup {
		if strings.EqualFold(s.Overwrite, "yes") {
			b.overwrite(old, r, s)
			return
		}
		b.warn(s.File, s.Line, "duplicate rule id %d (first defined at %s:%d): ignored", r.ID, old.File, old.Line)
		return
	}
	if strings.EqualFold(s.Overwrite, "yes") {
		b.warn(s.File, s.Line, "rule %d: overwrite of a rule that does not exist; added as new", r.ID)
	}
	if !b.attach(r, s) {
		return
	}
	r.index = len(rs.All)
	rs.All = append(rs.All, r)
	rs.ByID[r.ID] = r
	if r.corr != nil && s.HasIfMatchedGroup {
		b.linkGroupList(r, s)
	}
	if r.corr != nil && r.corr.sidTarget {
		b.sidRefs = append(b.sidRefs, r)
	}
}

// compileRule turns a spec into a Rule without attaching it.
func (b *Builder) compileRule(s RuleSpec) *Rule {
	r := &Rule{File: s.File, Line: s.Line, sidList: -1, Category: "syslog"}
	id, err := strconv.Atoi(s.ID)
	if err != nil || s.ID == "" || len(s.ID) > 6 || strings.ContainsAny(s.ID, "+- ") {
		b.fail(s.File, s.Line, "invalid rule id %q", s.ID)
		return nil
	}
	r.ID = id
	if r.Level, err = strconv.Atoi(s.Level); err != nil || r.Level < 0 || r.Level > 16 {
		b.fail(s.File, s.Line, "rule %d: invalid level %q", id, s.Level)
		return nil
	}
	b.ruleAttributes(r, s)
	if s.Category != "" {
		r.Category = s.Category
	}
	if !s.HasDescription {
		b.fail(s.File, s.Line, "rule %d: missing <description>", id)
		return nil
	}
	r.DescText = s.Description
	r.Description = parseDescription(s.Description, b.rs.Fields)
	b.ruleOutput(r, s)
	r.idText = itoa(r.ID)
	if r.Mitre != nil {
		r.alertMitre = &alert.Mitre{ID: r.Mitre.ID, Tactic: r.Mitre.Tactic, Technique: r.Mitre.Technique}
	}
	for _, c := range r.Compliance {
		r.alertCompliance = append(r.alertCompliance, alert.Compliance{Name: c.Name, Values: c.Values})
	}
	b.ruleConditions(r, s)
	orderConditions(r.conds)
	b.ruleLists(r, s)
	b.ruleCorrelation(r, s)
	return r
}

func (b *Builder) ruleAttributes(r *Rule, s RuleSpec) {
	var err error
	if s.HasFrequency {
		if r.Frequency, err = strconv.Atoi(strings.TrimSpace(s.Frequency)); err != nil || r.Frequency < 2 || r.Frequency > 9999 {
			b.fail(s.File, s.Line, "rule %d: invalid frequency %q", r.ID, s.Frequency)
		}
	}
	r.Timeframe = DefaultTimeframe
	if s.HasTimeframe {
		if r.Timeframe, err = strconv.Atoi(strings.TrimSpace(s.Timeframe)); err != nil || r.Timeframe < 1 {
			b.fail(s.File, s.Line, "rule %d: invalid timeframe %q", r.ID, s.Timeframe)
		}
	}
	if s.HasIgnore {
		if r.Ignore, err = strconv.Atoi(strings.TrimSpace(s.Ignore)); err != nil || r.Ignore < 0 {
			b.fail(s.File, s.Line, "rule %d: invalid ignore %q", r.ID, s.Ignore)
		}
	}
	if s.HasMaxSize {
		if r.MaxSize, err = strconv.Atoi(strings.TrimSpace(s.MaxSize)); err != nil || r.MaxSize < 1 {
			b.fail(s.File, s.Line, "rule %d: invalid maxsize %q", r.ID, s.MaxSize)
		}
		r.conds = append(r.conds, cond{kind: cMaxSize, n: r.MaxSize})
	}
	if s.HasNoAlert {
		switch s.NoAlert {
		case "1":
			r.NoAlert = true
		case "0":
		default:
			b.warn(s.File, s.Line, "rule %d: invalid noalert %q ignored", r.ID, s.NoAlert)
		}
	}
	r.priority = r.Level * 100
	if r.Level == 0 {
		r.priority = 9900
	}
	if s.Accuracy == "0" {
		r.priority = r.Level
	}
}

// staticElements are the rule elements that test a static field, in the order Wazuh
// evaluates them, with their default pattern type.
var staticElements = []struct {
	elem  string
	field StaticField
	def   string
}{
	{"id", FID, "osmatch"},
	{"system_name", FSystemName, "osmatch"},
	{"protocol", FProtocol, "osmatch"},
}

var lateStaticElements = []struct {
	elem  string
	field StaticField
	def   string
}{
	{"srcport", FSrcPort, "osmatch"},
	{"dstport", FDstPort, "osmatch"},
}

func (b *Builder) ruleConditions(r *Rule, s RuleSpec) {
	add := func(c cond) { r.conds = append(r.conds, c) }
	pat := func(elem, def string) (Expr, bool, bool) {
		p, ok := s.Static[elem]
		if !ok {
			return nil, false, false
		}
		e, ok := b.compilePattern(s.File, s.Line, elem, p, def)
		return e, p.Negate, ok
	}
	if s.DecodedAs != "" {
		id, ok := b.decIDs[s.DecodedAs]
		if !ok {
			b.fail(s.File, s.Line, "rule %d: unknown decoder %q in <decoded_as>", r.ID, s.DecodedAs)
			return
		}
		add(cond{kind: cDecodedAs, decoderID: id})
	}
	if e, neg, ok := pat("program_name", "osmatch"); ok {
		add(cond{kind: cProgramName, expr: e, negate: neg})
	}
	for _, st := range staticElements {
		if e, neg, ok := pat(st.elem, st.def); ok {
			add(cond{kind: cStatic, static: st.field, expr: e, negate: neg})
		}
	}
	if s.Match.Set {
		if e, ok := b.compilePattern(s.File, s.Line, "match", s.Match, "osmatch"); ok {
			add(cond{kind: cMatch, expr: e, negate: s.Match.Negate})
		}
	}
	if s.Regex.Set {
		if e, ok := b.compilePattern(s.File, s.Line, "regex", s.Regex, "osregex"); ok {
			add(cond{kind: cRegex, expr: e, negate: s.Regex.Negate})
		}
	}
	if e, neg, ok := pat("action", "string"); ok {
		add(cond{kind: cStatic, static: FAction, expr: e, negate: neg})
	}
	if e, neg, ok := pat("url", "osmatch"); ok {
		add(cond{kind: cStatic, static: FURL, expr: e, negate: neg})
	}
	if e, neg, ok := pat("location", "osmatch"); ok {
		add(cond{kind: cLocation, expr: e, negate: neg})
	}
	b.ruleFields(r, s)
	b.ruleIPs(r, s)
	for _, st := range lateStaticElements {
		if e, neg, ok := pat(st.elem, st.def); ok {
			add(cond{kind: cStatic, static: st.field, expr: e, negate: neg})
		}
	}
	b.ruleLateConditions(r, s, pat)
}

func (b *Builder) ruleFields(r *Rule, s RuleSpec) {
	if len(s.Fields) > 256 {
		b.fail(s.File, s.Line, "rule %d: more than 256 <field> elements", r.ID)
		return
	}
	for _, f := range s.Fields {
		if f.Name == "" {
			b.fail(s.File, s.Line, "rule %d: <field> without a name", r.ID)
			continue
		}
		if isStaticFieldName(f.Name) {
			b.fail(s.File, s.Line, "rule %d: <field name=%q> names a static field", r.ID, f.Name)
			continue
		}
		e, ok := b.compilePattern(s.File, s.Line, "field", f.Pattern, "osregex")
		if !ok {
			continue
		}
		r.conds = append(r.conds, cond{kind: cField, slot: b.rs.Fields.Intern(f.Name), expr: e, negate: f.Negate})
	}
}

func isStaticFieldName(name string) bool {
	switch strings.ToLower(name) {
	case "srcip", "dstip", "srcgeoip", "dstgeoip", "srcport", "dstport", "user", "srcuser",
		"dstuser", "url", "id", "data", "extra_data", "status", "protocol", "system_name", "action":
		return true
	}
	return false
}

func (b *Builder) ruleIPs(r *Rule, s RuleSpec) {
	for _, spec := range []struct {
		list   []string
		kind   condKind
		negate bool
	}{{s.SrcIP, cSrcIP, s.SrcIPNegate}, {s.DstIP, cDstIP, s.DstIPNegate}} {
		if len(spec.list) == 0 {
			continue
		}
		c := cond{kind: spec.kind, negate: spec.negate}
		for _, a := range spec.list {
			p, ok := parseIPElement(strings.TrimSpace(a))
			if !ok {
				b.fail(s.File, s.Line, "rule %d: invalid IP address %q", r.ID, a)
				return
			}
			c.ips = append(c.ips, p)
		}
		r.conds = append(r.conds, c)
	}
}

func (b *Builder) ruleLateConditions(r *Rule, s RuleSpec, pat func(string, string) (Expr, bool, bool)) {
	add := func(c cond) { r.conds = append(r.conds, c) }
	if s.CompiledRule != "" {
		fn, ok := compiledRules[s.CompiledRule]
		if !ok {
			b.fail(s.File, s.Line, "rule %d: unknown compiled_rule %q", r.ID, s.CompiledRule)
		} else {
			add(cond{kind: cCompiled, compiled: fn})
		}
	}
	if e, neg, ok := pat("user", "osmatch"); ok {
		add(cond{kind: cUser, expr: e, negate: neg})
	}
	for _, g := range []string{"srcgeoip", "dstgeoip"} {
		if _, _, ok := pat(g, "osmatch"); ok {
			add(cond{kind: cGeoIP})
			if !b.unhandled["geoip"] {
				b.unhandled["geoip"] = true
				b.warn(s.File, s.Line, "rule %d: <%s> never matches: skywatch has no GeoIP database yet", r.ID, g)
			}
		}
	}
	if s.Time != "" {
		tr, err := parseTimeRange(s.Time)
		if err != nil {
			b.fail(s.File, s.Line, "rule %d: <time>: %v", r.ID, err)
		} else {
			add(cond{kind: cTime, tr: tr})
		}
	}
	if s.Weekday != "" {
		wd, err := parseWeekdays(s.Weekday)
		if err != nil {
			b.fail(s.File, s.Line, "rule %d: <weekday>: %v", r.ID, err)
		} else {
			add(cond{kind: cWeekday, wd: wd})
		}
	}
	for _, st := range []struct {
		elem  string
		field StaticField
	}{{"data", FData}, {"extra_data", FExtraData}} {
		if e, neg, ok := pat(st.elem, "osmatch"); ok {
			add(cond{kind: cStatic, static: st.field, expr: e, negate: neg})
		}
	}
	if e, neg, ok := pat("hostname", "osmatch"); ok {
		add(cond{kind: cHostname, expr: e, negate: neg})
	}
	if e, neg, ok := pat("status", "osmatch"); ok {
		add(cond{kind: cStatic, static: FStatus, expr: e, negate: neg})
	}
	if s.CheckDiff {
		add(cond{kind: cCheckDiff, n: r.ID})
	}
	r.fts = s.IfFTS
}

func (b *Builder) ruleLists(r *Rule, s RuleSpec) {
	for _, l := range s.Lists {
		kind, err := parseLookup(l.Lookup)
		if err != nil {
			b.fail(s.File, s.Line, "rule %d: <list>: %v", r.ID, err)
			continue
		}
		lc := listCond{kind: kind, static: NoStatic, slot: -1}
		list, ok := b.lists[l.Path]
		if !ok {
			list, ok = b.lists[strings.TrimSuffix(l.Path, ".cdb")]
		}
		if !ok {
			b.warn(s.File, s.Line, "rule %d: list %q could not be loaded; rule skipped", r.ID, l.Path)
			r.skip = true
			continue
		}
		lc.list = list
		if l.HasCheckValue {
			m, err := wregex.CompileMatch(l.CheckValue)
			if err != nil {
				b.fail(s.File, s.Line, "rule %d: <list check_value>: %v", r.ID, err)
				continue
			}
			lc.check = m.Match
		}
		switch f := strings.ToLower(l.Field); f {
		case "user":
			lc.user = true
		case "program_name":
			lc.pname = true
		case "hostname":
			lc.host = true
		case "srcip", "srcport", "dstip", "dstport", "url", "id", "status", "action",
			"protocol", "system_name", "data", "extra_data":
			lc.static = orderStatic(f)
		case "":
			b.fail(s.File, s.Line, "rule %d: <list> without a field", r.ID)
			continue
		default:
			lc.slot = b.rs.Fields.Intern(l.Field)
		}
		r.lists = append(r.lists, lc)
	}
}

// condCost ranks condition kinds by what checking one costs: a comparison, a
// pattern over one decoded field, a pattern over the whole event.
func condCost(k condKind) int {
	switch k {
	case cField, cCompiled, cUser:
		return 1
	case cMatch, cRegex:
		return 2
	case cCheckDiff:
		return 3 // it records the value it saw, so it must run only when all else holds
	}
	return 0
}

// orderConditions puts cheap conditions first. They are ANDed and, but for
// check_diff, free of side effects, so the order changes only the cost: a rule
// whose field test fails no longer scans the whole event with its regex first.
// Wazuh's order is kept among conditions of one cost.
func orderConditions(conds []cond) {
	slices.SortStableFunc(conds, func(a, b cond) int { return cmp.Compare(condCost(a.kind), condCost(b.kind)) })
}
