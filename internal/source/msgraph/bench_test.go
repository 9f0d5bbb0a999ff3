package msgraph

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// BenchmarkPass reads 5000 sign-ins through the fake Graph (TLS, 5 pages of
// 1000) with a fresh source each time: requests, page decoding, shaping and
// batching. It reports events per second.
func BenchmarkPass(b *testing.B) {
	f := newFakes(b)
	f.cfg.PageSize = 1000
	f.cfg.Resources = []Resource{{Resource: "auditLogs/signIns"}}
	const n = 5000
	f.graph.Put("auditLogs/signIns", signIns("s", n, day.Add(time.Hour), 100*time.Millisecond)...)
	emit := func(_ context.Context, bt *source.Batch) error { bt.Ack(nil); return nil }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := mustNew(b, f.cfg, f.settings("graph", nil, &clock{t: noon}, nil, nil))
		if err := s.Run(context.Background(), emit); err != nil {
			b.Fatal(err)
		}
		if got := s.Stats().Events; got != n {
			b.Fatalf("%d events", got)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkShape is the per-record cost alone, in both shapes.
func BenchmarkShape(b *testing.B) {
	rec := signIn("s-1", day, "user@contoso.com", "131.107.2.10", 50126)
	for _, format := range []string{FormatAzureADGraph, FormatMSGraph} {
		b.Run(format, func(b *testing.B) {
			sh := newShaper(Resource{Resource: "auditLogs/signIns", TimeField: "createdDateTime", Format: format, Tag: "t"})
			var buf bytes.Buffer
			b.SetBytes(int64(len(rec)))
			for i := 0; i < b.N; i++ {
				buf.Reset()
				if _, err := sh.shape(&buf, rec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
