package spool

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sink"
)

// spoolUndelivered writes recs to a spool in dir whose remote is down and closes
// it, so they are all on disk and undelivered.
func spoolUndelivered(t *testing.T, cfg Config, recs []sink.Record) {
	t.Helper()
	r := newRemote()
	r.setHook(down)
	c := cfg
	c.DrainTimeout = 0
	s := open(t, r, c)
	for i := 0; i < len(recs); i += 7 {
		writeFlush(t, s, recs[i:min(i+7, len(recs))])
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(r.ids()) != 0 {
		t.Fatal("the remote that is down received records")
	}
}

// recordsIn returns the offset and size of each record of a segment file.
func recordsIn(t *testing.T, path string) (offs, sizes []int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := newScanner(bytes.NewReader(data), 0, int64(len(data)))
	for {
		p, off, skipped, ok := sc.next()
		if skipped != 0 {
			t.Fatalf("%s is already damaged at %d", path, off)
		}
		if !ok {
			return offs, sizes
		}
		offs = append(offs, off)
		sizes = append(sizes, int64(headerSize+len(p)))
	}
}

func appendTo(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[off] ^= 0x5a
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
}

// lastNonEmptySegment is the newest segment holding records.
func lastNonEmptySegment(t *testing.T, dir string) string {
	t.Helper()
	names, _ := segmentFiles(t, dir)
	for i := len(names) - 1; i >= 0; i-- {
		if info, err := os.Stat(names[i]); err == nil && info.Size() > 0 {
			return names[i]
		}
	}
	t.Fatal("no segment holds records")
	return ""
}

// A crash while writing leaves part of a record at the end of the newest
// segment. It was never flushed, so never acknowledged: recovery cuts it off and
// delivers everything before it.
func TestTornTailIsCut(t *testing.T) {
	extra := alerts("torn", 1, 500)
	whole := appendRecord(nil, &extra[0], 1)
	damagedLast := func(t *testing.T, path string) int64 {
		offs, sizes := recordsIn(t, path)
		last := len(offs) - 1
		flipByte(t, path, offs[last]+sizes[last]-3)
		return sizes[last]
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, path string) int64 // returns the bytes expected to be cut
		lost   int                                   // records of recs expected to be lost
	}{
		{"half a record", func(t *testing.T, path string) int64 {
			appendTo(t, path, whole[:len(whole)/2])
			return int64(len(whole) / 2)
		}, 0},
		{"part of a header", func(t *testing.T, path string) int64 {
			appendTo(t, path, whole[:9])
			return 9
		}, 0},
		{"zeros after a crash of the machine", func(t *testing.T, path string) int64 {
			appendTo(t, path, make([]byte, 4096))
			return 4096
		}, 0},
		// Damage to the very last record cannot be told from a torn write:
		// it is cut too (README: delivery semantics).
		{"last record damaged", damagedLast, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			recs := alerts("r", 30, 400)
			spoolUndelivered(t, cfg, recs)
			path := lastNonEmptySegment(t, dir)
			cut := tt.damage(t, path)

			r := newRemote()
			s := open(t, r, cfg)
			waitDelivered(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			want := idsOf(recs[:len(recs)-tt.lost])
			if got := r.ids(); !slices.Equal(got, want) {
				t.Fatalf("delivered %v, want %v", got, want)
			}
			if st := s.Stats(); st.TornBytes != cut || st.Corrupt != 0 {
				t.Errorf("stats %+v, want TornBytes %d and no corruption", st, cut)
			}
		})
	}
}

