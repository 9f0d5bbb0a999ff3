package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// searchAll pages through every result of q and returns the ids in order.
func searchAll(t *testing.T, s *Store, q Query) []string {
	t.Helper()
	var ids []string
	var lastTS int64 = 1 << 62
	for {
		p, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, js := range p.Alerts {
			sum := summarize(t, js)
			if sum.Timestamp.UnixMilli() > lastTS {
				t.Fatalf("results not newest first")
			}
			lastTS = sum.Timestamp.UnixMilli()
			ids = append(ids, sum.ID)
		}
		if p.Next == "" {
			return ids
		}
		q.Cursor = p.Next
	}
}

// event is the API call a generated alert's rule is about.
func event(a Alert) string { return strings.Fields(a.Summary.Description)[1] }

func TestSearchFilters(t *testing.T) {
	s := openTest(t, Options{})
	end := time.Date(2024, 5, 10, 12, 0, 0, 0, time.UTC)
	all := newGen(7, end, 10*24*time.Hour).batch(3000)
	mustInsert(t, s, all)
	cut := end.Add(-3 * 24 * time.Hour)
	p0 := all[0].Summary.Principal
	facet := func(name, v string) func(a Alert) bool {
		return func(a Alert) bool { return a.Summary.Facets.Get(name) == v }
	}
	var awsAccount string
	for _, a := range all {
		if a.Summary.Provider == "aws" {
			awsAccount = a.Summary.Account
			break
		}
	}
	// A resource several alerts share.
	seen := map[string]int{}
	var withResource Alert
	for _, a := range all {
		if r := a.Summary.Facets.Resource; r != "" {
			if seen[r]++; seen[r] == 3 {
				withResource = a
				break
			}
		}
	}
	tests := []struct {
		name string
		q    Query
		want func(a Alert) bool
	}{
		{"from", Query{From: cut}, func(a Alert) bool { return !a.Summary.Timestamp.Before(cut) }},
		{"to", Query{To: cut}, func(a Alert) bool { return a.Summary.Timestamp.Before(cut) }},
		{"min level", Query{MinLevel: 12}, func(a Alert) bool { return a.Summary.Level >= 12 }},
		{"rule ids", Query{RuleIDs: []string{"100004", "100017"}}, func(a Alert) bool { return a.Summary.RuleID == "100004" || a.Summary.RuleID == "100017" }},
		{"groups", Query{Groups: []string{"iam", "storage"}}, func(a Alert) bool {
			return slices.Contains(a.Summary.Groups, "iam") || slices.Contains(a.Summary.Groups, "storage")
		}},
		{"provider", Query{Provider: "gcp"}, func(a Alert) bool { return a.Summary.Provider == "gcp" }},
		{"account", Query{Account: all[1].Summary.Account}, func(a Alert) bool { return a.Summary.Account == all[1].Summary.Account }},
		{"region", Query{Region: "eu-west-1"}, func(a Alert) bool { return a.Summary.Region == "eu-west-1" }},
		{"principal", Query{Principal: p0}, func(a Alert) bool { return a.Summary.Principal == p0 }},
		{"srcip", Query{SrcIP: all[2].Summary.SrcIP}, func(a Alert) bool { return a.Summary.SrcIP == all[2].Summary.SrcIP }},
		{"technique exact", Query{Technique: "T1562.008"}, func(a Alert) bool { return slices.Contains(a.Summary.Techniques, "T1562.008") }},
		{"technique parent", Query{Technique: "T1098"}, func(a Alert) bool {
			return slices.ContainsFunc(a.Summary.Techniques, func(x string) bool { return x == "T1098" || strings.HasPrefix(x, "T1098.") })
		}},
		{"text word", Query{Text: "deletetrail"}, func(a Alert) bool { return event(a) == "DeleteTrail" }},
		{"text phrase of a principal", Query{Text: p0}, func(a Alert) bool { return a.Summary.Principal == p0 }},
		{"text prefix", Query{Text: "Put*"}, func(a Alert) bool { return strings.HasPrefix(event(a), "Put") }},
		{"text two words", Query{Text: "DeleteTrail " + all[3].Summary.Region}, func(a Alert) bool {
			return event(a) == "DeleteTrail" && a.Summary.Region == all[3].Summary.Region
		}},
		{"combined", Query{From: cut, MinLevel: 8, Provider: "aws", Groups: []string{"aws"}}, func(a Alert) bool {
			return !a.Summary.Timestamp.Before(cut) && a.Summary.Level >= 8 && a.Summary.Provider == "aws"
		}},
		{"service", Query{Facets: alert.Facets{Service: "s3.amazonaws.com"}}, facet("service", "s3.amazonaws.com")},
		{"action", Query{Facets: alert.Facets{Action: "SetIamPolicy"}}, facet("action", "SetIamPolicy")},
		{"resource group", Query{Facets: alert.Facets{ResourceGroup: "rg-prod-7"}}, facet("resource_group", "rg-prod-7")},
		{"tag", Query{Facets: alert.Facets{Tag: "sentinel"}}, facet("tag", "sentinel")},
		{"cluster", Query{Facets: alert.Facets{Cluster: "gke-prod-0"}}, facet("cluster", "gke-prod-0")},
		{"resource", Query{Facets: alert.Facets{Resource: withResource.Summary.Facets.Resource}}, facet("resource", withResource.Summary.Facets.Resource)},
		{"two facets and time", Query{From: cut, Facets: alert.Facets{Service: "k8s.io", Cluster: "gke-staging-1"}}, func(a Alert) bool {
			return !a.Summary.Timestamp.Before(cut) && a.Summary.Facets.Service == "k8s.io" && a.Summary.Facets.Cluster == "gke-staging-1"
		}},
		{"facet and column", Query{Account: awsAccount, Facets: alert.Facets{Service: "iam.amazonaws.com"}}, func(a Alert) bool {
			return a.Summary.Account == awsAccount && a.Summary.Facets.Service == "iam.amazonaws.com"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, a := range all {
				if tt.want(a) {
					want = append(want, a.Summary.ID)
				}
			}
			// A filter that takes nothing or everything could be ignored unnoticed.
			if len(want) == 0 || len(want) == len(all) {
				t.Fatalf("bad test: %d of %d alerts expected", len(want), len(all))
			}
			q := tt.q
			q.Limit = 97
			got := searchAll(t, s, q)
			slices.Sort(want)
			sorted := slices.Sorted(slices.Values(got))
			if !slices.Equal(sorted, want) {
				t.Fatalf("got %d alerts, want %d", len(got), len(want))
			}
			p, err := s.Search(ctx, tt.q)
			if err != nil || p.Total != int64(len(want)) {
				t.Fatalf("total = %d, %v; want %d", p.Total, err, len(want))
			}
			if len(want) > DefaultLimit && len(p.Alerts) != DefaultLimit {
				t.Errorf("default page has %d alerts", len(p.Alerts))
			}
		})
	}
}

