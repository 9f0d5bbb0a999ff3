package file_test

import (
	"context"
	"testing"
)

// BenchmarkWrite measures appending 1 KB alerts in batches of 100; SetBytes makes
// the result read as MB/s of alert JSON.
func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct {
		name       string
		flushEvery int // batches between Flush calls (each one an fsync)
	}{
		{"buffered", 0},
		{"flush_every_100_batches", 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := testConfig(b.TempDir())
			cfg.MaxSize = 0
			cfg.Compress = false
			s := newSink(b, cfg, nil)
			batch := recs("bench", 100, 1024)
			ctx := context.Background()
			b.SetBytes(int64(len(batch) * 1025))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := s.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				if bc.flushEvery > 0 && i%bc.flushEvery == 0 {
					if err := s.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
