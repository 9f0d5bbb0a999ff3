package rules

import (
	"strconv"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/mitre"
	"github.com/skywatch-dev/skywatch/internal/rules/cdb"
	"github.com/skywatch-dev/skywatch/internal/rules/wregex"
)

func parseLookup(s string) (cdb.LookupKind, error) {
	if s == "" {
		return cdb.MatchKey, nil
	}
	return cdb.ParseLookup(s)
}

var compliancePrefixes = []struct{ prefix, name string }{
	{"pci_dss_", "pci_dss"}, {"cis_", "cis"}, {"gdpr_", "gdpr"}, {"gpg13_", "gpg13"},
	{"hipaa_", "hipaa"}, {"nist_800_53_", "nist_800_53"}, {"tsc_", "tsc"},
}

// ruleOutput sets what the rule puts in its alerts: groups, compliance, mitre, mail.
func (b *Builder) ruleOutput(r *Rule, s RuleSpec) {
	r.GroupString = strings.ReplaceAll(s.GroupString, "\n", "")
	for _, g := range strings.Split(r.GroupString, ",") {
		if g == "" {
			continue
		}
		matched := false
		for _, p := range compliancePrefixes {
			if strings.HasPrefix(g, p.prefix) {
				r.addCompliance(p.name, g[len(p.prefix):])
				matched = true
				break
			}
		}
		if !matched {
			r.Groups = append(r.Groups, g)
		}
	}
	r.Info, r.CVE = s.Info, s.CVE
	r.Mail = r.Level >= b.rs.Options.EmailAlertLevel
	for _, o := range s.Options {
		switch o {
		case "alert_by_email":
			r.Mail = true
		case "no_email_alert":
			r.Mail = false
		case "no_log":
			r.NoLog = true
		case "no_full_log":
			r.NoFullLog = true
		case "no_counter":
			r.NoCounter = true
		case "log_alert", "no_ar":
		default:
			b.fail(s.File, s.Line, "rule %d: invalid option %q", r.ID, o)
		}
	}
	b.ruleMitre(r, s)
}

func (r *Rule) addCompliance(name, value string) {
	for i := range r.Compliance {
		if r.Compliance[i].Name == name {
			r.Compliance[i].Values = append(r.Compliance[i].Values, value)
			return
		}
	}
	r.Compliance = append(r.Compliance, Compliance{Name: name, Values: []string{value}})
}

func (b *Builder) ruleMitre(r *Rule, s RuleSpec) {
	m := s.Mitre
	if len(m.IDs) > 0 && len(m.Pairs) > 0 {
		b.warn(s.File, s.Line, "rule %d: mixed <mitre> forms; the id form is discarded", r.ID)
		m.IDs = nil
	}
	switch {
	case len(m.Pairs) > 0:
		res, ok, warns := mitre.ResolvePairs(m.Pairs)
		for _, w := range warns {
			b.warn(s.File, s.Line, "rule %d: %s", r.ID, w)
		}
		if ok {
			r.Mitre = &res
		}
	case len(m.IDs) > 0:
		if res, ok := mitre.ResolveIDs(dedupe(m.IDs)); ok {
			r.Mitre = &res
		}
	}
}

func dedupe(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		dup := false
		for _, o := range out {
			if o == id {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, id)
		}
	}
	return out
}

// sameStaticNames maps same_*/different_* suffixes to static fields.
var sameStaticNames = map[string]StaticField{
	"source_ip": FSrcIP, "srcip": FSrcIP, "srcport": FSrcPort, "src_port": FSrcPort,
	"dstport": FDstPort, "dst_port": FDstPort, "protocol": FProtocol, "action": FAction,
	"dstip": FDstIP, "url": FURL, "data": FData, "extra_data": FExtraData,
	"status": FStatus, "system_name": FSystemName, "systemname": FSystemName,
	"user": FDstUser, "dstuser": FDstUser, "srcuser": FSrcUser, "id": FID,
}

