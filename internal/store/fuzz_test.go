package store

import (
	"errors"
	"testing"
	"time"
)

// FuzzQuery feeds arbitrary text, cursors and limits to Validate, Search and
// Aggregate: none may panic, and every error must be a validation error (a 400),
// never a database error surfacing from user input.
func FuzzQuery(f *testing.F) {
	s := openTest(f, Options{Readers: 2})
	g := newGen(16, time.Now(), 24*time.Hour)
	mustInsert(f, s, g.batch(40))
	p, err := s.Search(ctx, Query{Limit: 3})
	if err != nil {
		f.Fatal(err)
	}
	for _, text := range hostileText {
		f.Add(text, "", 0, "")
	}
	f.Add("deletetrail", p.Next, 3, "T1562")
	f.Add("", p.Next[:10], 5, "T*")
	f.Add("a\x00\"", "AAAA", 1001, "[")
	f.Fuzz(func(t *testing.T, text, cursor string, limit int, technique string) {
		q := Query{Text: text, Cursor: cursor, Limit: limit, Technique: technique, Principal: text}
		verr := q.Validate()
		if verr != nil && !errors.Is(verr, ErrInvalidQuery) {
			t.Fatalf("Validate: %v is not a validation error", verr)
		}
		for _, q := range []Query{q, {Text: text, Limit: limit, Cursor: cursor}} {
			if _, err := s.Search(ctx, q); err != nil && !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("Search(%+v): %v", q, err)
			}
			if _, err := s.Aggregate(ctx, q, AggRequest{}); err != nil && !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("Aggregate(%+v): %v", q, err)
			}
		}
		if _, err := s.Search(ctx, q); (err == nil) != (verr == nil) {
			t.Fatalf("Search and Validate disagree: %v / %v", err, verr)
		}
	})
}
