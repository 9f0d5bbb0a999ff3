package daycursor

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
)

const scope = "src"

// object is what a source like gcs keeps of an object until Commit.
type object struct {
	name       string
	generation int64
}

func (o object) key() string { return o.name }

func openStore(t *testing.T) *checkpoint.Store {
	t.Helper()
	st, err := checkpoint.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func date(s string) time.Time {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// stored returns the source's checkpoint as key -> value.
func stored(t *testing.T, st *checkpoint.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := st.ForEach(scope, func(k string, v []byte) error {
		out[k] = string(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// readDay lists a day whose objects are names, reads them all and reports them done.
func readDay(t *testing.T, tr *Tracker[object], root string, day, now time.Time, names ...string) Day {
	t.Helper()
	d := tr.BeginDay(root, day, root+day.Format("2006/01/02/"), now)
	for _, n := range names {
		if !tr.Start(d, n) {
			t.Fatalf("%s already in flight", n)
		}
	}
	tr.Listed(d)
	for _, n := range names {
		tr.Done(d, object{name: n})
	}
	return d
}

// The on-disk layout is what existing checkpoints hold: k|<name> -> "" for an
// object read, c|<root> -> YYYY-MM-DD for the oldest open day.
func TestCommitWritesTheCheckpointLayout(t *testing.T) {
	st := openStore(t)
	now := date("2024-05-02").Add(12 * time.Hour)
	tr := New(st, scope, time.Hour, object.key)
	if _, err := tr.Cursor("r/", date("2024-05-01")); err != nil {
		t.Fatal(err)
	}
	readDay(t, tr, "r/", date("2024-05-01"), now, "r/2024/05/01/a", "r/2024/05/01/b")
	readDay(t, tr, "r/", date("2024-05-02"), now, "r/2024/05/02/c")
	done, err := tr.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 {
		t.Errorf("Commit returned %v, want the 3 objects", done)
	}
	// 05-01 ended 12 h ago, past the 1 h window: closed, its keys gone. 05-02
	// is today: open.
	want := map[string]string{"c|r/": "2024-05-02", "k|r/2024/05/02/c": ""}
	if got := stored(t, st); !maps.Equal(got, want) {
		t.Errorf("checkpoint %v, want %v", got, want)
	}
	// A restarted source resumes from it.
	again := New(st, scope, time.Hour, object.key)
	first, err := again.Cursor("r/", date("2020-01-01"))
	if err != nil || !first.Equal(date("2024-05-02")) {
		t.Errorf("cursor after restart %v, %v; want 2024-05-02", first, err)
	}
	seen, err := again.Processed("r/2024/05/02/")
	if err != nil || !maps.Equal(seen, map[string]bool{"r/2024/05/02/c": true}) {
		t.Errorf("processed after restart %v, %v", seen, err)
	}
}

func TestDayStaysOpenUntilListedReadAndPastTheWindow(t *testing.T) {
	st := openStore(t)
	day := date("2024-05-01")
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, tr *Tracker[object]) // leaves one day of "r/" and its object "x"
		open bool
	}{
		{"complete", func(t *testing.T, tr *Tracker[object]) {
			readDay(t, tr, "r/", day, day.Add(26*time.Hour), "x")
		}, false},
		{"inside the window", func(t *testing.T, tr *Tracker[object]) {
			readDay(t, tr, "r/", day, day.Add(24*time.Hour+30*time.Minute), "x")
		}, true},
		{"not listed whole", func(t *testing.T, tr *Tracker[object]) {
			d := tr.BeginDay("r/", day, "r/2024/05/01/", day.Add(26*time.Hour))
			tr.Start(d, "x")
			tr.Done(d, object{name: "x"})
		}, true},
		{"object pending", func(t *testing.T, tr *Tracker[object]) {
			d := tr.BeginDay("r/", day, "r/2024/05/01/", day.Add(26*time.Hour))
			tr.Start(d, "x")
			tr.Listed(d)
		}, true},
		{"object failed", func(t *testing.T, tr *Tracker[object]) {
			d := tr.BeginDay("r/", day, "r/2024/05/01/", day.Add(26*time.Hour))
			tr.Start(d, "x")
			tr.Listed(d)
			tr.Failed(d, "x")
		}, true},
		{"object gone", func(t *testing.T, tr *Tracker[object]) {
			d := tr.BeginDay("r/", day, "r/2024/05/01/", day.Add(26*time.Hour))
			tr.Start(d, "x")
			tr.Listed(d)
			tr.Gone(d, "x")
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := "src-" + tc.name
			tr := New(st, sc, time.Hour, object.key)
			if _, err := tr.Cursor("r/", day); err != nil {
				t.Fatal(err)
			}
			tc.run(t, tr)
			if _, err := tr.Commit(); err != nil {
				t.Fatal(err)
			}
			b, found, err := st.Get(sc, CursorPrefix+"r/")
			if err != nil {
				t.Fatal(err)
			}
			if open := !found; open != tc.open {
				t.Errorf("day open = %v (cursor %q), want %v", open, b, tc.open)
			}
		})
	}
}

// A failed object is read again by the next poll, which clears the failure.
func TestFailedObjectIsRetriedAndItsDayClosesAfter(t *testing.T) {
	st := openStore(t)
	day := date("2024-05-01")
	now := day.Add(48 * time.Hour)
	tr := New(st, scope, time.Hour, object.key)
	if _, err := tr.Cursor("r/", day); err != nil {
		t.Fatal(err)
	}
	d := tr.BeginDay("r/", day, "r/2024/05/01/", now)
	tr.Start(d, "r/2024/05/01/x")
	tr.Listed(d)
	tr.Failed(d, "r/2024/05/01/x")
	if _, err := tr.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, st); len(got) != 0 {
		t.Fatalf("after a failure the checkpoint holds %v", got)
	}
	readDay(t, tr, "r/", day, now, "r/2024/05/01/x") // Start must accept it again
	if _, err := tr.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, st); !maps.Equal(got, map[string]string{"c|r/": "2024-05-02"}) {
		t.Errorf("checkpoint %v", got)
	}
}

// An object stays in flight from Start until its Commit, so an overlapping
// poll does not read it twice; after Commit it is known from the store.
func TestStartRefusesObjectsInFlightUntilCommitted(t *testing.T) {
	tr := New(openStore(t), scope, time.Hour, object.key)
	now := date("2024-05-01")
	d := tr.BeginDay("r/", now, "r/", now)
	if !tr.Start(d, "a") || tr.Start(d, "a") {
		t.Fatal("Start: want true then false")
	}
	tr.Done(d, object{name: "a"})
	if tr.Start(d, "a") {
		t.Error("Start accepted an object done but not committed")
	}
	if _, err := tr.Commit(); err != nil {
		t.Fatal(err)
	}
	if !tr.Start(d, "a") {
		t.Error("Start refused a committed object (the poll skips it by Processed)")
	}
}

// The cursor moves over a run of closed days and stops at the first day this
// process has not listed: nothing says that day is empty.
func TestCursorStopsAtADayNotListed(t *testing.T) {
	st := openStore(t)
	now := date("2024-05-10")
	tr := New(st, scope, time.Hour, object.key)
	if _, err := tr.Cursor("r/", date("2024-05-01")); err != nil {
		t.Fatal(err)
	}
	readDay(t, tr, "r/", date("2024-05-01"), now, "r/2024/05/01/a")
	tr.EmptyDay("r/", date("2024-05-02"), "r/2024/05/02/", now)
	readDay(t, tr, "r/", date("2024-05-04"), now, "r/2024/05/04/a") // 05-03 never listed
	if _, err := tr.Commit(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"c|r/": "2024-05-03", "k|r/2024/05/04/a": ""}
	if got := stored(t, st); !maps.Equal(got, want) {
		t.Errorf("checkpoint %v, want %v", got, want)
	}
	tr.EmptyDay("r/", date("2024-05-03"), "r/2024/05/03/", now)
	if _, err := tr.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, st); !maps.Equal(got, map[string]string{"c|r/": "2024-05-05"}) {
		t.Errorf("checkpoint %v, want the cursor past 05-04 and no keys", got)
	}
}

// Roots have their own cursors; closing a day of one leaves the other's keys.
func TestRootsCloseIndependently(t *testing.T) {
	st := openStore(t)
	day := date("2024-05-01")
	tr := New(st, scope, time.Hour, object.key)
	for _, r := range []string{"a/", "b/"} {
		if _, err := tr.Cursor(r, day); err != nil {
			t.Fatal(err)
		}
	}
	readDay(t, tr, "a/", day, day.Add(48*time.Hour), "a/2024/05/01/x")
	d := tr.BeginDay("b/", day, "b/2024/05/01/", day.Add(48*time.Hour))
	tr.Start(d, "b/2024/05/01/x")
	tr.Start(d, "b/2024/05/01/y")
	tr.Listed(d)
	tr.Done(d, object{name: "b/2024/05/01/x"})
	if _, err := tr.Commit(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"c|a/": "2024-05-02", "k|b/2024/05/01/x": ""}
	if got := stored(t, st); !maps.Equal(got, want) {
		t.Errorf("checkpoint %v, want %v", got, want)
	}
}

// A commit that fails moves nothing and keeps what it held for the next one.
func TestFailedCommitKeepsObjectsForTheNextTry(t *testing.T) {
	broken := openStore(t)
	broken.Close()
	day := date("2024-05-01")
	tr := New(broken, scope, time.Hour, object.key)
	if _, err := tr.Cursor("r/", day); err == nil {
		t.Fatal("Cursor on a closed store: no error")
	}
	tr.cursors["r/"] = "2024-05-01"
	readDay(t, tr, "r/", day, day.Add(48*time.Hour), "r/2024/05/01/x")
	if done, err := tr.Commit(); err == nil || done != nil {
		t.Fatalf("Commit on a closed store: %v, %v", done, err)
	}
	if tr.Start(Day{"r/", "2024-05-01"}, "r/2024/05/01/x") {
		t.Error("an object whose commit failed left the in-flight set")
	}
	st := openStore(t)
	tr.state = st
	done, err := tr.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].name != "r/2024/05/01/x" {
		t.Errorf("retried Commit returned %v", done)
	}
	if got := stored(t, st); !maps.Equal(got, map[string]string{"c|r/": "2024-05-02"}) {
		t.Errorf("checkpoint %v", got)
	}
}

