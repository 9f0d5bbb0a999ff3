package gcs

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/source/daycursor"
)

func TestTruncatedGzipKeepsWhatCameBefore(t *testing.T) {
	f := newFakeGCS(t)
	good := gzipped(entries(400, "t"))
	f.put(hourFile(activity, "2024/05/01", 1, "S0")+".gz", good[:len(good)/2], "")
	f.put(hourFile(activity, "2024/05/01", 2, "S0"), entries(2, "ok"), "gzip")
	st := openState(t, t.TempDir())
	var logs syncBuffer
	c := &collector{}
	s := newSource(t, testConfig(LoggingExport), st, noon, &logs)
	poll(t, s, c)
	if n := c.count("_S0.json.gz"); n == 0 || n >= 400 {
		t.Fatalf("truncated object gave %d events, want the entries before the break", n)
	}
	if c.count("02:59:59_S0.json") != 2 {
		t.Fatal("the good object lost events")
	}
	if s.Stats().Errors == 0 || !strings.Contains(logs.String(), "01:59:59_S0.json.gz") {
		t.Fatalf("the truncated object was not counted and named: %+v\n%s", s.Stats(), logs.String())
	}
	// A new read cannot repair the object: it is not read again.
	c2 := &collector{}
	poll(t, newSource(t, testConfig(LoggingExport), st, noon, nil), c2)
	if len(c2.events) != 0 {
		t.Fatalf("read %d events again", len(c2.events))
	}
}

func TestBrokenLineIsNamedAndTheRestDelivered(t *testing.T) {
	f := newFakeGCS(t)
	body := string(entries(2, "a")) + `{"insertId":"broken",` + "\n" + "[1,2]\n" + string(entries(3, "b"))
	name := hourFile(activity, "2024/05/01", 1, "S0")
	f.put(name, []byte(body), "gzip")
	var logs syncBuffer
	c := &collector{}
	s := newSource(t, testConfig(LoggingExport), openState(t, t.TempDir()), noon, &logs)
	poll(t, s, c)
	if len(c.events) != 5 {
		t.Fatalf("%d events, want the 5 good lines", len(c.events))
	}
	if s.Stats().Errors != 2 {
		t.Fatalf("errors %d, want the 2 bad lines", s.Stats().Errors)
	}
	if l := logs.String(); !strings.Contains(l, name) || !strings.Contains(l, "line 3") || !strings.Contains(l, "count=2") {
		t.Fatalf("the log does not name the object, the line and the count:\n%s", l)
	}
}

func TestObjectDeletedBetweenListAndRead(t *testing.T) {
	f := newFakeGCS(t)
	gone := hourFile(activity, "2024/05/01", 1, "S0")
	f.put(gone, entries(2, "gone"), "")
	f.put(hourFile(activity, "2024/05/01", 2, "S0"), entries(3, "ok"), "")
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if isGet(r, "01%3A59%3A59_S0.json") || isGet(r, "01:59:59_S0.json") {
			f.remove(gone) // another reader or a lifecycle rule got there first
		}
		return false
	})
	st := openState(t, t.TempDir())
	c := &collector{}
	s := newSource(t, testConfig(LoggingExport), st, noon.AddDate(0, 0, 1), nil)
	poll(t, s, c)
	if len(c.events) != 3 || s.Stats().Skipped != 1 || s.Stats().Errors != 0 {
		t.Fatalf("%d events, stats %+v; want the other object's 3 and one skipped", len(c.events), s.Stats())
	}
	// The day still closes: the vanished object does not hold it open.
	if b, _, _ := st.Get("gcs-test", daycursor.CursorPrefix+activity); string(b) != "2024-05-02" {
		t.Fatalf("cursor %q, want 2024-05-02", b)
	}
}

