package api

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// RuleInfo describes one loaded rule.
type RuleInfo struct {
	ID          int      `json:"id"`
	Level       int      `json:"level"`
	Description string   `json:"description"`
	Groups      []string `json:"groups"`
	// Mitre are the rule's ATT&CK technique ids.
	Mitre []string `json:"mitre"`
	// File is the rule file's base name.
	File string `json:"file"`
}

// RuleCatalog lists the rules loaded now. It is called on each request and must
// be safe for concurrent use.
type RuleCatalog interface {
	Rules() []RuleInfo
}

// rulePage is the answer of GET /api/v1/rules.
type rulePage struct {
	Rules  []RuleInfo `json:"rules"`
	Total  int        `json:"total"`
	Offset int        `json:"offset"`
	Limit  int        `json:"limit"`
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	f, err := parseRuleFilter(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.opt.Rules == nil {
		unavailable(w, "the rule catalog")
		return
	}
	var match []RuleInfo
	for _, ri := range s.opt.Rules.Rules() {
		if f.keep(ri) {
			match = append(match, normalRule(ri))
		}
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].ID < match[j].ID })
	page := rulePage{Rules: []RuleInfo{}, Total: len(match), Offset: f.Offset, Limit: f.Limit}
	if f.Offset < len(match) {
		page.Rules = match[f.Offset:min(len(match), f.Offset+f.Limit)]
	}
	writeJSON(w, http.StatusOK, page)
}

// keep reports whether the rule passes the filter.
func (f *ruleFilter) keep(ri RuleInfo) bool {
	if ri.Level < f.MinLevel || ri.Level > f.MaxLevel {
		return false
	}
	if len(f.Groups) > 0 && !anyIn(f.Groups, ri.Groups) {
		return false
	}
	if f.Technique != "" && !contains(ri.Mitre, f.Technique) {
		return false
	}
	if f.Text == "" {
		return true
	}
	q := strings.ToLower(f.Text)
	for _, s := range append([]string{ri.Description, strconv.Itoa(ri.ID), ri.File}, append(ri.Groups, ri.Mitre...)...) {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

func anyIn(want, have []string) bool {
	for _, w := range want {
		if contains(have, w) {
			return true
		}
	}
	return false
}

// normalRule makes absent lists empty ones, so that clients always see arrays.
func normalRule(ri RuleInfo) RuleInfo {
	if ri.Groups == nil {
		ri.Groups = []string{}
	}
	if ri.Mitre == nil {
		ri.Mitre = []string{}
	}
	return ri
}

func (s *Server) getRule(w http.ResponseWriter, r *http.Request) {
	if err := noParams(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	raw := r.PathValue("id")
	id, err := strconv.Atoi(raw)
	if err != nil || !ruleIDRE.MatchString(raw) {
		writeError(w, http.StatusBadRequest, "parameter id: want a rule id such as 300001")
		return
	}
	if s.opt.Rules == nil {
		unavailable(w, "the rule catalog")
		return
	}
	for _, ri := range s.opt.Rules.Rules() {
		if ri.ID == id {
			writeJSON(w, http.StatusOK, normalRule(ri))
			return
		}
	}
	writeError(w, http.StatusNotFound, "rule not found")
}
