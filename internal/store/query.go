package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// Query selects alerts. Every set field must hold.
type Query struct {
	// From and To bound the alert timestamp: From inclusive, To exclusive; zero
	// leaves that side open.
	From, To time.Time
	// MinLevel is the lowest rule level taken (0 = any).
	MinLevel int
	// RuleIDs and Groups take alerts with any of the listed values.
	RuleIDs []string
	Groups  []string
	// Provider is "aws", "azure" or "gcp". Account, Region, Principal and SrcIP
	// must equal the alert's summary value.
	Provider  string
	Account   string
	Region    string
	Principal string
	SrcIP     string
	// Technique is an ATT&CK technique id; a parent (T1562) also takes its
	// sub-techniques (T1562.008).
	Technique string
	// Facets' set values must equal the alert's (service, action, ...).
	// Alerts stored before schema version 2 have no facets.
	Facets alert.Facets
	// Text is free text searched in every string value of the alert. It is read
	// as plain words, all of which must appear (in any order): "double quotes"
	// group a phrase and a trailing * matches a prefix (ipv6*). Other FTS5 syntax
	// (AND, OR, NEAR, column filters) is taken literally, so no input is an error.
	Text string
	// Limit is the page size (default 50, at most 1000).
	Limit int
	// Cursor continues from a previous Page.Next.
	Cursor string
}

// Query limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
	maxTextLen   = 1024
	maxListLen   = 100
)

// ErrInvalidQuery is what every QueryError matches with errors.Is: a bad request
// (HTTP 400), not a store failure.
var ErrInvalidQuery = errors.New("store: invalid query")

// QueryError is a Query or AggRequest field with a bad value.
type QueryError struct {
	Field string // the field's name in JSON/URL form: limit, from, to, cursor, ...
	Msg   string
}

func (e *QueryError) Error() string { return "store: invalid query: " + e.Field + ": " + e.Msg }

// Is makes errors.Is(err, ErrInvalidQuery) true.
func (e *QueryError) Is(target error) bool { return target == ErrInvalidQuery }

// Validate checks the query and returns a *QueryError naming the first bad field.
func (q Query) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &QueryError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxLimit:
		return bad("limit", "must be between 1 and %d, got %d", MaxLimit, q.Limit)
	case !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From):
		return bad("to", "must not be before from")
	case q.MinLevel < 0 || q.MinLevel > 16:
		return bad("min_level", "must be between 0 and 16, got %d", q.MinLevel)
	case q.Provider != "" && q.Provider != "aws" && q.Provider != "azure" && q.Provider != "gcp":
		return bad("provider", "must be aws, azure or gcp, got %q", q.Provider)
	case len(q.RuleIDs) > maxListLen:
		return bad("rule_ids", "at most %d values", maxListLen)
	case len(q.Groups) > maxListLen:
		return bad("groups", "at most %d values", maxListLen)
	case len(q.Text) > maxTextLen:
		return bad("text", "at most %d bytes", maxTextLen)
	case !utf8.ValidString(q.Text):
		return bad("text", "not valid UTF-8")
	}
	if q.Cursor != "" {
		if _, err := decodeCursor(q.Cursor); err != nil {
			return bad("cursor", "%v", err)
		}
	}
	return nil
}

func (q Query) limit() int {
	if q.Limit == 0 {
		return DefaultLimit
	}
	return q.Limit
}

// Page is one page of search results.
type Page struct {
	Alerts []json.RawMessage `json:"alerts"` // newest first
	Next   string            `json:"next,omitempty"`
	Total  int64             `json:"total"` // number of alerts matching the query
}