func TestPaginationStableWhileInserting(t *testing.T) {
	s := openTest(t, Options{})
	end := time.Now().Add(-time.Hour)
	orig := newGen(8, end, 24*time.Hour).batch(300)
	mustInsert(t, s, orig)
	q := Query{Limit: 40}
	var got []string
	inserted := 0
	for {
		p, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if q.Cursor == "" && p.Total != 300 {
			t.Fatalf("total = %d", p.Total)
		}
		for _, js := range p.Alerts {
			got = append(got, summarize(t, js).ID)
		}
		if p.Next == "" {
			break
		}
		// Newer alerts arrive between pages, some with the very timestamp of the
		// page's last alert.
		newer := newGen(uint64(100+inserted), time.Now(), time.Minute).batch(25)
		last := summarize(t, p.Alerts[len(p.Alerts)-1])
		same := newGen(uint64(200+inserted), time.Now(), time.Minute).batch(2)
		for i := range same {
			same[i].Summary.Timestamp = last.Timestamp
		}
		mustInsert(t, s, append(newer, same...))
		inserted++
		q.Cursor = p.Next
	}
	var want []string
	for _, a := range orig {
		want = append(want, a.Summary.ID)
	}
	slices.Sort(want)
	if sorted := slices.Sorted(slices.Values(got)); !slices.Equal(sorted, want) {
		t.Fatalf("paging while inserting returned %d alerts (want the 300 original, each once)", len(got))
	}
	if inserted < 5 {
		t.Fatalf("only %d pages", inserted)
	}
}

