package store

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

var aggBase = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

// known is a hand-made dataset whose aggregations are worked out below.
func known() []Alert {
	mk := func(id string, at time.Duration, level int, rule, desc, principal, ip, account string, tactics, techs []string) Alert {
		s := alert.Summary{ID: id, Timestamp: aggBase.Add(at), Level: level, RuleID: rule, Description: desc,
			Provider: "aws", Account: account, Principal: principal, SrcIP: ip, Tactics: tactics, Techniques: techs,
			Groups: []string{"aws"}}
		return Alert{JSON: fmt.Appendf(nil, `{"id":%q,"rule":{"description":%q}}`, id, desc), Summary: s}
	}
	all := []Alert{
		mk("a1", 10*time.Minute, 5, "r1", "desc one", "p1", "ip1", "acc1", []string{"Persistence"}, []string{"T1098"}),
		mk("a2", 20*time.Minute, 5, "r1", "desc one", "p1", "ip2", "acc1", nil, nil),
		mk("a3", 70*time.Minute, 10, "r2", "desc two", "p2", "ip1", "acc2", []string{"Defense Evasion"}, []string{"T1562.008"}),
		mk("a4", 75*time.Minute, 12, "r2", "desc two", "", "ip1", "acc2", []string{"Defense Evasion", "Persistence"}, []string{"T1562.008", "T1098"}),
		mk("a5", 200*time.Minute, 3, "r3", "desc three", "p1", "", "acc1", nil, nil),
		mk("a6", -time.Hour, 15, "r4", "outside", "p9", "ip9", "acc9", []string{"Impact"}, []string{"T1485"}),
	}
	facets := []alert.Facets{
		{Service: "s3.amazonaws.com", Action: "PutBucketPolicy", Resource: "arn:aws:s3:::b1"},
		{Service: "s3.amazonaws.com", Action: "PutObjectAcl", Resource: "arn:aws:s3:::b1"},
		{Service: "cloudtrail.amazonaws.com", Action: "StopLogging", Resource: "arn:aws:cloudtrail:us-east-1:2:trail/t"},
		{Service: "cloudtrail.amazonaws.com", Action: "StopLogging"},
		{Service: "s3.amazonaws.com", Action: "PutBucketPolicy", Cluster: "c1"},
		{Service: "iam.amazonaws.com", Action: "CreateUser"},
	}
	regions := []string{"us-east-1", "us-east-1", "eu-west-1", "", "us-east-1", "us-east-1"}
	for i := range all {
		all[i].Summary.Facets, all[i].Summary.Region = facets[i], regions[i]
	}
	return all
}

