package azureblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// bigBlobs puts three blobs of 1200 JSON lines each (three batches per blob).
func bigBlobs(t *testing.T) (string, []string) {
	cname, c := newContainer(t)
	var all []string
	for b := 0; b < 3; b++ {
		put(t, c, cname, fmt.Sprintf("r/y=2024/m=05/d=03/h=%02d/m=00/PT1H.json", b), jsonLines(b*1200, (b+1)*1200))
		all = append(all, wants(b*1200, (b+1)*1200)...)
	}
	return cname, all
}

// TestRestartMidway kills a pass while batches are unacknowledged (their
// alerts never made durable) and starts a new source on the same checkpoint:
// together the two runs deliver every record exactly once.
func TestRestartMidway(t *testing.T) {
	cname, all := bigBlobs(t)
	dir := t.TempDir()
	st := openStore(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	col := &collector{hold: func(n int) bool {
		if n == 6 {
			cancel() // the process dies with batches 4.. in flight
		}
		return n >= 4
	}}
	s1 := newSource(t, baseConfig(cname), st, nil)
	if err := s1.Run(ctx, col.emit); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled pass returned %v", err)
	}
	if err := s1.Commit(); err != nil { // the pipeline commits after acknowledgements
		t.Fatal(err)
	}
	first := logs(col.take())
	// Three batches were acknowledged: 1200 to 1500 events, depending on how
	// the blobs' batches (500, 500, 200 each) interleaved across workers.
	if len(first) < 1200 || len(first) > 1500 {
		t.Fatalf("first run delivered %d events, want the 3 batches acknowledged", len(first))
	}
	s2 := newSource(t, baseConfig(cname), st, nil)
	second := logs(runPass(t, s2, &collector{}))
	got := append(first, second...)
	if len(got) != len(all) || !slices.Equal(sorted(got), sorted(all)) {
		t.Fatalf("delivered %d events (%d + %d), want each of %d exactly once", len(got), len(first), len(second), len(all))
	}
}

// TestFailedBatchIsReadAgain: a batch acknowledged with an error (an output
// refused it) leaves its blob at the last good batch; the next pass reads on
// from there, so the refused records come again and nothing else does.
func TestFailedBatchIsReadAgain(t *testing.T) {
	cname, c := newContainer(t)
	put(t, c, cname, "r/y=2024/m=05/d=03/h=00/m=00/PT1H.json", jsonLines(0, 1200))
	st := openStore(t, t.TempDir())
	s := newSource(t, baseConfig(cname), st, nil)
	var got []string
	failing := func(_ context.Context, b *source.Batch) error {
		if len(got) == 500 && b.Events[0].Origin.Offset > 0 && len(b.Events) == 500 {
			b.Ack(errors.New("output refused"))
			got = append(got, "") // mark: refused once
			return nil
		}
		for _, e := range b.Events {
			got = append(got, string(e.Log))
		}
		b.Ack(nil)
		return nil
	}
	if err := s.Run(context.Background(), failing); err != nil {
		t.Fatal(err)
	}
	got = slices.DeleteFunc(got, func(s string) bool { return s == "" })
	second := logs(runPass(t, s, &collector{}))
	// Batch 2 (records 500-999) was refused; batch 3 (1000-1199) was delivered
	// but lies after the gap, so it comes again: at-least-once, as documented.
	if w := append(wants(0, 500), wants(1000, 1200)...); !slices.Equal(got, w) {
		t.Fatalf("first pass delivered %d events", len(got))
	}
	if w := wants(500, 1200); !slices.Equal(second, w) {
		t.Fatalf("second pass delivered %d events, want records 500-1199", len(second))
	}
}

// faultProxy sits between the client and Azurite and breaks things on demand.
type faultProxy struct {
	mu sync.Mutex
	// cutDownloads: this many blob downloads are cut after half their body.
	cutDownloads int
	// failLists: this many listings answer 503.
	failLists int
	upstream  *url.URL
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	isList := r.URL.Query().Get("comp") == "list"
	isGet := r.Method == http.MethodGet && !isList && r.URL.Query().Get("comp") == ""
	fail := isList && p.failLists > 0
	cut := isGet && p.cutDownloads > 0
	if fail {
		p.failLists--
	}
	if cut {
		p.cutDownloads--
	}
	p.mu.Unlock()
	if fail {
		w.Header().Set("x-ms-error-code", "ServerBusy")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.RequestURI = p.upstream.Scheme, p.upstream.Host, ""
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	if !cut {
		_, _ = io.Copy(w, resp.Body)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	_, _ = w.Write(body[:len(body)/2])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler) // the connection drops mid-body
}

// TestFaults: downloads cut mid-body and listings failing with 503 still give
// every record exactly once; failures past the retries fail the pass, and the
// next pass recovers.
func TestFaults(t *testing.T) {
	cname, all := bigBlobs(t)
	up, _ := url.Parse(azuriteEndpoint(t))
	fp := &faultProxy{upstream: up, cutDownloads: 3, failLists: 1}
	srv := httptest.NewServer(fp)
	defer srv.Close()
	cfg := baseConfig(cname)
	cfg.Endpoint = srv.URL + "/" + devAccount
	st := openStore(t, t.TempDir())
	s := newSource(t, cfg, st, nil)
	got := logs(runPass(t, s, &collector{}))
	if !slices.Equal(sorted(got), sorted(all)) {
		t.Fatalf("with cut downloads: %d events, want %d exactly once", len(got), len(all))
	}
	// Listing down for longer than the retries: the pass fails, nothing lost.
	cname2, c2 := newContainer(t)
	put(t, c2, cname2, "x/a.json", jsonLines(0, 3))
	cfg.Container = cname2
	fp.mu.Lock()
	fp.failLists = 100
	fp.mu.Unlock()
	s = newSource(t, cfg, st, nil)
	if err := s.Run(context.Background(), (&collector{}).emit); err == nil || !strings.Contains(err.Error(), cname2) {
		t.Fatalf("pass with listing down returned %v", err)
	}
	fp.mu.Lock()
	fp.failLists = 0
	fp.mu.Unlock()
	if got := logs(runPass(t, s, &collector{})); !slices.Equal(got, wants(0, 3)) {
		t.Fatalf("after recovery: %q", got)
	}
}
