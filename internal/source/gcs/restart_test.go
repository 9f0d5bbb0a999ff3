package gcs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/source/daycursor"
)

// TestRestartMidway stops a pass while batches are unacknowledged (their alerts
// never became durable: the process died) and starts a new source on the same
// checkpoint file: together the two runs deliver every entry, and the only
// repeats are entries of objects that had an unacknowledged batch.
func TestRestartMidway(t *testing.T) {
	f := newFakeGCS(t)
	var all []string
	for h := 0; h < 8; h++ {
		name := hourFile(activity, "2024/05/01", h, "S0")
		body := entries(600, fmt.Sprintf("h%d", h)) // three batches per object
		enc := ""
		if h%2 == 1 {
			enc = "gzip"
		}
		f.put(name, body, enc)
		for i, off := 0, 0; i < 600; i++ {
			all = append(all, fmt.Sprintf("gs://%s/%s@%d", bucket, name, off))
			off += strings.IndexByte(string(body[off:]), '\n') + 1
		}
	}
	dir := t.TempDir()
	st := openState(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(LoggingExport)
	cfg.Workers = 2
	first := &collector{hold: func(n int) bool {
		if n == 9 {
			cancel() // the process dies with batches 7.. in flight
		}
		return n >= 7
	}}
	s1 := newSource(t, cfg, st, noon, nil)
	if err := s1.Run(ctx, first.emit); !errors.Is(err, context.Canceled) {
		t.Fatalf("the interrupted pass returned %v", err)
	}
	if err := s1.Commit(); err != nil { // the pipeline commits what was acknowledged
		t.Fatal(err)
	}
	committed := map[string]bool{}
	st.ForEachPrefix("gcs-test", daycursor.KeyPrefix, func(k string, _ []byte) error {
		committed["gs://"+bucket+"/"+k[len(daycursor.KeyPrefix):]] = true
		return nil
	})
	st.Close()

	second := &collector{}
	poll(t, newSource(t, cfg, openState(t, dir), noon, nil), second)

	seen := map[string]int{}
	for _, k := range append(first.keys(), second.keys()...) {
		seen[k]++
	}
	for _, k := range all {
		if seen[k] == 0 {
			t.Fatalf("%s lost", k)
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("%d distinct events, want %d", len(seen), len(all))
	}
	// An object recorded as read is never read again; every other object is
	// read again whole, so its entries delivered before the crash repeat.
	repeats := 0
	for _, k := range second.keys() {
		unit := k[:strings.LastIndexByte(k, '@')]
		if committed[unit] {
			t.Fatalf("%s read again though its object was committed", k)
		}
		if seen[k] > 1 {
			repeats++
		}
	}
	if len(committed) == 0 || len(committed) == 8 || len(second.events) == 0 {
		t.Fatalf("%d objects committed, second run %d events: the interruption did not happen mid-way", len(committed), len(second.events))
	}
	t.Logf("first run %d events, %d objects committed; second run %d events, %d of them repeats", len(first.events), len(committed), len(second.events), repeats)
}
