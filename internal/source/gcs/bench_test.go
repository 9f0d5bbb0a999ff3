package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// BenchmarkLoggingExport reads a bucket of Cloud Logging export objects (2000
// audit entries each, half of them gzip-encoded) through the source and the
// real client from fake-gcs-server, at two bucket sizes. It reports events/s,
// and the peak heap above what the fake's own copy of the bucket holds: that
// figure stays the same when the bucket grows tenfold.
func BenchmarkLoggingExport(b *testing.B) {
	for _, objects := range []int{10, 100} {
		b.Run(fmt.Sprintf("objects=%d", objects), func(b *testing.B) {
			f := newFakeGCS(b)
			for i := 0; i < objects; i++ {
				enc := ""
				if i%2 == 1 {
					enc = "gzip"
				}
				f.put(hourFile(activity, fmt.Sprintf("2024/05/%02d", 1+i/24), i%24, "S0"), entries(2000, fmt.Sprint(i)), enc)
			}
			now := time.Date(2024, 5, 1+objects/24, 23, 0, 0, 0, time.UTC)
			pass := func() {
				s := newSource(b, testConfig(LoggingExport), openState(b, b.TempDir()), now, nil)
				n := atomic.Int64{}
				err := s.Run(context.Background(), func(_ context.Context, bt *source.Batch) error {
					n.Add(int64(len(bt.Events)))
					bt.Ack(nil)
					source.Release(bt)
					return nil
				})
				if err == nil {
					err = s.Commit()
				}
				if err != nil || n.Load() != int64(objects*2000) {
					b.Fatalf("%d events, %v", n.Load(), err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pass()
			}
			b.StopTimer()
			b.ReportMetric(float64(objects*2000*b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(liveHeapDuring(pass))/(1<<20), "live-heap-MB")
		})
	}
}

// liveHeapDuring runs fn once and returns the largest live heap (measured after
// a collection, every few milliseconds) above the live heap before it: the
// memory the source holds while reading, without the fake's copy of the bucket
// and without garbage not yet collected.
func liveHeapDuring(fn func()) uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.GC()
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// BenchmarkAccessLogRows measures the CSV-to-event conversion alone.
func BenchmarkAccessLogRows(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(usageHeader + "\n")
	for i := 0; i < 10000; i++ {
		sb.WriteString(usageRow(fmt.Sprint(i), "192.0.2.1", "Mozilla/5.0 (X11; Linux x86_64) gsutil/5.27") + "\n")
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := newAccessLogReader(strings.NewReader(text), 0)
		for {
			_, _, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "rows/s")
}