// Damage in the middle of a segment loses only the records it hits: delivery
// skips to the next valid record, counts and logs the damage, and keeps the
// segment in corrupt/ for inspection.
func TestDamageInTheMiddleIsSkipped(t *testing.T) {
	tests := []struct {
		name string
		seg  int // which segment (0: the oldest)
		rec  int // which record of it; -1: the last
		at   func(size int64) int64
	}{
		{"payload byte", -1, 2, func(size int64) int64 { return headerSize + 20 }},
		{"magic", -1, 2, func(int64) int64 { return 0 }},
		{"length", -1, 2, func(int64) int64 { return 5 }},
		{"last record of an older segment", 0, -1, func(size int64) int64 { return size - 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			cfg.SegmentBytes = 8 << 10
			recs := alerts("r", 60, 400) // several segments
			spoolUndelivered(t, cfg, recs)
			names, _ := segmentFiles(t, dir)
			path := lastNonEmptySegment(t, dir)
			if tt.seg >= 0 {
				path = names[tt.seg]
			}
			offs, sizes := recordsIn(t, path)
			k := tt.rec
			if k < 0 {
				k = len(offs) - 1
			}
			flipByte(t, path, offs[k]+tt.at(sizes[k]))
			// Which record was hit: count the records in the segments before.
			before := 0
			for _, n := range names {
				if n == path {
					break
				}
				o, _ := recordsIn(t, n)
				before += len(o)
			}
			lostID := recs[before+k].ID

			logs := &logBuffer{}
			r := newRemote()
			s, err := New(r, cfg, Options{Name: "test", Logger: logs.logger()})
			if err != nil {
				t.Fatal(err)
			}
			kept := filepath.Join(dir, corruptDir, filepath.Base(path))
			waitFor(t, "the damaged segment to be kept in corrupt/", func() bool {
				_, err := os.Stat(kept)
				return err == nil
			})
			waitDelivered(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, id := range idsOf(recs) {
				if id != lostID {
					want = append(want, id)
				}
			}
			if got := r.ids(); !slices.Equal(got, want) {
				t.Fatalf("delivered %v, want all but %s: %v", got, lostID, want)
			}
			if st := s.Stats(); st.Corrupt != 1 || st.CorruptBytes != sizes[k] || st.TornBytes != 0 || st.Dropped != 0 {
				t.Errorf("stats %+v, want one damaged region of %d bytes", st, sizes[k])
			}
			if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "damaged data") {
				t.Errorf("the damage was not logged as an error:\n%s", l)
			}
		})
	}
}

// A damaged cursor makes delivery start again at the oldest segment kept:
// repeats, no loss.
func TestDamagedCursorRedelivers(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	r := newRemote()
	s := open(t, r, cfg)
	writeFlush(t, s, alerts("old", 10, 100))
	waitDelivered(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	recs := alerts("new", 10, 100)
	spoolUndelivered(t, cfg, recs)
	flipByte(t, filepath.Join(dir, cursorName), 6)

	r2 := newRemote()
	s2 := open(t, r2, cfg)
	waitDelivered(t, s2)
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	got := r2.ids()
	for _, id := range idsOf(recs) {
		if !slices.Contains(got, id) {
			t.Errorf("%s was not delivered after the cursor was damaged", id)
		}
	}
}

// Records written by one run are delivered by the next, even when the first
// crashed before Close: here it is simply abandoned with its files in place.
func TestUnclosedSpoolIsRecovered(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.SegmentBytes = 4 << 10
	r := newRemote()
	r.setHook(down)
	s := open(t, r, cfg)
	recs := alerts("u", 40, 300)
	writeFlush(t, s, recs)
	// Stop its deliverer and release its lock as a crash would, leaving the
	// files as they are.
	s.cancel()
	<-s.done
	s.w.Close()
	s.lock.Close()

	r2 := newRemote()
	s2 := open(t, r2, cfg)
	if st := s2.Stats(); st.BufferedRecords != int64(len(recs)) {
		t.Errorf("recovered %d records, want %d", st.BufferedRecords, len(recs))
	}
	waitDelivered(t, s2)
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := r2.ids(); !slices.Equal(got, idsOf(recs)) {
		t.Fatalf("delivered %v", got)
	}
}