func TestCursorTampering(t *testing.T) {
	s := openTest(t, Options{})
	mustInsert(t, s, newGen(9, time.Now(), time.Hour).batch(20))
	p, err := s.Search(ctx, Query{Limit: 5})
	if err != nil || p.Next == "" {
		t.Fatal(err)
	}
	if err := (Query{Cursor: p.Next}).Validate(); err != nil {
		t.Fatalf("our own cursor: %v", err)
	}
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(p.Next) {
		for _, c := range []byte{b64[(strings.IndexByte(b64, p.Next[i])+1)%64], b64[(strings.IndexByte(b64, p.Next[i])+33)%64]} {
			bad := p.Next[:i] + string(c) + p.Next[i+1:]
			err := Query{Cursor: bad}.Validate()
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Field != "cursor" || !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("cursor changed at %d accepted: %v", i, err)
			}
			if _, err := s.Search(ctx, Query{Cursor: bad}); !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("Search with a bad cursor: %v", err)
			}
		}
	}
	for _, bad := range []string{"x", p.Next + "A", p.Next[:len(p.Next)-1], "%%%", strings.Repeat("A", 34)} {
		if err := (Query{Cursor: bad}).Validate(); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func TestValidate(t *testing.T) {
	now := time.Now()
	tests := []struct {
		q     Query
		field string
	}{
		{Query{Limit: -1}, "limit"},
		{Query{Limit: MaxLimit + 1}, "limit"},
		{Query{From: now, To: now.Add(-time.Second)}, "to"},
		{Query{MinLevel: 17}, "min_level"},
		{Query{Provider: "oracle"}, "provider"},
		{Query{RuleIDs: make([]string, maxListLen+1)}, "rule_ids"},
		{Query{Groups: make([]string, maxListLen+1)}, "groups"},
		{Query{Text: strings.Repeat("a", maxTextLen+1)}, "text"},
		{Query{Text: "caf\xe9"}, "text"},
		{Query{Cursor: "nope"}, "cursor"},
	}
	for _, tt := range tests {
		err := tt.q.Validate()
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Field != tt.field {
			t.Errorf("%+v: error %v, want one naming %s", tt.q, err, tt.field)
		}
	}
	if err := (Query{From: now, To: now, Limit: MaxLimit, Provider: "aws", MinLevel: 16}).Validate(); err != nil {
		t.Errorf("valid query refused: %v", err)
	}
}

var hostileText = []string{`"unclosed`, `AND OR`, `*`, `NEAR(`, `NEAR(a b`, `NEAR(a b, 5)`, `body:x`, `{body}: x`,
	`-x`, `^x`, `a OR`, `NOT`, `(`, `)`, `"`, `""`, `'`, `\`, `x*y`, `**`, `a + b`, `col:`, `日本語`, `🔥 alert`,
	"a\x00b", `"a""b"`, `"deletetrail`, `deletetrail"`, `"" deletetrail`, `*deletetrail`, `rank:1`, `rowid`,
	`alerts_fts`, `); DROP TABLE alerts; --`, `%`, `_`, `[`, `T1562.*`, `?`}

func TestTextNeverFails(t *testing.T) {
	s := openTest(t, Options{})
	all := newGen(10, time.Now(), 24*time.Hour).batch(500)
	mustInsert(t, s, all)
	for _, text := range hostileText {
		p, err := s.Search(ctx, Query{Text: text})
		if err != nil {
			t.Errorf("Search(%q): %v", text, err)
		}
		if _, err := s.Aggregate(ctx, Query{Text: text}, AggRequest{}); err != nil {
			t.Errorf("Aggregate(%q): %v", text, err)
		}
		// Words that still mean something keep working.
		if strings.Contains(strings.ToLower(text), "deletetrail") && p.Total == 0 {
			t.Errorf("Search(%q) found nothing", text)
		}
	}
	if c, _ := s.Count(ctx); c != 500 {
		t.Fatalf("count = %d after hostile queries", c)
	}
	for in, want := range map[string]string{
		`"unclosed`:   `"unclosed"`,
		`AND OR`:      `"AND" "OR"`,
		`*`:           ``,
		`NEAR(`:       `"NEAR("`,
		`ipv6*`:       `"ipv6"*`,
		`"a b" c`:     `"a b" "c"`,
		`say"hi"`:     `"say""hi"""`,
		` - -- x `:    `"x"`,
		`"T1562.008"`: `"T1562.008"`,
	} {
		if got := ftsQuery(in); got != want {
			t.Errorf("ftsQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
