package spool

import (
	"context"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// nopSink takes everything and does nothing: the benchmark measures the spool.
type nopSink struct{}

func (nopSink) Write(context.Context, []sink.Record) error { return nil }
func (nopSink) Flush(context.Context) error                { return nil }
func (nopSink) Close() error                               { return nil }

// BenchmarkSpool pushes 1 KB alerts through the spool to an output that does
// nothing, in Writes of 500, with Flush every flushEvery Writes (the pipeline
// flushes every 200 ms or 16 MiB), until all are delivered. It reports
// records/s end to end (appended, fsynced, read back, delivered, cursor saved).
func BenchmarkSpool(b *testing.B) {
	for _, bc := range []struct {
		name       string
		flushEvery int
	}{{"flush_every_500", 1}, {"flush_every_8000", 16}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Batch = 500
			recs := alerts("bench", 500, 1024)
			bytesPer := 0
			for i := range recs {
				bytesPer += len(recs[i].JSON)
			}
			b.SetBytes(int64(bytesPer))
			cfg.Dir = config.Path(b.TempDir())
			s := open(b, nopSink{}, cfg)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Write(ctx, recs); err != nil {
					b.Fatal(err)
				}
				if i%bc.flushEvery == bc.flushEvery-1 {
					if err := s.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			waitDelivered(b, s)
			b.StopTimer()
			b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
