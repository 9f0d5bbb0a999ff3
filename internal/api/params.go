package api

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/store"
)

// paramError is a bad query parameter; the API answers it with a 400 that names
// the parameter.
type paramError struct {
	name, msg string
}

func (e *paramError) Error() string {
	if e.name == "" {
		return e.msg
	}
	return "parameter " + e.name + ": " + e.msg
}

// Bounds of query values: generous for real use, small enough that a request
// cannot make a query expensive just by its size.
const (
	maxValueLen  = 1024
	maxRepeated  = 100
	maxBuckets   = 2000 // the store's limit too
	minInterval  = time.Second
	defaultLimit = 50
	maxLimit     = 1000
)

// params reads a query string strictly: unknown parameters, repeated single
// parameters, undecodable escapes and control characters are errors. It keeps
// the first error; later reads return zero values.
type params struct {
	v   url.Values
	err error
}

func newParams(rawQuery string, known ...string) *params {
	v, err := url.ParseQuery(rawQuery)
	if err != nil {
		return &params{err: &paramError{msg: "invalid query string: " + err.Error()}}
	}
	p := &params{v: v}
	var unknown []string
	for name := range v {
		if !contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		name := unknown[0]
		if !paramNameRE.MatchString(name) {
			name = strconv.Quote(name) // empty, or odd bytes echoed back
		}
		if len(known) == 0 {
			p.fail(name, "unknown parameter: this route takes none")
		} else {
			p.fail(name, "unknown parameter (known: %s)", strings.Join(known, ", "))
		}
	}
	return p
}

func (p *params) fail(name, format string, args ...any) {
	if p.err == nil {
		p.err = &paramError{name: name, msg: fmt.Sprintf(format, args...)}
	}
}

// list returns every value of a repeatable parameter.
func (p *params) list(name string) []string {
	if p.err != nil {
		return nil
	}
	vals := p.v[name]
	if len(vals) > maxRepeated {
		p.fail(name, "at most %d values", maxRepeated)
		return nil
	}
	for _, s := range vals {
		if !p.text(name, s) {
			return nil
		}
	}
	return vals
}

// str returns the value of a single parameter, "" when absent.
func (p *params) str(name string) string {
	if p.err != nil {
		return ""
	}
	vals := p.v[name]
	switch {
	case len(vals) == 0:
		return ""
	case len(vals) > 1:
		p.fail(name, "given %d times; it takes one value", len(vals))
		return ""
	}
	if !p.text(name, vals[0]) {
		return ""
	}
	return vals[0]
}

// text checks one value: present, bounded, valid UTF-8, printable.
func (p *params) text(name, s string) bool {
	switch {
	case s == "":
		p.fail(name, "empty value")
	case len(s) > maxValueLen:
		p.fail(name, "longer than %d bytes", maxValueLen)
	case !utf8.ValidString(s):
		p.fail(name, "not valid UTF-8")
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0:
		p.fail(name, "has control characters")
	default:
		return true
	}
	return false
}

// integer returns a single integer parameter within [lo, hi], def when absent.
func (p *params) integer(name string, lo, hi, def int) int {
	s := p.str(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		p.fail(name, "want an integer from %d to %d, got %q", lo, hi, s)
		return def
	}
	return n
}

// timestamp reads RFC 3339 ("2024-05-01T10:00:00Z", fractions and offsets
// allowed) or a bare date, taken as midnight UTC.
func (p *params) timestamp(name string) time.Time {
	s := p.str(name)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t
	}
	p.fail(name, "want an RFC 3339 time such as 2024-05-01T10:00:00Z, or a date such as 2024-05-01, got %q", s)
	return time.Time{}
}

// oneOf returns a single parameter that must be one of choices.
func (p *params) oneOf(name string, choices ...string) string {
	s := p.str(name)
	if s != "" && !contains(choices, s) {
		p.fail(name, "want one of %s, got %q", strings.Join(choices, ", "), s)
		return ""
	}
	return s
}

// matching returns a single parameter that must match re (described by want).
func (p *params) matching(name string, re *regexp.Regexp, want string) string {
	s := p.str(name)
	if s != "" && !re.MatchString(s) {
		p.fail(name, "want %s, got %q", want, s)
		return ""
	}
	return s
}

var (
	paramNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	ruleIDRE    = regexp.MustCompile(`^[0-9]{1,10}$`)
	techniqueRE = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	levelsRE    = regexp.MustCompile(`^([0-9]{1,2})(?:-([0-9]{1,2}))?$`)
	alertIDRE   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
)