func TestAggregateKnown(t *testing.T) {
	s := openTest(t, Options{})
	mustInsert(t, s, known())
	q := Query{From: aggBase, To: aggBase.Add(4 * time.Hour)}
	got, err := s.Aggregate(ctx, q, AggRequest{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h := func(at time.Duration, n int64, levels map[string]int64) HistBucket {
		return HistBucket{Start: aggBase.Add(at), Count: n, ByLevel: levels}
	}
	want := Aggregations{
		Total: 5, Interval: "1h0m0s",
		Histogram: []HistBucket{h(0, 2, map[string]int64{"5": 2}), h(time.Hour, 2, map[string]int64{"10": 1, "12": 1}),
			h(2*time.Hour, 0, map[string]int64{}), h(3*time.Hour, 1, map[string]int64{"3": 1})},
		Levels:     []Count{{Key: "12", Count: 1}, {Key: "10", Count: 1}, {Key: "5", Count: 2}, {Key: "3", Count: 1}},
		Rules:      []Count{{Key: "r1", Label: "desc one", Count: 2}, {Key: "r2", Label: "desc two", Count: 2}, {Key: "r3", Label: "desc three", Count: 1}},
		Principals: []Count{{Key: "p1", Count: 3}, {Key: "p2", Count: 1}},
		SrcIPs:     []Count{{Key: "ip1", Count: 3}, {Key: "ip2", Count: 1}},
		Accounts:   []Count{{Key: "acc1", Count: 3}, {Key: "acc2", Count: 2}},
		Tactics:    []Count{{Key: "Defense Evasion", Count: 2}, {Key: "Persistence", Count: 2}},
		Techniques: []Count{{Key: "T1098", Count: 2}, {Key: "T1562.008", Count: 2}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}

	// Facet counts: tags, columns and rules, each its own top-N list.
	got, err = s.Aggregate(ctx, q, AggRequest{Interval: time.Hour, Top: 2,
		Facets: []string{"service", "action", "resource", "cluster", "resource_group", "region", "rule", "service"}})
	if err != nil {
		t.Fatal(err)
	}
	wantFacets := map[string][]Count{
		"service":        {{Key: "s3.amazonaws.com", Count: 3}, {Key: "cloudtrail.amazonaws.com", Count: 2}},
		"action":         {{Key: "PutBucketPolicy", Count: 2}, {Key: "StopLogging", Count: 2}},
		"resource":       {{Key: "arn:aws:s3:::b1", Count: 2}, {Key: "arn:aws:cloudtrail:us-east-1:2:trail/t", Count: 1}},
		"cluster":        {{Key: "c1", Count: 1}},
		"resource_group": {},
		"region":         {{Key: "us-east-1", Count: 3}, {Key: "eu-west-1", Count: 1}},
		"rule":           {{Key: "r1", Label: "desc one", Count: 2}, {Key: "r2", Label: "desc two", Count: 2}},
	}
	if !reflect.DeepEqual(got.Facets, wantFacets) {
		t.Errorf("facets\n got  %v\n want %v", got.Facets, wantFacets)
	}
	// A facet filter narrows the facet counts as any filter does.
	got, err = s.Aggregate(ctx, Query{From: q.From, To: q.To, Facets: alert.Facets{Service: "s3.amazonaws.com"}},
		AggRequest{Interval: time.Hour, Facets: []string{"action", "service"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 3 || !reflect.DeepEqual(got.Facets, map[string][]Count{
		"action":  {{Key: "PutBucketPolicy", Count: 2}, {Key: "PutObjectAcl", Count: 1}},
		"service": {{Key: "s3.amazonaws.com", Count: 3}},
	}) {
		t.Errorf("service filter: total %d, facets %v", got.Total, got.Facets)
	}

	// Top-N, and a filter other than time (the tag counts then join alerts).
	got, err = s.Aggregate(ctx, Query{From: q.From, To: q.To, Account: "acc2"}, AggRequest{Interval: time.Hour, Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 2 || !reflect.DeepEqual(got.Tactics, []Count{{Key: "Defense Evasion", Count: 2}}) ||
		!reflect.DeepEqual(got.Techniques, []Count{{Key: "T1562.008", Count: 2}}) ||
		!reflect.DeepEqual(got.Rules, []Count{{Key: "r2", Label: "desc two", Count: 2}}) || len(got.Principals) != 1 {
		t.Fatalf("filtered: %+v", got)
	}

	// Open range: from the oldest to the newest alert, automatic interval.
	got, err = s.Aggregate(ctx, Query{}, AggRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// 260 minutes of alerts: 260/50 rounds up to 10 minutes.
	if got.Total != 6 || got.Interval != "10m0s" || len(got.Histogram) != 27 || !got.Histogram[0].Start.Equal(aggBase.Add(-time.Hour)) ||
		got.Histogram[0].Count != 1 || got.Histogram[26].Count != 1 {
		t.Fatalf("open range: total %d interval %s, %d buckets from %v", got.Total, got.Interval, len(got.Histogram), got.Histogram[0].Start)
	}
	got, err = s.Aggregate(ctx, Query{From: aggBase, To: aggBase.Add(24 * time.Hour)}, AggRequest{})
	if err != nil || got.Interval != "30m0s" || len(got.Histogram) != 48 {
		t.Fatalf("24h: interval %s, %d buckets, %v", got.Interval, len(got.Histogram), err)
	}

	// Nothing matches: zero buckets over a given range, nothing over an open one.
	got, err = s.Aggregate(ctx, Query{Principal: "nobody", From: aggBase, To: aggBase.Add(2 * time.Hour)}, AggRequest{Interval: time.Hour})
	if err != nil || got.Total != 0 || len(got.Histogram) != 2 || got.Histogram[1].Count != 0 || len(got.Rules) != 0 {
		t.Fatalf("empty: %+v %v", got, err)
	}
	got, err = s.Aggregate(ctx, Query{Principal: "nobody"}, AggRequest{})
	if err != nil || got.Total != 0 || len(got.Histogram) != 0 {
		t.Fatalf("empty open: %+v %v", got, err)
	}
}

func TestAggregateBadRequest(t *testing.T) {
	s := openTest(t, Options{})
	mustInsert(t, s, known())
	for _, tt := range []struct {
		q     Query
		r     AggRequest
		field string
	}{
		{Query{From: aggBase, To: aggBase.Add(30 * 24 * time.Hour)}, AggRequest{Interval: time.Second}, "interval"},
		{Query{}, AggRequest{Interval: -time.Second}, "interval"},
		{Query{}, AggRequest{Top: -1}, "top"},
		{Query{MinLevel: 99}, AggRequest{}, "min_level"},
		{Query{}, AggRequest{Facets: []string{"service", "colour"}}, "facet"},
		{Query{}, AggRequest{Facets: []string{"tactics"}}, "facet"},
	} {
		_, err := s.Aggregate(ctx, tt.q, tt.r)
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Field != tt.field {
			t.Errorf("%+v %+v: %v, want an error naming %s", tt.q, tt.r, err, tt.field)
		}
	}
}

// TestAggregateMatchesSearch cross-checks aggregation totals against Search on
// generated data.
func TestAggregateMatchesSearch(t *testing.T) {
	s := openTest(t, Options{})
	end := time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC)
	all := newGen(11, end, 7*24*time.Hour).batch(2000)
	mustInsert(t, s, all)
	q := Query{From: end.Add(-3 * 24 * time.Hour), MinLevel: 7, Provider: "aws"}
	agg, err := s.Aggregate(ctx, q, AggRequest{Top: 1000})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var hist, rules int64
	for _, b := range agg.Histogram {
		hist += b.Count
	}
	for _, c := range agg.Rules {
		rules += c.Count
	}
	if agg.Total != p.Total || hist != p.Total || rules != p.Total || p.Total == 0 {
		t.Fatalf("aggregate total %d, histogram %d, rules %d, search total %d", agg.Total, hist, rules, p.Total)
	}
	tech := map[string]int64{}
	for _, a := range all {
		if !a.Summary.Timestamp.Before(q.From) && a.Summary.Level >= 7 && a.Summary.Provider == "aws" {
			for _, x := range a.Summary.Techniques {
				tech[x]++
			}
		}
	}
	if len(agg.Techniques) != len(tech) {
		t.Fatalf("techniques %v, want %v", agg.Techniques, tech)
	}
	for _, c := range agg.Techniques {
		if tech[c.Key] != c.Count {
			t.Errorf("technique %s: %d, want %d", c.Key, c.Count, tech[c.Key])
		}
	}

	// Every facet's counts: each value's count is the total of a search
	// filtered by it as well, and the counts add up to the alerts that have
	// the facet.
	names := append(alert.FacetNames[:], ColumnFacets...)
	found := map[string]int64{}
	for _, provider := range providers {
		q.Provider = provider
		agg, err = s.Aggregate(ctx, q, AggRequest{Top: 1000, Facets: names})
		if err != nil {
			t.Fatal(err)
		}
		checkFacetCounts(t, s, q, agg, all, found)
	}
	for _, name := range names {
		if found[name] == 0 {
			t.Errorf("no alert had %s: the check is void", name)
		}
	}
}

// checkFacetCounts checks agg.Facets against searches and the alerts stored.
func checkFacetCounts(t *testing.T, s *Store, q Query, agg Aggregations, all []Alert, found map[string]int64) {
	t.Helper()
	for name, counts := range agg.Facets {
		var sum, have int64
		for _, c := range counts {
			sum += c.Count
			fq := q
			switch name {
			case "region":
				fq.Region = c.Key
			case "account":
				fq.Account = c.Key
			case "principal":
				fq.Principal = c.Key
			case "srcip":
				fq.SrcIP = c.Key
			case "rule":
				fq.RuleIDs = []string{c.Key}
			case "provider":
				fq.Provider = c.Key
			default:
				setFacet(&fq.Facets, name, c.Key)
			}
			fq.Limit = 1
			p, err := s.Search(ctx, fq)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != c.Count {
				t.Errorf("%s %q: counted %d, search total %d", name, c.Key, c.Count, p.Total)
			}
		}
		for _, a := range all {
			if !a.Summary.Timestamp.Before(q.From) && a.Summary.Level >= q.MinLevel && a.Summary.Provider == q.Provider &&
				summaryValue(a.Summary, name) != "" {
				have++
			}
		}
		found[name] += have
		if sum != have {
			t.Errorf("%s %s: counts add up to %d, %d alerts have the facet", q.Provider, name, sum, have)
		}
	}
	if len(agg.Facets) != len(alert.FacetNames)+len(ColumnFacets) {
		t.Errorf("%d facet lists", len(agg.Facets))
	}
}

// setFacet sets the facet named name.
func setFacet(f *alert.Facets, name, v string) {
	switch name {
	case "service":
		f.Service = v
	case "action":
		f.Action = v
	case "resource_group":
		f.ResourceGroup = v
	case "tag":
		f.Tag = v
	case "cluster":
		f.Cluster = v
	case "resource":
		f.Resource = v
	}
}

// summaryValue is the value of a facet or summary column named as AggRequest.Facets names them.
func summaryValue(s alert.Summary, name string) string {
	switch name {
	case "region":
		return s.Region
	case "account":
		return s.Account
	case "principal":
		return s.Principal
	case "srcip":
		return s.SrcIP
	case "rule":
		return s.RuleID
	case "provider":
		return s.Provider
	}
	return s.Facets.Get(name)
}

// TestHistogramPathsAgree compares the histogram counted by index ranges (time
// and level only) with the grouped one, forced by a filter that every alert
// passes.
func TestHistogramPathsAgree(t *testing.T) {
	s := openTest(t, Options{})
	end := time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC)
	mustInsert(t, s, newGen(19, end, 5*24*time.Hour).batch(1500))
	everyone := []string{"aws", "azure", "gcp"}
	for _, q := range []Query{
		{MinLevel: 7},
		{From: end.Add(-50 * time.Hour), To: end.Add(-90 * time.Minute)},
		{From: end.Add(-30 * time.Hour), MinLevel: 12},
		{},
	} {
		fast, err := s.Aggregate(ctx, q, AggRequest{})
		if err != nil {
			t.Fatal(err)
		}
		q.Groups = everyone
		grouped, err := s.Aggregate(ctx, q, AggRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if fast.Total == 0 || !reflect.DeepEqual(fast.Histogram, grouped.Histogram) || !reflect.DeepEqual(fast.Levels, grouped.Levels) ||
			fast.Total != grouped.Total || !reflect.DeepEqual(fast.Tactics, grouped.Tactics) {
			t.Errorf("%+v: by ranges total %d, %d buckets; grouped total %d, %d buckets", q, fast.Total, len(fast.Histogram), grouped.Total, len(grouped.Histogram))
		}
	}
}

// TestAggregatePathsAgree runs requests through both aggregation paths, the
// per-list statements and the single scan of the matching rows (in one part
// and in several), and requires the same answer, ties included.
func TestAggregatePathsAgree(t *testing.T) {
	s := openTest(t, Options{})
	end := time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC)
	all := newGen(23, end, 5*24*time.Hour).batch(2500)
	for i := range all {
		if i%10 == 0 { // a source outside the clouds: the provider facet keeps them as ""
			all[i].Summary.Provider = ""
		}
	}
	mustInsert(t, s, all)
	a := all[7].Summary
	queries := []Query{
		{},
		{From: end.Add(-50 * time.Hour), To: end.Add(-90 * time.Minute)},
		{Provider: "aws"},
		{Provider: "gcp", From: end.Add(-24 * time.Hour), To: end},
		{Provider: "azure", MinLevel: 8, From: end.Add(-3 * 24 * time.Hour)},
		{MinLevel: 12},
		{Account: a.Account, From: end.Add(-4 * 24 * time.Hour)},
		{Region: a.Region},
		{Principal: a.Principal, SrcIP: a.SrcIP},
		{RuleIDs: []string{a.RuleID, all[8].Summary.RuleID}},
		{Facets: alert.Facets{Service: a.Facets.Service}, From: end.Add(-2 * 24 * time.Hour)},
		{Groups: []string{"iam", "network"}, From: end.Add(-36 * time.Hour), To: end.Add(-time.Hour)},
		{Technique: "T1098", Provider: "aws"},
		{Text: eventNames[3]},
		{Provider: "aws", From: end.Add(7 * 24 * time.Hour), To: end.Add(8 * 24 * time.Hour)}, // nothing
		{Principal: "nobody"},
	}
	names := AggFacetNames()
	for _, q := range queries {
		for _, r := range []AggRequest{{Top: 3, Facets: names}, {Top: 1000, Facets: names}, {Interval: 7 * time.Hour}} {
			lists, err := s.aggregate(ctx, q, r, aggLists)
			if err != nil {
				t.Fatal(err)
			}
			for _, parts := range []int{1, 3} {
				s.scanParts = parts
				scan, err := s.aggregate(ctx, q, r, aggScan)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(lists, scan) {
					t.Errorf("%+v %+v, %d parts:\n lists %+v\n scan  %+v", q, r, parts, lists, scan)
				}
			}
			s.scanParts = 0
			if q.Provider == "" && r.Top == 1000 && lists.Total >= 100 && !slices.ContainsFunc(lists.Facets["provider"],
				func(c Count) bool { return c.Key == "" && c.Count > 0 }) {
				t.Errorf("%+v: provider facet %v has no \"\" count", q, lists.Facets["provider"])
			}
		}
	}
}

// TestScanFilters pins which queries Aggregate answers with one scan: any
// filter but time.
func TestScanFilters(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct {
		q    Query
		scan bool
	}{
		{Query{}, false},
		{Query{From: now, To: now.Add(time.Hour)}, false},
		{Query{From: now, Limit: 5, Cursor: "x"}, false},
		{Query{MinLevel: 3}, true},
		{Query{Provider: "aws", From: now}, true},
		{Query{Account: "a"}, true},
		{Query{Region: "r"}, true},
		{Query{Principal: "p"}, true},
		{Query{SrcIP: "1.2.3.4"}, true},
		{Query{RuleIDs: []string{"1"}}, true},
		{Query{Groups: []string{"iam"}}, true},
		{Query{Technique: "T1098"}, true},
		{Query{Facets: alert.Facets{Cluster: "c"}}, true},
		{Query{Text: "word"}, true},
	} {
		if got := tt.q.scanFilters(); got != tt.scan {
			t.Errorf("%+v: scanFilters %v, want %v", tt.q, got, tt.scan)
		}
	}
}