// Commit hands back what the source kept of each object, for a safe delete.
func TestCommitReturnsTheSourcesObjects(t *testing.T) {
	tr := New(nil, scope, time.Hour, object.key) // no store: nothing persists
	day := date("2024-05-01")
	d := tr.BeginDay("r/", day, "r/", day)
	tr.Start(d, "x")
	tr.Done(d, object{name: "x", generation: 7})
	done, err := tr.Commit()
	if err != nil || len(done) != 1 || done[0] != (object{name: "x", generation: 7}) {
		t.Errorf("Commit = %v, %v", done, err)
	}
	if done, err := tr.Commit(); err != nil || done != nil {
		t.Errorf("second Commit = %v, %v; want nothing", done, err)
	}
}

func TestCursorDefaultAndBadCursor(t *testing.T) {
	st := openStore(t)
	tr := New(st, scope, time.Hour, object.key)
	if c, err := tr.Cursor("new/", date("2024-05-01")); err != nil || !c.Equal(date("2024-05-01")) {
		t.Errorf("cursor of a new root %v, %v", c, err)
	}
	if err := st.Put(scope, CursorPrefix+"bad/", []byte("yesterday")); err != nil {
		t.Fatal(err)
	}
	_, err := tr.Cursor("bad/", date("2024-05-01"))
	if !errors.Is(err, ErrBadCursor) || err.Error() != `checkpoint of bad/: bad cursor "yesterday"` {
		t.Errorf("bad cursor: %v", err)
	}
}

