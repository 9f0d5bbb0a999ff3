// Package store is skywatch's embedded alert store: one SQLite file (pure Go,
// modernc.org/sqlite) holding every alert with the fields people filter on, a
// full-text index, and retention by age and size. The store sink writes to it and
// the REST API reads from it; both share one *Store.
//
// Layout: table alerts (one row per alert id, the summary columns — facets
// included since schema version 2 — and the alert JSON), tag_names/alert_tags
// (groups, tactics and techniques, normalised so that "any of these groups" is
// an index range), and alerts_fts, a contentless FTS5 index of the alert's text
// that forgets a row when the row is deleted.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// ErrNotFound is returned by Get for an id that is not stored.
var ErrNotFound = errors.New("store: alert not found")

// Options tune a Store. The zero value keeps everything forever.
type Options struct {
	// Retention deletes alerts older than this (by alert timestamp); 0 keeps them.
	Retention time.Duration
	// MaxSize is the most bytes the database may use; past it the oldest alerts
	// are deleted. 0 means no cap. See Prune for how size is measured.
	MaxSize int64
	// Logger receives retention reports and background errors (default: discard).
	Logger *slog.Logger
	// Now is the clock retention measures age with (default time.Now).
	Now func() time.Time
	// PruneInterval is how often the background goroutine runs Prune (default
	// one minute); negative turns the goroutine off (tests call Prune directly).
	PruneInterval time.Duration
	// Readers is the number of read connections (default 4).
	Readers int
}

