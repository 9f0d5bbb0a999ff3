package awssqs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
)

// BenchmarkMessages measures messages per second through the whole source: a
// receive from the SQS fake, a GET of a small gzip CloudTrail object (10
// records) from gofakes3, decoding, an immediate acknowledgement, and the
// delete; visibility extensions do not happen (the timeout is long).
func BenchmarkMessages(b *testing.B) {
	for _, workers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			e := newEnv(b)
			obj := trail(10, "bench")
			const objects = 64
			for i := range objects {
				e.s3.put(b, fmt.Sprintf("o%d.json.gz", i), obj)
			}
			cfg := e.cfg
			cfg.Workers = workers
			s, err := New(cfg, Settings{Name: "bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			c := &countingSink{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx, c.emit) }()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				e.sqs.Send("notifications", s3Event(fmt.Sprintf("o%d.json.gz", i%objects)))
			}
			for s.MessageStats().Deleted < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(s.Stats().Events)/elapsed.Seconds(), "events/s")
		})
	}
}

// countingSink acknowledges batches at once and keeps nothing.
type countingSink struct{}

func (countingSink) emit(_ context.Context, b *source.Batch) error {
	ack := b.Ack
	source.Release(b)
	ack(nil)
	return nil
}