// Search returns the newest alerts matching q, one page at a time: pass
// Page.Next as the next query's Cursor (with the same filters). Pages follow
// (timestamp, row) order downwards, so alerts stored while paging do not shift
// later pages: they appear on a new first page.
func (s *Store) Search(ctx context.Context, q Query) (Page, error) {
	if err := q.Validate(); err != nil {
		return Page{}, err
	}
	where, args := q.where()
	pageWhere, pageArgs := where, args
	if q.Cursor != "" {
		c, _ := decodeCursor(q.Cursor)
		// Spelled out rather than (ts, rid) < (?, ?): with the row value SQLite
		// does not see the range on ts and sorts the whole table.
		pageWhere += " AND ts <= ? AND (ts < ? OR rid < ?)"
		pageArgs = append(append([]any(nil), args...), c.ts, c.ts, c.rid)
	}
	limit := q.limit()
	page := Page{Alerts: []json.RawMessage{}}
	// The page and the total are independent; run them side by side (args are
	// shared read-only: appends below go through slices.Clip).
	errc := make(chan error, 1)
	go func() {
		err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE `+where, args...).Scan(&page.Total)
		errc <- err
	}()
	err := s.page(ctx, &page, limit, `SELECT rid, ts, json FROM alerts WHERE `+pageWhere+
		` ORDER BY ts DESC, rid DESC LIMIT ?`, append(slices.Clip(pageArgs), limit+1)...)
	// The page's connection is back in the pool before this waits, so searches
	// cannot exhaust the pool waiting on each other.
	if err = errors.Join(err, <-errc); err != nil {
		return Page{}, fmt.Errorf("store: search: %w", err)
	}
	return page, nil
}

func (s *Store) page(ctx context.Context, page *Page, limit int, stmt string, args ...any) error {
	rows, err := s.r.QueryContext(ctx, stmt, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var last cursor
	for rows.Next() {
		if len(page.Alerts) == limit {
			page.Next = encodeCursor(last)
			break
		}
		var b []byte
		if err := rows.Scan(&last.rid, &last.ts, &b); err != nil {
			return err
		}
		js, err := decompressJSON(b)
		if err != nil {
			return err
		}
		page.Alerts = append(page.Alerts, js)
	}
	return rows.Err()
}

// where returns the SQL condition on alerts (never empty) and its arguments.
func (q Query) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	var tsCond string // the same range on alert_tags, to narrow its scan
	var tsArgs []any
	if !q.From.IsZero() {
		add("ts >= ?", q.From.UnixMilli())
		tsCond += " AND ts >= ?"
		tsArgs = append(tsArgs, q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		add("ts < ?", q.To.UnixMilli())
		tsCond += " AND ts < ?"
		tsArgs = append(tsArgs, q.To.UnixMilli())
	}
	if q.MinLevel > 0 {
		add("level >= ?", q.MinLevel)
	}
	if len(q.RuleIDs) > 0 {
		add("rule_id IN ("+placeholders(len(q.RuleIDs))+")", strArgs(q.RuleIDs)...)
	}
	for _, f := range []struct{ col, v string }{{"provider", q.Provider}, {"account", q.Account},
		{"region", q.Region}, {"principal", q.Principal}, {"srcip", q.SrcIP}} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if len(q.Groups) > 0 {
		a := append([]any{kindGroup}, strArgs(q.Groups)...)
		add(`rid IN (SELECT rid FROM alert_tags WHERE tag_id IN (SELECT tag_id FROM tag_names
			WHERE kind = ? AND name IN (`+placeholders(len(q.Groups))+`))`+tsCond+`)`, append(a, tsArgs...)...)
	}
	for i, v := range q.Facets.Values() {
		if v != "" {
			// "<> ''" lets SQLite use the column's partial index.
			add(facetColumns[i]+" = ? AND "+facetColumns[i]+" <> ''", v)
		}
	}
	if q.Technique != "" {
		add(`rid IN (SELECT rid FROM alert_tags WHERE tag_id IN (SELECT tag_id FROM tag_names
			WHERE kind = ? AND (name = ? OR name GLOB ?))`+tsCond+`)`,
			append([]any{kindTechnique, q.Technique, globEscape(q.Technique) + ".*"}, tsArgs...)...)
	}
	if m := ftsQuery(q.Text); m != "" {
		add("rid IN (SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH ?)", m)
	}
	if len(conds) == 0 {
		return "1", nil
	}
	return strings.Join(conds, " AND "), args
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func strArgs(ss []string) []any {
	a := make([]any, len(ss))
	for i, s := range ss {
		a[i] = s
	}
	return a
}

// globEscape makes s match itself in a GLOB pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '[' {
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ftsQuery turns free text into an FTS5 expression that cannot be malformed:
// each word or "quoted phrase" becomes one FTS5 string (inner quotes doubled),
// with * kept after a bare word as a prefix search. Words without a letter or
// digit are dropped, since the tokenizer would see nothing in them, and control
// characters are spaces (FTS5 would end the expression at a NUL). It returns ""
// when nothing searchable remains.
func ftsQuery(text string) string {
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	var out []string
	for rest := strings.TrimSpace(text); rest != ""; rest = strings.TrimSpace(rest) {
		var word string
		prefix := false
		if rest[0] == '"' {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 { // unclosed: the rest is the phrase
				word, rest = rest[1:], ""
			} else {
				word, rest = rest[1:1+end], rest[2+end:]
			}
		} else {
			end := strings.IndexFunc(rest, unicode.IsSpace)
			if end < 0 {
				end = len(rest)
			}
			word, rest = rest[:end], rest[end:]
			if t := strings.TrimRight(word, "*"); t != word {
				word, prefix = t, true
			}
		}
		if strings.IndexFunc(word, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) < 0 {
			continue
		}
		term := `"` + strings.ReplaceAll(word, `"`, `""`) + `"`
		if prefix {
			term += "*"
		}
		out = append(out, term)
	}
	return strings.Join(out, " ")
}

// cursor is a position in (ts, rid) order: the last alert of a page.
type cursor struct {
	ts, rid int64
}

// cursorKey authenticates cursors. It is not a secret (the code is public): a
// cursor only names a position, so forging one gains nothing; the MAC is there
// so that a damaged or hand-edited cursor is refused instead of silently
// paging from a wrong place.
var cursorKey = []byte("skywatch store cursor v1")

const cursorVersion = 1

func encodeCursor(c cursor) string {
	b := make([]byte, 17, 17+8)
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:], uint64(c.ts))
	binary.BigEndian.PutUint64(b[9:], uint64(c.rid))
	m := hmac.New(sha256.New, cursorKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b)[:17+8])
}

func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 17+8 || b[0] != cursorVersion {
		return cursor{}, errors.New("not a cursor this store issued")
	}
	m := hmac.New(sha256.New, cursorKey)
	m.Write(b[:17])
	if !hmac.Equal(m.Sum(nil)[:8], b[17:]) {
		return cursor{}, errors.New("not a cursor this store issued")
	}
	return cursor{ts: int64(binary.BigEndian.Uint64(b[1:])), rid: int64(binary.BigEndian.Uint64(b[9:]))}, nil
}
