package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

var ctx = context.Background()

func count(t testing.TB, s *Store, stmt string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.r.QueryRow(stmt, args...).Scan(&n); err != nil {
		t.Fatal(stmt, err)
	}
	return n
}

func TestInsertIdempotent(t *testing.T) {
	s := openTest(t, Options{})
	g := newGen(1, time.Now(), 48*time.Hour)
	batch := g.batch(100)
	n, err := s.InsertCount(ctx, batch)
	if err != nil || n != 100 {
		t.Fatalf("first insert: %d new, %v", n, err)
	}
	tags := count(t, s, `SELECT count(*) FROM alert_tags`)
	// The same ids again, alone and mixed with new ones and with themselves.
	if n, err := s.InsertCount(ctx, batch); err != nil || n != 0 {
		t.Fatalf("repeat insert: %d new, %v", n, err)
	}
	fresh := g.batch(10)
	mixed := append(append(append([]Alert{}, batch[:20]...), fresh...), fresh[0], batch[5])
	if n, err := s.InsertCount(ctx, mixed); err != nil || n != 10 {
		t.Fatalf("mixed insert: %d new, %v", n, err)
	}
	if c, _ := s.Count(ctx); c != 110 {
		t.Fatalf("count = %d, want 110", c)
	}
	if c := count(t, s, `SELECT count(*) FROM alerts_fts`); c != 110 {
		t.Errorf("full-text rows = %d, want 110", c)
	}
	wantTags := tags + tagRows(fresh)
	if c := count(t, s, `SELECT count(*) FROM alert_tags`); c != wantTags {
		t.Errorf("tag rows = %d, want %d", c, wantTags)
	}
	if err := s.Insert(ctx, []Alert{{JSON: []byte(`{}`)}}); err == nil {
		t.Error("an alert without id was accepted")
	}
}

func TestGet(t *testing.T) {
	s := openTest(t, Options{})
	batch := newGen(2, time.Now(), time.Hour).batch(5)
	mustInsert(t, s, batch)
	got, err := s.Get(ctx, batch[3].Summary.ID)
	if err != nil || !bytes.Equal(got, batch[3].JSON) {
		t.Fatalf("Get = %.80s, %v", got, err)
	}
	if _, err := s.Get(ctx, "0123"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing id: %v", err)
	}
}

func TestReopenKeepsDataAndMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "alerts.db")
	s, err := Open(path, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	batch := newGen(3, time.Now(), time.Hour).batch(50)
	mustInsert(t, s, batch)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s, err = Open(path, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, _ := s.Count(ctx); c != 50 {
		t.Fatalf("after reopen count = %d", c)
	}
	got, err := s.Get(ctx, batch[49].Summary.ID)
	if err != nil || !bytes.Equal(got, batch[49].JSON) {
		t.Fatalf("after reopen Get: %v", err)
	}
	page, err := s.Search(ctx, Query{Text: batch[0].Summary.Principal})
	if err != nil || page.Total == 0 {
		t.Fatalf("after reopen text search: %d, %v", page.Total, err)
	}
	// New inserts after reopen reuse the stored tag ids.
	mustInsert(t, s, newGen(4, time.Now(), time.Hour).batch(20))
	if c := count(t, s, `SELECT count(*) FROM tag_names`); c != count(t, s, `SELECT count(DISTINCT kind || name) FROM tag_names`) {
		t.Errorf("duplicate tag names after reopen")
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.db")
	s, err := Open(path, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if _, err := Open(path, Options{PruneInterval: -1}); err == nil {
		t.Fatal("opened a database of a newer schema")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "a?b"), Options{}); err == nil {
		t.Fatal("opened a path with '?'")
	}
}

// schemaV1 is version 1's schema, as released, to make a version 1 file.
var schemaV1 = []string{
	`CREATE TABLE alerts (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL, level INTEGER NOT NULL,
		rule_id TEXT NOT NULL, description TEXT NOT NULL, provider TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
		principal TEXT NOT NULL, srcip TEXT NOT NULL, tags TEXT NOT NULL, json BLOB NOT NULL)`,
	`CREATE INDEX alerts_ts ON alerts(ts)`,
	`CREATE INDEX alerts_level ON alerts(level, ts)`,
	`CREATE INDEX alerts_rule ON alerts(rule_id, ts)`,
	`CREATE INDEX alerts_principal ON alerts(principal, ts)`,
	`CREATE INDEX alerts_srcip ON alerts(srcip, ts)`,
	`CREATE INDEX alerts_account ON alerts(account, ts)`,
	`CREATE INDEX alerts_provider ON alerts(provider, region, ts)`,
	`CREATE TABLE tag_names (tag_id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, UNIQUE (kind, name))`,
	`CREATE TABLE alert_tags (tag_id INTEGER NOT NULL, ts INTEGER NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (tag_id, ts, rid)) WITHOUT ROWID`,
	`CREATE VIRTUAL TABLE alerts_fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`,
	`CREATE TRIGGER alerts_delete AFTER DELETE ON alerts BEGIN
		DELETE FROM alerts_fts WHERE rowid = old.rid;
		DELETE FROM alert_tags WHERE tag_id IN (SELECT value FROM json_each(old.tags)) AND ts = old.ts AND rid = old.rid;
	END`,
	`PRAGMA user_version = 1`,
}

// A version 1 file opens as version 2: its alerts stay searchable and
// prunable, they have no facets, and new alerts get them.
func TestMigrateFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range schemaV1 {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	old := newGen(21, time.Now(), time.Hour).batch(40)
	for _, a := range old {
		var stored bytes.Buffer
		compressJSON(&stored, a.JSON)
		sum := a.Summary
		res, err := db.Exec(`INSERT INTO alerts (id, ts, level, rule_id, description, provider, account, region, principal, srcip, tags, json)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?)`, sum.ID, sum.Timestamp.UnixMilli(), sum.Level, sum.RuleID, sum.Description,
			sum.Provider, sum.Account, sum.Region, sum.Principal, sum.SrcIP, stored.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		rid, _ := res.LastInsertId()
		if _, err := db.Exec(`INSERT INTO alerts_fts (rowid, body) VALUES (?, ?)`, rid, appendText(nil, a.JSON)); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close()

	s, err := Open(path, Options{PruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := count(t, s, `PRAGMA user_version`); v != schemaVersion {
		t.Fatalf("user_version %d after opening, want %d", v, schemaVersion)
	}
	// Migrated through every version, the file has the indexes of a new one.
	if got, want := indexSQL(t, s), indexSQL(t, openTest(t, Options{})); !slices.Equal(got, want) {
		t.Errorf("indexes after migrating:\n %q\nof a new file:\n %q", got, want)
	}
	fresh := newGen(22, time.Now(), time.Hour).batch(40)
	mustInsert(t, s, fresh)
	if p, err := s.Search(ctx, Query{Text: old[0].Summary.Principal}); err != nil || p.Total == 0 {
		t.Fatalf("old alerts by text: %d, %v", p.Total, err)
	}
	agg, err := s.Aggregate(ctx, Query{}, AggRequest{Top: 1000, Facets: []string{"service", "region"}})
	if err != nil {
		t.Fatal(err)
	}
	var withService, withRegion int64
	for _, c := range agg.Facets["service"] {
		withService += c.Count
	}
	for _, c := range agg.Facets["region"] {
		withRegion += c.Count
	}
	if agg.Total != 80 || withService != 40 || withRegion != 80 {
		t.Fatalf("total %d, %d with a service, %d with a region; want 80, the 40 new ones, 80", agg.Total, withService, withRegion)
	}
	svc := fresh[0].Summary.Facets.Service
	for _, id := range searchAll(t, s, Query{Facets: alert.Facets{Service: svc}}) {
		if !slices.ContainsFunc(fresh, func(a Alert) bool { return a.Summary.ID == id }) {
			t.Fatalf("service %s found alert %s stored before the migration", svc, id)
		}
	}
	if n, err := s.deleteOldest(ctx, 60, 0); err != nil || n != 60 {
		t.Fatalf("pruning across the migration: %d, %v", n, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	// Reopening a migrated file changes nothing.
	_ = s.Close()
	if s, err = Open(path, Options{PruneInterval: -1}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, _ := s.Count(ctx); c != 20 {
		t.Fatalf("count %d after reopening", c)
	}
}

func TestConcurrentReadsDuringWrites(t *testing.T) {
	s := openTest(t, Options{Readers: 3})
	g := newGen(5, time.Now(), 24*time.Hour)
	mustInsert(t, s, g.batch(200))
	batches := make([][]Alert, 40)
	for i := range batches {
		batches[i] = g.batch(50)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for r := range 4 {
		wg.Go(func() {
			var last int64
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				var err error
				var n int64
				switch (i + r) % 3 {
				case 0:
					var p Page
					p, err = s.Search(ctx, Query{MinLevel: 5, Limit: 20})
					n = -1
					if err == nil && len(p.Alerts) != 20 {
						err = errors.New("short page")
					}
				case 1:
					var a Aggregations
					a, err = s.Aggregate(ctx, Query{}, AggRequest{})
					n = a.Total
				default:
					n, err = s.Count(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
				if n >= 0 && n < last {
					errs <- errors.New("the alert count went down")
					return
				}
				last = max(last, n)
			}
		})
	}
	for _, b := range batches {
		if err := s.Insert(ctx, b); err != nil {
			t.Error(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c, _ := s.Count(ctx); c != 200+40*50 {
		t.Fatalf("count = %d", c)
	}
}

func TestAppendText(t *testing.T) {
	js := `{"timestamp":"2024-05-01T10:00:00.000+0000","rule":{"level":5,"description":"Caf\u00e9 \"quoted\"","id":"1"},` +
		`"full_log":"FULLLOG","previous_output":"PREV","data":{"user":"alice","n":5,"list":["x1","x2"]},"location":"loc"}`
	got := string(appendText(nil, []byte(js)))
	for _, want := range []string{"Café \"quoted\"", "alice", "x1", "x2", "loc", "2024-05-01T10"} {
		if !bytes.Contains([]byte(got), []byte(want)) {
			t.Errorf("text %q lacks %q", got, want)
		}
	}
	for _, not := range []string{"FULLLOG", "PREV", "user", "description", "timestamp"} {
		if bytes.Contains([]byte(got), []byte(not)) {
			t.Errorf("text %q has %q", got, not)
		}
	}
	noData := `{"rule":{"id":"2"},"full_log":"Mar 1 sshd: failed password for root","location":"x"}`
	if got := string(appendText(nil, []byte(noData))); !bytes.Contains([]byte(got), []byte("failed password")) {
		t.Errorf("without data the full log is not indexed: %q", got)
	}
}

func TestIntegrityCheckDetectsDamage(t *testing.T) {
	s := openTest(t, Options{})
	g := newGen(6, time.Now(), time.Hour)
	for range 30 { // enough commits for the full-text index to merge segments
		mustInsert(t, s, g.batch(2))
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`DELETE FROM alerts_fts_data WHERE id > 10`); err != nil {
		t.Fatal(err)
	}
	if err := s.IntegrityCheck(ctx); err == nil {
		t.Fatal("a damaged full-text index passed the check")
	}
}

func TestStoredForms(t *testing.T) {
	s := openTest(t, Options{})
	a := newGen(17, time.Now(), time.Hour).batch(1)
	mustInsert(t, s, a)
	var stored []byte
	if err := s.r.QueryRow(`SELECT json FROM alerts`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored[0] != formatDeflateV1 || len(stored) >= len(a[0].JSON)/2 {
		t.Fatalf("stored %d bytes (format %d) for %d bytes of JSON", len(stored), stored[0], len(a[0].JSON))
	}
	// Rows holding plain JSON (and a damaged row) read as such.
	if _, err := s.w.Exec(`UPDATE alerts SET json = CAST('{"plain":1}' AS BLOB)`); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, a[0].Summary.ID); err != nil || string(got) != `{"plain":1}` {
		t.Fatalf("plain row: %s, %v", got, err)
	}
	if _, err := s.w.Exec(`UPDATE alerts SET json = X'01FFFF'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, a[0].Summary.ID); err == nil {
		t.Fatal("a damaged row read without error")
	}
	if _, err := s.Search(ctx, Query{}); err == nil {
		t.Fatal("a damaged row searched without error")
	}
}

// indexSQL lists the definitions of the store's indexes, sorted.
func indexSQL(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.r.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY sql`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			t.Fatal(err)
		}
		out = append(out, def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
