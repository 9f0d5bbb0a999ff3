package store

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// benchEnd is the newest timestamp of the benchmark data, fixed so that a
// database cached through SKYWATCH_BENCH_STORE stays valid.
var benchEnd = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// benchAlerts is the benchmark database's size; SKYWATCH_BENCH_ALERTS overrides it.
func benchAlerts() int64 {
	if n, err := strconv.ParseInt(os.Getenv("SKYWATCH_BENCH_ALERTS"), 10, 64); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchStore opens the database at $SKYWATCH_BENCH_STORE (kept between runs)
// or in b.TempDir(), filling it with 30 days of generated alerts if needed.
func benchStore(b *testing.B) (*Store, *gen) {
	path := os.Getenv("SKYWATCH_BENCH_STORE")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	s, err := Open(path, Options{PruneInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	g := newGen(99, benchEnd, 30*24*time.Hour)
	g.step = 30 * 24 * time.Hour / time.Duration(benchAlerts())
	have, err := s.Count(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if want := benchAlerts(); have < want {
		start := time.Now()
		g.seq = int(have) // continue where a previous, interrupted build stopped
		for n := have; n < want; n += 500 {
			if err := s.Insert(ctx, g.batch(int(min(500, want-n)))); err != nil {
				b.Fatal(err)
			}
		}
		el := time.Since(start)
		if _, err := s.w.Exec(`PRAGMA optimize=0x10002`); err != nil {
			b.Fatal(err)
		}
		size, _ := s.Size(ctx)
		fi, _ := os.Stat(path)
		b.Logf("built %d alerts in %s: %.0f alerts/s (generation included); %d MiB used, file %d MiB",
			want-have, el.Round(time.Second), float64(want-have)/el.Seconds(), size>>20, fi.Size()>>20)
	}
	return s, g
}

// BenchmarkSearch measures typical dashboard queries on a store of a million
// alerts, reporting the median and 99th percentile latency of each.
func BenchmarkSearch(b *testing.B) {
	s, g := benchStore(b)
	rng := rand.New(rand.NewPCG(5, 5))
	principal := func() string { p := g.principals[rng.IntN(3)]; return p[rng.IntN(len(p))] }
	account := func() string { a := g.accounts[rng.IntN(3)]; return a[rng.IntN(len(a))] }
	account0 := func() string { a := g.accounts[0]; return a[rng.IntN(len(a))] }
	day, week := benchEnd.Add(-24*time.Hour), benchEnd.Add(-7*24*time.Hour)
	queries := []struct {
		name string
		run  func() (int64, error)
	}{
		{"newest_page", func() (int64, error) { p, err := s.Search(ctx, Query{}); return p.Total, err }},
		{"page_3", func() (int64, error) {
			q := Query{}
			var p Page
			var err error
			for range 3 {
				if p, err = s.Search(ctx, q); err != nil {
					return 0, err
				}
				q.Cursor = p.Next
			}
			return p.Total, err
		}},
		{"level10_24h", func() (int64, error) {
			p, err := s.Search(ctx, Query{MinLevel: 10, From: day, To: benchEnd})
			return p.Total, err
		}},
		{"principal", func() (int64, error) { p, err := s.Search(ctx, Query{Principal: principal()}); return p.Total, err }},
		{"account_text", func() (int64, error) {
			p, err := s.Search(ctx, Query{Account: account(), Text: eventNames[rng.IntN(len(eventNames))]})
			return p.Total, err
		}},
		{"text_7d", func() (int64, error) {
			p, err := s.Search(ctx, Query{From: week, Text: eventNames[rng.IntN(len(eventNames))]})
			return p.Total, err
		}},
		{"technique_group_7d", func() (int64, error) {
			p, err := s.Search(ctx, Query{From: week, Technique: "T1098", Groups: []string{"iam"}})
			return p.Total, err
		}},
		{"level14_all_time", func() (int64, error) { p, err := s.Search(ctx, Query{MinLevel: 14}); return p.Total, err }},
		{"region_30d", func() (int64, error) {
			p, err := s.Search(ctx, Query{Region: "eu-west-1", From: benchEnd.Add(-30 * 24 * time.Hour)})
			return p.Total, err
		}},
		{"agg_24h", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: day, To: benchEnd}, AggRequest{})
			return a.Total, err
		}},
		{"agg_7d", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: week, To: benchEnd}, AggRequest{})
			return a.Total, err
		}},
		{"agg_7d_account", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: week, To: benchEnd, Account: account()}, AggRequest{})
			return a.Total, err
		}},
		{"agg_30d", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{}, AggRequest{})
			return a.Total, err
		}},
		// The dashboard's overview page as it calls the API: statistics with
		// counts by cloud, and the newest high alerts, over its 7-day default
		// and over a day.
		{"overview_stats_7d", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: week, To: benchEnd}, AggRequest{Top: 10, Facets: []string{"provider"}})
			return a.Total, err
		}},
		{"overview_stats_24h", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: day, To: benchEnd}, AggRequest{Top: 10, Facets: []string{"provider"}})
			return a.Total, err
		}},
		{"overview_high_7d", func() (int64, error) {
			p, err := s.Search(ctx, Query{MinLevel: 12, From: week, To: benchEnd, Limit: 10})
			return p.Total, err
		}},
		// Facet counts over a day and a week.
		{"facet_agg_24h_overview", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: day, To: benchEnd},
				AggRequest{Facets: []string{"service", "action", "region", "resource_group", "cluster"}})
			return a.Total, err
		}},
		{"facet_agg_7d_service_action", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: week, To: benchEnd}, AggRequest{Facets: []string{"service", "action"}})
			return a.Total, err
		}},
		{"facet_agg_7d_all", func() (int64, error) {
			names := append(alert.FacetNames[:], ColumnFacets...)
			a, err := s.Aggregate(ctx, Query{From: week, To: benchEnd}, AggRequest{Facets: names})
			return a.Total, err
		}},
		{"facet_agg_24h_provider_service_action", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: day, To: benchEnd, Provider: providers[rng.IntN(3)]},
				AggRequest{Facets: []string{"service", "action"}})
			return a.Total, err
		}},
		// A filter no index covers, over a week: every list reads each
		// matching row (about 1 s each; the same without facets).
		{"facet_agg_7d_provider_service_action", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: week, To: benchEnd, Provider: providers[rng.IntN(3)]},
				AggRequest{Facets: []string{"service", "action"}})
			return a.Total, err
		}},
		{"facet_agg_24h_service_filter", func() (int64, error) {
			a, err := s.Aggregate(ctx, Query{From: day, To: benchEnd, Facets: alert.Facets{Service: "s3.amazonaws.com"}},
				AggRequest{Facets: []string{"action", "resource"}})
			return a.Total, err
		}},
		// The alert search page filtered by a facet.
		{"facet_search_service", func() (int64, error) {
			p, err := s.Search(ctx, Query{Facets: alert.Facets{Service: "s3.amazonaws.com"}})
			return p.Total, err
		}},
		{"facet_search_service_7d", func() (int64, error) {
			p, err := s.Search(ctx, Query{From: week, Facets: alert.Facets{Service: "k8s.io"}})
			return p.Total, err
		}},
		{"facet_search_action_level10", func() (int64, error) {
			p, err := s.Search(ctx, Query{MinLevel: 10, Facets: alert.Facets{Action: "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"}})
			return p.Total, err
		}},
		// Related alerts: the same resource within an hour of an alert.
		{"facet_search_resource_2h", func() (int64, error) {
			at := benchEnd.Add(-time.Duration(rng.Int64N(int64(29 * 24 * time.Hour))))
			p, err := s.Search(ctx, Query{From: at.Add(-time.Hour), To: at.Add(time.Hour),
				Facets: alert.Facets{Resource: "arn:aws:s3:::" + account0() + "-logs-07"}})
			return p.Total, err
		}},
	}
	// The cloud pages: one call per page, filtered by provider, with that
	// page's facets (internal/dashboard/web/js/pages/cloud.js); the _lists
	// cases force the per-list statements, to compare in one run.
	cloudPages := []struct {
		provider string
		facets   []string
	}{
		{"aws", []string{"service", "account", "region", "action", "principal", "srcip"}},
		{"azure", []string{"action", "resource_group", "principal", "tag", "account", "service"}},
		{"gcp", []string{"account", "service", "action", "principal", "cluster", "region"}},
	}
	for _, span := range []struct {
		name string
		from time.Time
	}{{"24h", day}, {"7d", week}} {
		for _, c := range cloudPages {
			for _, path := range []struct {
				suffix string
				path   aggPath
			}{{"", aggAuto}, {"_lists", aggLists}} {
				queries = append(queries, struct {
					name string
					run  func() (int64, error)
				}{"cloud_" + c.provider + "_" + span.name + path.suffix, func() (int64, error) {
					a, err := s.aggregate(ctx, Query{From: span.from, To: benchEnd, Provider: c.provider},
						AggRequest{Top: 10, Facets: c.facets}, path.path)
					return a.Total, err
				}})
			}
		}
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			var lat []time.Duration
			var matched int64
			for b.Loop() {
				start := time.Now()
				n, err := q.run()
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				matched += n
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(matched)/float64(len(lat)), "matches/op")
		})
	}
}

// BenchmarkInsert measures storing alerts in batches of 500, as the store sink
// flushes them.
func BenchmarkInsert(b *testing.B) {
	s := openTest(b, Options{})
	g := newGen(98, benchEnd, 30*24*time.Hour)
	const batch = 500
	var inserted int
	var busy time.Duration
	for b.Loop() {
		b.StopTimer()
		alerts := g.batch(batch)
		b.StartTimer()
		start := time.Now()
		if err := s.Insert(ctx, alerts); err != nil {
			b.Fatal(err)
		}
		busy += time.Since(start)
		inserted += batch
	}
	b.ReportMetric(float64(inserted)/busy.Seconds(), "alerts/s")
	size, _ := s.Size(ctx)
	b.ReportMetric(float64(size)/float64(inserted), "bytes/alert")
}