// Store is an open alert database. It is safe for concurrent use: writes go
// through one connection, reads through a pool, and WAL mode lets readers run
// while a write commits.
type Store struct {
	path string
	opt  Options
	log  *slog.Logger
	w    *sql.DB // exactly one connection: SQLite allows one writer anyway
	r    *sql.DB // read-only pool

	wmu  sync.Mutex       // held for each write transaction (Insert, one prune batch)
	tags map[tagKey]int64 // tag_names cache, guarded by wmu

	// scanParts is how many parts Aggregate's row scan is split into; 0
	// picks by processors. Tests set it to run both splits.
	scanParts int

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// schemaVersion is the layout this program writes. Version 2 added the facet
// columns and their indexes, and the region index; version 3 the (provider,
// ts) index; version 4 made it cover what a cloud page counts.
const schemaVersion = 4

// facetColumns are the alerts columns of alert.FacetNames, in that order.
var facetColumns = alert.FacetNames

// facetSchema adds the facets to a version 1 table. Facets are columns, like
// principal, rather than tags: a facet search then pages down one (facet, ts)
// index and counts a range of it, and a top-N list is a scan of that index;
// as tags, a search by service had to collect and sort every matching row
// (0.3 s for one service over a million alerts), and counts under another
// filter probed the filter's rows once per value (seconds).
//
// The indexes are partial, of the rows whose facet is not empty: most alerts
// have only some facets, and alerts stored before version 2 none, so creating
// them on a migrated file writes almost nothing (it reads the table once per
// index: about 9 s for a million alerts, once). Queries repeat the condition
// so that SQLite may use them.
var facetSchema = func() []string {
	var out []string
	for _, c := range facetColumns {
		out = append(out, `ALTER TABLE alerts ADD COLUMN `+c+` TEXT NOT NULL DEFAULT ''`)
	}
	return append(out, facetIndexes()...)
}()

// facetIndexes are the indexes version 2 added.
func facetIndexes() []string {
	// (region, ts): the region top list and facet, which version 1 answered
	// by visiting every row of the range.
	out := []string{`CREATE INDEX alerts_region ON alerts(region, ts)`}
	for _, c := range facetColumns {
		out = append(out, `CREATE INDEX alerts_`+c+` ON alerts(`+c+`, ts) WHERE `+c+` <> ''`)
	}
	return out
}

// v3Indexes are the indexes version 3 added. (provider, ts): a cloud page's
// aggregation reads one provider's rows of a time range (see aggScan), and
// (provider, region, ts) bounds only the provider, so SQLite read the whole
// time range through (ts) and looked every row up, two thirds of them for
// nothing. Building it reads the table once (seconds for a million alerts).
var v3Indexes = []string{`CREATE INDEX alerts_provider_ts ON alerts(provider, ts)`}

// v4Indexes replace (provider, ts) with an index that also holds every column
// a filtered aggregation counts, so a cloud page's scan reads one index range
// instead of looking each row up in the table (whose rows carry the alert
// JSON): over a million alerts a 7-day cloud page went from 345–403 ms to
// 203–250 ms, for about 12% more file.
var v4Indexes = []string{
	`DROP INDEX IF EXISTS alerts_provider_ts`,
	`CREATE INDEX alerts_provider_cover ON alerts(provider, ts, level, rule_id, account, principal,
		srcip, region, service, action, resource_group, tag, cluster, resource)`,
}

// migrations[v] takes a database of version v to v+1, in one transaction with
// the version bump.
//
// 1 → 2 adds the facet columns and indexes. Alerts stored before keep empty
// facets, so facet filters and counts do not see them: filling them in means
// decompressing and summarising every stored alert (minutes for a million)
// while the service waits to start, and retention replaces those alerts.
//
// 2 → 3 adds v3Indexes; 3 → 4 replaces it with v4Indexes.
var migrations = map[int][]string{
	1: facetSchema,
	2: v3Indexes,
	3: v4Indexes,
}

// The schema. Timestamps are unix milliseconds. tags holds the alert's tag ids as
// a JSON array so that the delete trigger can find its alert_tags rows by primary
// key, instead of every tag row needing a second index on rid.
var schema = []string{
	`CREATE TABLE alerts (
		rid         INTEGER PRIMARY KEY,
		id          TEXT NOT NULL UNIQUE,
		ts          INTEGER NOT NULL,
		level       INTEGER NOT NULL,
		rule_id     TEXT NOT NULL,
		description TEXT NOT NULL,
		provider    TEXT NOT NULL,
		account     TEXT NOT NULL,
		region      TEXT NOT NULL,
		principal   TEXT NOT NULL,
		srcip       TEXT NOT NULL,
		service        TEXT NOT NULL DEFAULT '',
		action         TEXT NOT NULL DEFAULT '',
		resource_group TEXT NOT NULL DEFAULT '',
		tag            TEXT NOT NULL DEFAULT '',
		cluster        TEXT NOT NULL DEFAULT '',
		resource       TEXT NOT NULL DEFAULT '',
		tags        TEXT NOT NULL,
		json        BLOB NOT NULL
	)`,
	// (ts) is the pages' order; (level, ts) answers a level floor, and lets the
	// histogram count each level and bucket as an index range.
	`CREATE INDEX alerts_ts ON alerts(ts)`,
	`CREATE INDEX alerts_level ON alerts(level, ts)`,
	`CREATE INDEX alerts_rule ON alerts(rule_id, ts)`,
	`CREATE INDEX alerts_principal ON alerts(principal, ts)`,
	`CREATE INDEX alerts_srcip ON alerts(srcip, ts)`,
	`CREATE INDEX alerts_account ON alerts(account, ts)`,
	`CREATE INDEX alerts_provider ON alerts(provider, region, ts)`,
	`CREATE TABLE tag_names (
		tag_id INTEGER PRIMARY KEY,
		kind   INTEGER NOT NULL,
		name   TEXT NOT NULL,
		UNIQUE (kind, name)
	)`,
	`CREATE TABLE alert_tags (
		tag_id INTEGER NOT NULL,
		ts     INTEGER NOT NULL,
		rid    INTEGER NOT NULL,
		PRIMARY KEY (tag_id, ts, rid)
	) WITHOUT ROWID`,
	// Contentless with contentless_delete: the text lives only in the index, and
	// deleting by rowid works without handing FTS5 the old text.
	`CREATE VIRTUAL TABLE alerts_fts USING fts5(body, content='', contentless_delete=1,
		tokenize='unicode61 remove_diacritics 2')`,
	`CREATE TRIGGER alerts_delete AFTER DELETE ON alerts BEGIN
		DELETE FROM alerts_fts WHERE rowid = old.rid;
		DELETE FROM alert_tags WHERE tag_id IN (SELECT value FROM json_each(old.tags))
			AND ts = old.ts AND rid = old.rid;
	END`,
	fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion),
}

