package azureblob

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// peakHeap samples the heap in use while fn runs.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// BenchmarkIngest reads a container of json_file blobs ({"records":[...]} of
// 1000 diagnostic records each) from Azurite, whole, per iteration: events/s
// and peak heap for two container sizes show the rate and that memory does not
// grow with the container. "rules" also matches every event against the
// built-in ruleset, with one matcher per core as the pipeline's workers.
func BenchmarkIngest(b *testing.B) {
	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, rules.Options{}, ruleset.FS())
	if err != nil {
		b.Fatal(err)
	}
	for _, blobs := range []int{10, 100} {
		cname, c := newContainer(b)
		for i := 0; i < blobs; i++ {
			put(b, c, cname, fmt.Sprintf("r/y=2024/m=05/d=03/h=%02d/m=%02d/PT1H.json", i/60, i%60), recordsDoc(i*1000, (i+1)*1000))
		}
		for _, withRules := range []bool{false, true} {
			name := fmt.Sprintf("blobs=%d/source", blobs)
			if withRules {
				name = fmt.Sprintf("blobs=%d/rules", blobs)
			}
			b.Run(name, func(b *testing.B) {
				// One matcher per core, as the pipeline has one per worker.
				var matchers chan *rules.Matcher
				if withRules {
					eng := rules.NewEngine(rs, rules.EngineOptions{})
					matchers = make(chan *rules.Matcher, runtime.GOMAXPROCS(0))
					for range cap(matchers) {
						matchers <- eng.NewMatcher()
					}
				}
				var n atomic.Int64
				emit := func(_ context.Context, bt *source.Batch) error {
					n.Add(int64(len(bt.Events)))
					if matchers != nil {
						m := <-matchers
						for i := range bt.Events {
							m.Process(&bt.Events[i])
						}
						matchers <- m
					}
					bt.Ack(nil)
					source.Release(bt)
					return nil
				}
				var peak uint64
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					cfg := baseConfig(cname)
					s := newSource(b, cfg, openStore(b, b.TempDir()), nil)
					s.pageSize = 1000
					runtime.GC()
					b.StartTimer()
					p := peakHeap(func() {
						if err := s.Run(context.Background(), emit); err != nil {
							b.Fatal(err)
						}
					})
					peak = max(peak, p)
				}
				el := time.Since(start)
				if got := n.Load(); got != int64(b.N*blobs*1000) {
					b.Fatalf("read %d events, want %d", got, b.N*blobs*1000)
				}
				b.ReportMetric(float64(n.Load())/el.Seconds(), "events/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			})
		}
	}
}

// BenchmarkParseRecords is the reader alone (no storage service): one
// {"records":[...]} document of 10000 records, decoded and written as Wazuh's
// events.
func BenchmarkParseRecords(b *testing.B) {
	doc := recordsDoc(0, 10000)
	s := &Source{name: "b", cfg: Config{ContentType: JSONFile, Tag: "t1"}, log: slog.New(slog.DiscardHandler), now: time.Now, maxRec: 16 << 20, track: newTracker()}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	var n int
	for i := 0; i < b.N; i++ {
		r := &blobRead{s: s, unit: "c/b"}
		r.emit = func(_ context.Context, bt *source.Batch) error {
			n += len(bt.Events)
			bt.Ack(nil)
			source.Release(bt)
			return nil
		}
		if err := r.parse(context.Background(), bytes.NewReader(doc), 0); err != nil {
			b.Fatal(err)
		}
		_ = r.flush(context.Background())
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