// alertFilter is the query of /alerts and /alerts/stats, checked: the store's
// query plus what only the statistics take.
type alertFilter struct {
	store.Query
	Interval time.Duration
	Top      int
	// FacetCounts are the dimensions /alerts/stats counts besides its fixed
	// lists (the facet parameter).
	FacetCounts []string
	statsQuery  bool
}

var (
	filterParams = []string{"from", "to", "level", "rule_id", "group", "provider", "account", "region",
		"principal", "srcip", "technique", "q", "service", "action", "resource_group", "tag", "cluster", "resource"}
	searchParams = append(append([]string(nil), filterParams...), "limit", "cursor")
	statsParams  = append(append([]string(nil), filterParams...), "interval", "top", "facet")
)

// parseAlertFilter reads the query of /alerts (stats false) or /alerts/stats.
func parseAlertFilter(rawQuery string, stats bool) (alertFilter, error) {
	known := searchParams
	if stats {
		known = statsParams
	}
	p := newParams(rawQuery, known...)
	f := alertFilter{statsQuery: stats}
	f.From = p.timestamp("from")
	f.To = p.timestamp("to")
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		p.fail("to", "must be after from")
	}
	f.MinLevel = p.integer("level", 0, 16, 0)
	f.RuleIDs = p.list("rule_id")
	for _, id := range f.RuleIDs {
		if !ruleIDRE.MatchString(id) {
			p.fail("rule_id", "want a rule id such as 300001, got %q", id)
		}
	}
	f.Groups = p.list("group")
	f.Provider = p.oneOf("provider", "aws", "azure", "gcp")
	f.Account = p.str("account")
	f.Region = p.str("region")
	f.Principal = p.str("principal")
	f.SrcIP = p.str("srcip")
	f.Technique = p.matching("technique", techniqueRE, "an ATT&CK technique id such as T1562 or T1562.008")
	f.Text = p.str("q")
	f.Facets.Service = p.str("service")
	f.Facets.Action = p.str("action")
	f.Facets.ResourceGroup = p.str("resource_group")
	f.Facets.Tag = p.str("tag")
	f.Facets.Cluster = p.str("cluster")
	f.Facets.Resource = p.str("resource")
	if stats {
		f.FacetCounts = p.list("facet")
		for _, name := range f.FacetCounts {
			if !store.FacetName(name) {
				p.fail("facet", "want one of %s, got %q", strings.Join(store.AggFacetNames(), ", "), name)
			}
		}
		f.Top = p.integer("top", 1, 100, 10)
		if s := p.str("interval"); s != "" {
			d, err := time.ParseDuration(s)
			switch {
			case err != nil:
				p.fail("interval", "want a duration such as 1h or 15m, got %q", s)
			case d < minInterval:
				p.fail("interval", "must be at least %s", minInterval)
			case !f.From.IsZero() && !f.To.IsZero() && f.To.Sub(f.From)/d > maxBuckets:
				p.fail("interval", "too small for the range: more than %d buckets", maxBuckets)
			default:
				f.Interval = d
			}
		}
	} else {
		f.Limit = p.integer("limit", 1, maxLimit, defaultLimit)
		f.Cursor = p.str("cursor")
	}
	return f, p.err
}

// ruleFilter is the query of /rules, checked.
type ruleFilter struct {
	MinLevel, MaxLevel int
	Groups             []string
	Technique          string
	Text               string
	Limit, Offset      int
}

// parseRuleFilter reads the query of /rules. level is "N" (exactly N) or "N-M"
// (from N to M), as in Wazuh's API.
func parseRuleFilter(rawQuery string) (ruleFilter, error) {
	p := newParams(rawQuery, "level", "group", "technique", "q", "limit", "offset")
	f := ruleFilter{MinLevel: 0, MaxLevel: 16}
	if s := p.str("level"); s != "" {
		m := levelsRE.FindStringSubmatch(s)
		if m == nil {
			p.fail("level", "want a level such as 12 or a range such as 10-16, got %q", s)
		} else {
			lo, _ := strconv.Atoi(m[1])
			hi := lo
			if m[2] != "" {
				hi, _ = strconv.Atoi(m[2])
			}
			if lo > 16 || hi > 16 || lo > hi {
				p.fail("level", "want levels from 0 to 16, low to high, got %q", s)
			}
			f.MinLevel, f.MaxLevel = lo, hi
		}
	}
	f.Groups = p.list("group")
	f.Technique = p.matching("technique", techniqueRE, "an ATT&CK technique id such as T1562 or T1562.008")
	f.Text = p.str("q")
	f.Limit = p.integer("limit", 1, maxLimit, 100)
	f.Offset = p.integer("offset", 0, 1<<30, 0)
	return f, p.err
}

// noParams refuses any query parameter, for routes that take none.
func noParams(rawQuery string) error {
	return newParams(rawQuery).err
}