// Open opens the database at path, creating it (mode 0600, its directory 0750)
// and the schema when missing, and starts the retention goroutine.
func Open(path string, opt Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: open %q: path must be a file name without '?' or '#'", path)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.PruneInterval == 0 {
		opt.PruneInterval = time.Minute
	}
	if opt.Readers <= 0 {
		opt.Readers = 4
	}
	if opt.Retention < 0 || opt.MaxSize < 0 {
		return nil, fmt.Errorf("store: open %s: retention and max size must not be negative", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// SQLite would create the file with 0644 less the umask; creating it first
	// makes it 0600, and SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	_ = f.Close()

	s := &Store{path: path, opt: opt, log: opt.Logger, tags: map[tagKey]int64{},
		stop: make(chan struct{}), done: make(chan struct{})}
	// synchronous=FULL: in WAL mode every commit fsyncs the WAL, so an Insert that
	// returned nil survives a kill -9 and a power cut. NORMAL would survive a
	// process crash (the OS still holds the WAL) but not a power cut, and the
	// pipeline acknowledges sources on our word, so a lost commit would be a lost
	// alert. One fsync per Insert (one per pipeline flush) is cheap.
	common := "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL&_pragma=cache_size(-16000)"
	if s.w, err = sql.Open("sqlite", path+common+"&_txlock=immediate&_pragma=journal_size_limit(67108864)"); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	if err := s.migrate(); err != nil {
		_ = s.w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if s.r, err = sql.Open("sqlite", path+common+"&_query_only=1"); err != nil {
		_ = s.w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(opt.Readers)
	s.r.SetMaxIdleConns(opt.Readers)
	if opt.PruneInterval > 0 {
		go s.pruneLoop()
	} else {
		close(s.done)
	}
	return s, nil
}

// migrate creates the schema in a new file, brings files of an older schema up
// to date and refuses files of a newer schema.
func (s *Store) migrate() error {
	var v int
	if err := s.w.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("schema version %d is newer than this program's %d", v, schemaVersion)
	}
	if v == 0 {
		stmts := append(append(schema[:len(schema):len(schema)], facetIndexes()...), v4Indexes[1:]...)
		return s.inTx(stmts, "create schema")
	}
	for ; v < schemaVersion; v++ {
		steps, ok := migrations[v]
		if !ok {
			return fmt.Errorf("no migration from schema version %d", v)
		}
		steps = append(steps[:len(steps):len(steps)], fmt.Sprintf(`PRAGMA user_version = %d`, v+1))
		if err := s.inTx(steps, fmt.Sprintf("migrate schema %d to %d", v, v+1)); err != nil {
			return err
		}
		s.log.Info("alert store: schema migrated", "path", s.path, "from", v, "to", v+1)
	}
	return nil
}

// inTx runs stmts in one write transaction; op names it in errors.
func (s *Store) inTx(stmts []string, op string) error {
	tx, err := s.w.Begin()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, stmt := range stmts {
		if _, err := tx.Exec(stmt); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Close stops the retention goroutine and closes the database. Later calls
// return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		// optimize keeps the planner's statistics current; it is cheap when
		// nothing changed.
		_, _ = s.w.Exec(`PRAGMA optimize`)
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("store: close %s: %w", s.path, s.closeErr)
		}
	})
	return s.closeErr
}

// Path returns the database file name.
func (s *Store) Path() string { return s.path }

// Count returns the number of stored alerts.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM alerts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// Size returns the bytes the database uses: its pages less the free ones. The
// file itself does not shrink when alerts are deleted; new alerts reuse the
// free pages instead.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var pages, free, size int64
	err := s.r.QueryRowContext(ctx,
		`SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count),
			(SELECT page_size FROM pragma_page_size)`).Scan(&pages, &free, &size)
	if err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	return (pages - free) * size, nil
}

// Get returns the alert with the given id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (json.RawMessage, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT json FROM alerts WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err == nil {
		b, err = decompressJSON(b)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get %q: %w", id, err)
	}
	return b, nil
}

// IntegrityCheck runs SQLite's integrity check, which also checks the
// full-text index, and returns an error describing any damage. It uses a
// connection of its own: on a long-lived connection, SQLite 3.54's FTS5 check
// reports false corruption once another connection has merged index segments
// (its cached index structure is stale), while queries on it stay correct.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	db, err := sql.Open("sqlite", s.path+"?_busy_timeout=10000&_query_only=1")
	if err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: integrity check: %s", res)
	}
	return nil
}