func TestServerErrorsAndBrokenDownloadsAreRetriedWithoutLossOrRepeats(t *testing.T) {
	f := newFakeGCS(t)
	name := hourFile(activity, "2024/05/01", 1, "S0")
	f.put(name, entries(3000, "big"), "")
	f.put(hourFile(activity, "2024/05/01", 2, "S0"), entries(5000, "gz"), "gzip")
	var calls atomic.Int64
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		// Ranged reads (the client resuming a broken download itself) are
		// served by the fake, which honours Range.
		if r.Method != http.MethodGet || strings.HasPrefix(r.URL.Path, "/storage/") || r.Header.Get("Range") != "" {
			return false
		}
		switch calls.Add(1) {
		case 1, 2: // the server fails, then throttles
			code := http.StatusServiceUnavailable
			if calls.Load() == 2 {
				code = http.StatusTooManyRequests
			}
			http.Error(w, "backend error", code)
			return true
		case 3, 4: // the connection drops in the middle of the object
			f.serve(&cutWriter{ResponseWriter: w, left: 20 << 10}, r)
			return true
		}
		return false
	})
	st := openState(t, t.TempDir())
	c := &collector{}
	var logs syncBuffer
	s := newSource(t, testConfig(LoggingExport), st, noon, &logs)
	poll(t, s, c)
	keys := c.keys()
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			t.Fatalf("%s delivered twice", keys[i])
		}
	}
	if len(c.events) != 8000 {
		t.Fatalf("%d events (%d of the gzip object), want all 8000; stats %+v\n%s", len(c.events), c.count("02:59:59_S0.json"), s.Stats(), logs.String())
	}
	// Two failed downloads, two broken ones, and at least one resumed or
	// repeated read of each broken object.
	if n := f.gets.Load(); calls.Load() < 4 || n < 6 {
		t.Fatalf("%d downloads (%d whole); the faults were not all met", n, calls.Load())
	}
}

func TestListingFailureEndsThePollAndTheNextOneReadsAll(t *testing.T) {
	f := newFakeGCS(t)
	f.put(hourFile(activity, "2024/05/01", 1, "S0"), entries(2, "a"), "")
	down := true
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if down && strings.HasSuffix(r.URL.Path, "/o") {
			http.Error(w, "backend error", http.StatusInternalServerError)
			return true
		}
		return false
	})
	st := openState(t, t.TempDir())
	s := newSource(t, testConfig(LoggingExport), st, noon, nil)
	err := s.Run(context.Background(), (&collector{}).emit)
	if err == nil || !strings.Contains(err.Error(), "gs://"+bucket) {
		t.Fatalf("Run with the listing down: %v", err)
	}
	down = false
	c := &collector{}
	poll(t, s, c)
	if len(c.events) != 2 {
		t.Fatalf("%d events after recovery, want 2", len(c.events))
	}
}

// The credentials file's key never appears in logs or errors, whatever fails.
func TestSecretsStayOutOfLogsAndErrors(t *testing.T) {
	f := newFakeGCS(t)
	f.put(hourFile(activity, "2024/05/01", 1, "S0"), entries(2, "a"), "")
	const secret = "secretkeymaterialXYZ"
	dir := t.TempDir()
	good := filepath.Join(dir, "sa.json")
	os.WriteFile(good, []byte(`{"type":"service_account","project_id":"p","client_email":"r@p.iam.gserviceaccount.com","private_key_id":"k1","private_key":"-----BEGIN PRIVATE KEY-----\n`+secret+`\n-----END PRIVATE KEY-----\n"}`), 0o600)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`private_key: `+secret), 0o600)

	cfg := testConfig(LoggingExport)
	cfg.GCP.CredentialsFile = config.Path(bad)
	_, err := New(context.Background(), cfg, Settings{Name: "x"})
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("bad credentials file: %v", err)
	}

	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, `{"error":{"code":403,"message":"r@p.iam.gserviceaccount.com does not have storage.objects.list access"}}`, http.StatusForbidden)
		return true
	})
	cfg.GCP.CredentialsFile = config.Path(good)
	var logs syncBuffer
	s := newSource(t, cfg, openState(t, dir), noon, &logs)
	err = s.Run(context.Background(), (&collector{}).emit)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("Run refused by the server: %v", err)
	}
	if strings.Contains(err.Error()+logs.String(), secret) || strings.Contains(err.Error()+logs.String(), "PRIVATE KEY") {
		t.Fatalf("the key leaked:\n%v\n%s", err, logs.String())
	}
}

// cutWriter passes a response through until left bytes of body are written,
// then breaks the connection, as a network failure mid-download does.
type cutWriter struct {
	http.ResponseWriter
	left int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.ErrClosedPipe
	}
	if len(p) <= c.left {
		c.left -= len(p)
		return c.ResponseWriter.Write(p)
	}
	n, _ := c.ResponseWriter.Write(p[:c.left])
	c.left = 0
	c.ResponseWriter.(http.Flusher).Flush()
	if conn, _, err := c.ResponseWriter.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
	return n, io.ErrClosedPipe
}
