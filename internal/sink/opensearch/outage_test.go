package opensearch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/sink"
	"github.com/skywatch-dev/skywatch/internal/sink/opensearch"
)

// The server goes away for a while and comes back on the same address:
// meanwhile every Flush fails (the pipeline keeps the batches
// unacknowledged, and sources deliver some again); afterwards everything
// is indexed, each alert once.
func TestOutageThenRecovery(t *testing.T) {
	f := newFakeES(t, "opensearch")
	addr := f.addr()
	cfg := testConfig(f.url())
	cfg.RetryAttempts = 2
	h := newSink(t, opensearch.OpenSearch, cfg)
	ctx := context.Background()

	batch1, batch2, batch3 := mkAlerts(0, 100, day0), mkAlerts(100, 100, day0), mkAlerts(200, 100, day0)
	h.deliver(t, batch1)

	f.stop()
	if err := h.s.Write(ctx, batch2); err != nil {
		t.Fatal(err)
	}
	err := h.s.Flush(ctx)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("flush with the server gone: %v", err)
	}
	// The pipeline failed batch2; its source delivers it again, and more.
	if err := h.s.Write(ctx, batch2); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Write(ctx, batch3); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Flush(ctx); err == nil {
		t.Fatal("flush succeeded with the server gone")
	}
	st := h.s.Stats()
	if st.Buffered != 200 || st.Coalesced != 100 || st.Failed != 2 || st.Dropped != 0 {
		t.Errorf("stats during the outage %+v", st)
	}

	f.start(addr)
	if err := h.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	all := append(append(append([]sink.Record(nil), batch1...), batch2...), batch3...)
	checkExactlyOnce(t, f, all, true)
	if st := h.s.Stats(); st.Sent != 300 || st.Buffered != 0 {
		t.Errorf("stats after recovery %+v", st)
	}
}

// The server dies while a bulk request is in flight, after it indexed the
// alerts but before it answered; when it is back, the alerts are sent again
// and recognised as already indexed.
func TestServerDiesMidRequest(t *testing.T) {
	f := newFakeES(t, "opensearch")
	addr := f.addr()
	arrived := make(chan struct{}, 1)
	f.afterApply = func() {
		select {
		case arrived <- struct{}{}:
		default:
		}
	}
	f.delayNext, f.delay = 1, time.Minute
	cfg := testConfig(f.url())
	cfg.InstallTemplate = false
	cfg.RetryAttempts = 3
	h := newSink(t, opensearch.OpenSearch, cfg)
	ctx := context.Background()
	recs := mkAlerts(0, 100, day0)
	if err := h.s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.s.Flush(ctx) }()
	<-arrived
	f.stop()
	if err := <-done; err == nil {
		t.Fatal("flush succeeded though the server died before answering")
	}
	f.start(addr)
	if err := h.s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, f, recs, true)
	if st := h.s.Stats(); st.Existing != 100 {
		t.Errorf("stats %+v: the alerts indexed before the crash should come back as existing", st)
	}
}
