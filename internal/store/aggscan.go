package store

import (
	"cmp"
	"context"
	"encoding/json"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"
)

// scanFixed are the columns every scan reads after ts and level: the rule
// (its description is looked up for the top rules only) and the columns of
// the fixed top lists.
var scanFixed = []string{"rule_id", "principal", "srcip", "account"}

// histKey is one (histogram bucket, level) cell.
type histKey struct {
	bucket int64
	level  int
}

// scanCounts are one part's counts: per (bucket, level), and per value of
// each scanned column (in the order of the scan's columns).
type scanCounts struct {
	hist  map[histKey]int64
	lists []map[string]int64
}

// aggScan fills agg (its histogram already laid out) the way the per-list
// statements would, from one read of the matching rows, counted in Go. The
// read is split into parts by time, run side by side on the reader pool, and
// the tactic and technique counts run beside them as their own statement (it
// reads only rids, which every index covers).
func (s *Store) aggScan(ctx context.Context, agg *Aggregations, q Query, top int, facets []string, from, to time.Time, ivMs, first int64) error {
	cols := slices.Clone(scanFixed)
	for _, f := range facets {
		if f != "rule" && !slices.Contains(cols, f) {
			cols = append(cols, f) // FacetName checked it: a column name
		}
	}
	parts := s.scanQueries(q, from, to)
	counts := make([]scanCounts, len(parts))
	errs := make([]error, len(parts)+1)
	var wg sync.WaitGroup
	for i, pq := range parts {
		wg.Go(func() { counts[i], errs[i] = s.scanPart(ctx, pq, cols, ivMs, first) })
	}
	wg.Go(func() {
		where, args := q.where()
		errs[len(parts)] = s.mitre(ctx, agg, q, where, args, top)
	})
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	all := counts[0]
	for _, c := range counts[1:] {
		for k, n := range c.hist {
			all.hist[k] += n
		}
		for i, m := range c.lists {
			for k, n := range m {
				all.lists[i][k] += n
			}
		}
	}

	levels := map[int]int64{}
	for k, n := range all.hist {
		agg.Total += n
		levels[k.level] += n
		if k.bucket >= 0 && k.bucket < int64(len(agg.Histogram)) {
			h := &agg.Histogram[k.bucket]
			h.Count += n
			h.ByLevel[strconv.Itoa(k.level)] += n
		}
	}
	agg.Levels = levelCounts(levels)

	list := func(col string) []Count {
		// The rule list keeps an empty rule id and provider keeps "", as
		// their statements do; the others leave empty values out.
		keepEmpty := col == "rule_id" || col == "provider"
		return topCounts(all.lists[slices.Index(cols, col)], top, keepEmpty)
	}
	agg.Rules, agg.Principals, agg.SrcIPs, agg.Accounts = list("rule_id"), list("principal"), list("srcip"), list("account")
	if err := s.ruleLabels(ctx, agg.Rules); err != nil {
		return err
	}
	if len(facets) > 0 {
		agg.Facets = make(map[string][]Count, len(facets))
		for _, f := range facets {
			if f == "rule" {
				agg.Facets[f] = agg.Rules // as the per-list path shares it
			} else {
				agg.Facets[f] = list(f)
			}
		}
	}
	return nil
}

// scanQueries splits q's matching rows into parts by time, [from, to) being
// their whole range (from not before to: none match, one part). Each part is q with a
// narrower range, so that the group and technique subqueries, which are
// bounded by the query's range, narrow too. Text is one part: every part
// would run the full-text search again.
func (s *Store) scanQueries(q Query, fromT, toT time.Time) []Query {
	from, to := fromT.UnixMilli(), toT.UnixMilli()
	n := s.scanParts
	if n <= 0 {
		// One read per processor, leaving a connection for the tag counts.
		n = min(runtime.GOMAXPROCS(0), s.opt.Readers-1, 4)
	}
	if q.Text != "" || !fromT.Before(toT) {
		n = 1
	}
	n = max(1, int(min(int64(n), to-from)))
	if n == 1 {
		return []Query{q}
	}
	out := make([]Query, n)
	for i := range n {
		pq := q
		lo, hi := from+(to-from)*int64(i)/int64(n), from+(to-from)*int64(i+1)/int64(n)
		pq.From, pq.To = time.UnixMilli(lo), time.UnixMilli(hi)
		out[i] = pq
	}
	return out
}

// scanPart reads the rows matching q once and counts them by (bucket, level)
// and by each value of cols.
func (s *Store) scanPart(ctx context.Context, q Query, cols []string, ivMs, first int64) (scanCounts, error) {
	c := scanCounts{hist: map[histKey]int64{}, lists: make([]map[string]int64, len(cols))}
	for i := range c.lists {
		c.lists[i] = map[string]int64{}
	}
	where, args := q.where()
	sel := "ts, level"
	for _, col := range cols {
		sel += ", " + col
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+sel+` FROM alerts WHERE `+where, args...)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	var ts int64
	var level int
	vals := make([]string, len(cols))
	dst := []any{&ts, &level}
	for i := range vals {
		dst = append(dst, &vals[i])
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return c, err
		}
		// Truncating division, as the grouped histogram statement's: every
		// timestamp of the range is at or after the first bucket.
		c.hist[histKey{(ts - first*ivMs) / ivMs, level}]++
		for i, v := range vals {
			c.lists[i][v]++
		}
	}
	return c, rows.Err()
}

// topCounts returns the top n of counts, largest first and ties by key, as
// the statements order them; "" is left out unless keepEmpty.
func topCounts(counts map[string]int64, n int, keepEmpty bool) []Count {
	out := make([]Count, 0, len(counts))
	for k, c := range counts {
		if k != "" || keepEmpty {
			out = append(out, Count{Key: k, Count: c})
		}
	}
	// Sorting every value is cheap next to the scan: lists have at most a
	// few tens of thousands of values (resources), most far fewer.
	slices.SortFunc(out, func(a, b Count) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return slices.Clip(out[:min(n, len(out))])
}

// ruleLabels sets each rule's label to its description, found as the
// per-list statement finds it (the first alert of the rule on its index), so
// both paths label alike.
func (s *Store) ruleLabels(ctx context.Context, rules []Count) error {
	if len(rules) == 0 {
		return nil
	}
	ids := make([]string, len(rules))
	for i, c := range rules {
		ids[i] = c.Key
	}
	js, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT j.key, (SELECT description FROM alerts d
		WHERE d.rule_id = j.value LIMIT 1) FROM json_each(?) j`, string(js))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var label string
		if err := rows.Scan(&i, &label); err != nil {
			return err
		}
		rules[i].Label = label
	}
	return rows.Err()
}