func (b *Builder) ruleCorrelation(r *Rule, s RuleSpec) {
	hasMatched := s.HasIfMatchedSID || s.HasIfMatchedGroup || s.IfMatchedRegex.Set
	usesCorr := s.HasFrequency || len(s.Same) > 0 || len(s.Different) > 0 ||
		len(s.SameField) > 0 || len(s.DifferentField) > 0 || s.GlobalFrequency
	if !hasMatched {
		if usesCorr {
			b.fail(s.File, s.Line, "rule %d: frequency/same_*/different_* need an if_matched_* element", r.ID)
		}
		return
	}
	c := &correlation{list: -1, global: s.GlobalFrequency, timeframe: int64(r.Timeframe), need: 1}
	if r.Frequency > 2 {
		c.need = r.Frequency - 1
	}
	for _, n := range s.Same {
		b.addSame(r, c, n, s, false)
	}
	for _, n := range s.Different {
		b.addSame(r, c, n, s, true)
	}
	for _, f := range s.SameField {
		slot := b.rs.Fields.Intern(f)
		var pos int
		b.rs.corrSlots, pos = appendSlot(b.rs.corrSlots, slot)
		c.sameFields = append(c.sameFields, slot)
		c.samePos = append(c.samePos, pos)
	}
	for _, f := range s.DifferentField {
		slot := b.rs.Fields.Intern(f)
		var pos int
		b.rs.corrSlots, pos = appendSlot(b.rs.corrSlots, slot)
		c.diffFields = append(c.diffFields, slot)
		c.diffPos = append(c.diffPos, pos)
	}
	switch {
	case s.HasIfMatchedSID:
		id, err := strconv.Atoi(strings.TrimSpace(s.IfMatchedSID))
		if err != nil {
			b.warn(s.File, s.Line, "rule %d: invalid if_matched_sid %q; rule skipped", r.ID, s.IfMatchedSID)
			r.skip = true
			return
		}
		if _, ok := b.rs.ByID[id]; !ok {
			b.warn(s.File, s.Line, "rule %d: if_matched_sid %d is not loaded; rule skipped", r.ID, id)
			r.skip = true
			return
		}
		c.list = id // resolved to a list index in Build, once the rule is added
		c.sidTarget = true
	case s.HasIfMatchedGroup:
		c.list = b.rs.corrLists
		b.rs.corrLists++
	default:
		e, ok := b.compilePattern(s.File, s.Line, "if_matched_regex", s.IfMatchedRegex, "osregex")
		if !ok {
			return
		}
		c.regex = e
		c.rxIndex = b.rs.regexCorrs
		b.rs.regexCorrs++
		b.rs.keepRecent = true
	}
	r.corr = c
	r.HasCorrelation = true
}

// appendSlot adds s to slots once and returns its position there.
func appendSlot(slots []int32, s int32) ([]int32, int) {
	for i, x := range slots {
		if x == s {
			return slots, i
		}
	}
	return append(slots, s), len(slots)
}

func (b *Builder) addSame(r *Rule, c *correlation, name string, s RuleSpec, different bool) {
	switch name {
	case "location":
		if different {
			c.diffLocation = true
		} else {
			c.sameLocation = true
		}
		return
	case "srcgeoip", "dstgeoip":
		if !different {
			c.sameGeo = true
		}
		return
	case "agent":
		b.warn(s.File, s.Line, "rule %d: same_agent/not_same_agent is deprecated and ignored", r.ID)
		return
	}
	f, ok := sameStaticNames[name]
	if !ok {
		b.fail(s.File, s.Line, "rule %d: unknown correlation element for %q", r.ID, name)
		return
	}
	if different {
		c.diffStatic = append(c.diffStatic, f)
	} else {
		c.sameStatic = append(c.sameStatic, f)
	}
}

// linkGroupList makes every already loaded rule whose groups match the correlation
// rule's if_matched_group feed its group list.
func (b *Builder) linkGroupList(r *Rule, s RuleSpec) {
	m, err := wregex.CompileMatch(s.IfMatchedGroup)
	if err != nil {
		b.fail(s.File, s.Line, "rule %d: <if_matched_group>: %v", r.ID, err)
		return
	}
	for _, o := range b.rs.All {
		if o != r && m.MatchString(o.GroupString) {
			b.pendingGroupLinks[o] = append(b.pendingGroupLinks[o], r.corr.list)
		}
	}
}