// Walk lists the days from the cursor to today, skips what Next says is empty
// (recording it, so the cursor can pass) and counts the days.
func TestWalkListsOpenDaysAndRecordsSkippedOnes(t *testing.T) {
	st := openStore(t)
	now := date("2024-05-06").Add(3 * time.Hour)
	tr := New(st, scope, time.Hour, object.key)
	first, err := tr.Cursor("r/", date("2024-05-01"))
	if err != nil {
		t.Fatal(err)
	}
	holding := []time.Time{date("2024-05-01"), date("2024-05-04")} // days with objects
	var listed []string
	var p Progress
	p.Total.Store(99)
	p.Reset()
	err = tr.Walk("r/", first, now, Walk{
		Prefix: func(day time.Time) string { return "r/" + day.Format("2006/01/02/") },
		List: func(day time.Time) error {
			listed = append(listed, day.Format(DateLayout))
			readDay(t, tr, "r/", day, now, "r/"+day.Format("2006/01/02/")+"o")
			return nil
		},
		Next: func(from, last time.Time) (time.Time, error) {
			for _, h := range holding {
				if !h.Before(from) {
					return h, nil
				}
			}
			return last.AddDate(0, 0, 1), nil
		},
	}, &p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2024-05-01", "2024-05-04"}; !slices.Equal(listed, want) {
		t.Errorf("listed %v, want %v", listed, want)
	}
	if p.Done.Load() != 6 || p.Total.Load() != 6 {
		t.Errorf("progress %d/%d, want 6/6", p.Done.Load(), p.Total.Load())
	}
	if _, err := tr.Commit(); err != nil {
		t.Fatal(err)
	}
	// Every day up to 05-05 is closed (05-05 ended 3 h ago); today stays open.
	want := map[string]string{"c|r/": "2024-05-06"}
	if got := stored(t, st); !maps.Equal(got, want) {
		t.Errorf("checkpoint %v, want %v", got, want)
	}
}

func TestWalkStopsAtTheFirstError(t *testing.T) {
	tr := New(nil, scope, time.Hour, object.key)
	boom := errors.New("boom")
	var lists int
	err := tr.Walk("r/", date("2024-05-01"), date("2024-05-03"), Walk{
		Prefix: func(time.Time) string { return "r/" },
		List:   func(time.Time) error { lists++; return boom },
		Next:   func(from, _ time.Time) (time.Time, error) { return from, nil },
	}, &Progress{})
	if !errors.Is(err, boom) || lists != 1 {
		t.Errorf("Walk = %v after %d lists; want boom after 1", err, lists)
	}
}

func TestFirstDay(t *testing.T) {
	if got := FirstDay("2024-02-29", time.Now()); !got.Equal(date("2024-02-29")) {
		t.Errorf("FirstDay(only_logs_after) = %v", got)
	}
	// 23:30 at UTC-5 is the next day in UTC.
	now := time.Date(2024, 5, 1, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
	if got := FirstDay("", now); !got.Equal(date("2024-05-02")) || got.Location() != time.UTC {
		t.Errorf("FirstDay(\"\", %v) = %v, want 2024-05-02 UTC", now, got)
	}
}