// attach places r in the rule tree; false means the rule is skipped.
func (b *Builder) attach(r *Rule, s RuleSpec) bool {
	rs := b.rs
	if r.skip {
		return false
	}
	if r.ID < 10 {
		insertSorted(&rs.Top, r)
		return true
	}
	ifSID, ifGroup := s.IfSID, s.IfGroup
	hasSID, hasGroup := s.HasIfSID, s.HasIfGroup
	if !hasSID && !hasGroup && !s.HasIfLevel {
		if s.HasIfMatchedSID {
			ifSID, hasSID = s.IfMatchedSID, true
		} else if s.HasIfMatchedGroup {
			ifGroup, hasGroup = s.IfMatchedGroup, true
		}
	}
	var parents []*Rule
	switch {
	case hasSID:
		if !sidListSyntax.MatchString(ifSID) {
			b.warn(s.File, s.Line, "rule %d: invalid if_sid %q; rule skipped", r.ID, ifSID)
			return false
		}
		for _, f := range strings.FieldsFunc(ifSID, func(c rune) bool { return c == ',' || c == ' ' }) {
			id, _ := strconv.Atoi(f)
			p, ok := rs.ByID[id]
			if !ok {
				b.warn(s.File, s.Line, "rule %d: if_sid %s is not loaded", r.ID, f)
				continue
			}
			parents = append(parents, p)
		}
		if len(parents) > 0 {
			r.Category = parents[0].Category
		}
	case s.HasIfLevel:
		n, err := strconv.Atoi(strings.TrimSpace(s.IfLevel))
		if err != nil || n == 0 {
			b.warn(s.File, s.Line, "rule %d: invalid if_level %q; rule skipped", r.ID, s.IfLevel)
			return false
		}
		for _, p := range rs.All {
			if p.Level >= n || p.Level == 0 {
				parents = append(parents, p)
			}
		}
	case hasGroup:
		for _, p := range rs.All {
			if wregex.WordMatch(ifGroup, p.GroupString) {
				parents = append(parents, p)
			}
		}
	default:
		for _, t := range rs.Top {
			if t.Category == r.Category {
				parents = append(parents, t)
				break
			}
		}
		if len(parents) == 0 {
			b.warn(s.File, s.Line, "rule %d: no top-level rule for category %q; added at the top level", r.ID, r.Category)
			insertSorted(&rs.Top, r)
			return true
		}
	}
	if len(parents) == 0 {
		b.warn(s.File, s.Line, "rule %d: no parent rule found; rule skipped", r.ID)
		return false
	}
	for _, p := range parents {
		insertSorted(&p.Children, r)
	}
	return true
}

// insertSorted keeps siblings ordered by priority, descending, stable.
func insertSorted(list *[]*Rule, r *Rule) {
	l := *list
	i := len(l)
	for i > 0 && l[i-1].priority < r.priority {
		i--
	}
	l = append(l, nil)
	copy(l[i+1:], l[i:])
	l[i] = r
	*list = l
}

// overwrite replaces old's definition with r's, keeping old's place in the tree,
// its children and its parent links, as Wazuh's overwrite does.
func (b *Builder) overwrite(old, r *Rule, s RuleSpec) {
	if r.skip {
		return
	}
	keep := struct {
		children   []*Rule
		priority   int
		index      int
		sidList    int
		groupLists []int
		category   string
		corr       *correlation
	}{old.Children, old.priority, old.index, old.sidList, old.groupLists, old.Category, old.corr}
	*old = *r
	old.Children, old.priority, old.index = keep.children, keep.priority, keep.index
	old.sidList, old.groupLists = keep.sidList, keep.groupLists
	if s.Category == "" {
		old.Category = keep.category
	}
	// The if_matched_* links cannot change: the new conditions apply to the list the
	// rule was first linked to.
	switch {
	case keep.corr != nil && r.corr != nil:
		r.corr.list, r.corr.sidTarget, r.corr.regex, r.corr.rxIndex = keep.corr.list, keep.corr.sidTarget, keep.corr.regex, keep.corr.rxIndex
	case keep.corr != nil:
		old.corr, old.HasCorrelation = keep.corr, true
	case r.corr != nil && r.corr.sidTarget:
		b.sidRefs = append(b.sidRefs, old)
	case r.corr != nil && s.HasIfMatchedGroup:
		b.linkGroupList(old, s)
	}
}
