package gcppubsub

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// benchData returns the wazuh-oracle set's audit log entries, the messages
// the benchmarks publish (round robin).
func benchData(b *testing.B) [][]byte {
	var data [][]byte
	for _, c := range loadOracleTB(b) {
		data = append(data, c.data)
	}
	return data
}

// matching is a pipeline stand-in: two workers (the machine's cores), each
// with its own Matcher over the built-in ruleset, match every event of a
// batch and acknowledge it at once (no output).
type matching struct {
	batches chan *source.Batch
	matched atomic.Int64
	wg      sync.WaitGroup
}

func newMatching(b *testing.B, workers int) *matching { return newMatchingOpt(b, workers, true) }

func newMatchingOpt(b *testing.B, workers int, match bool) *matching {
	rs, err := wazuhxml.Load([]string{wazuhxml.BuiltinName}, rules.Options{ManagerName: "mgr"}, ruleset.FS())
	if err != nil {
		b.Fatal(err)
	}
	eng := rules.NewEngine(rs, rules.EngineOptions{})
	m := &matching{batches: make(chan *source.Batch, 64)}
	for range workers {
		mt := eng.NewMatcher()
		m.wg.Go(func() {
			for bt := range m.batches {
				for i := range bt.Events {
					if match {
						mt.Process(&bt.Events[i])
					}
				}
				m.matched.Add(int64(len(bt.Events)))
				ack := bt.Ack
				source.Release(bt)
				ack(nil)
			}
		})
	}
	return m
}

func (m *matching) emit(ctx context.Context, b *source.Batch) error {
	select {
	case m.batches <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *matching) close() { close(m.batches); m.wg.Wait() }

// BenchmarkPstestCeiling is pstest's own ceiling: a bare Receive that
// acknowledges each message at once, with as many streams as the source uses.
// pstest hands each stream one message per 10 ms delivery round, so its rate
// grows with the streams; Google's service sends many per response.
func BenchmarkPstestCeiling(b *testing.B) {
	data := benchData(b)
	for _, streams := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			e := newEnv(b)
			for i := range b.N {
				e.publish("logs", data[i%len(data)])
			}
			conn, err := grpc.NewClient(e.srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			client, err := pubsub.NewClient(context.Background(), project, option.WithGRPCConn(conn))
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			sub := client.Subscriber("logs-sub")
			sub.ReceiveSettings.NumGoroutines, sub.ReceiveSettings.MaxOutstandingMessages = streams, 10000
			var n atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			b.ResetTimer()
			start := time.Now()
			go func() {
				for n.Load() < int64(b.N) {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			_ = sub.Receive(ctx, func(_ context.Context, m *pubsub.Message) { m.Ack(); n.Add(1) })
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// BenchmarkSourceThroughPstest measures the whole source against pstest:
// streaming pull, events, batches, matching with the built-in ruleset on two
// workers, acknowledgement. Compare with BenchmarkPstestCeiling.
func BenchmarkSourceThroughPstest(b *testing.B) {
	data := benchData(b)
	for _, streams := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			e := newEnv(b)
			for i := range b.N {
				e.publish("logs", data[i%len(data)])
			}
			m := newMatching(b, 2)
			defer m.close()
			cfg := e.config()
			cfg.Streams, cfg.BatchLinger = streams, config.Duration(50*time.Millisecond)
			s := e.newSource(b, cfg, e.settings(nil))
			ctx, cancel := context.WithCancel(context.Background())
			b.ResetTimer()
			start := time.Now()
			wait := run(ctx, s, m.emit)
			for s.MessageStats().Acked < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			cancel()
			_ = wait()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkSourceCeiling measures the source past the network: messages as
// the client hands them to the receive callback (many at once, as Receive
// does), through events, batches and the built-in ruleset on two workers, to
// their acknowledgement; rules=none leaves the matching out, to show the
// source's own cost.
func BenchmarkSourceCeiling(b *testing.B) {
	b.Run("rules=builtin", func(b *testing.B) { sourceCeiling(b, true) })
	b.Run("rules=none", func(b *testing.B) { sourceCeiling(b, false) })
}

func sourceCeiling(b *testing.B, match bool) {
	data := benchData(b)
	m := newMatchingOpt(b, 2, match)
	defer m.close()
	cfg := DefaultConfig()
	cfg.GCP.ProjectID, cfg.Subscription = project, "logs-sub"
	s, err := New(cfg, Settings{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	bt := &batcher{ctx: ctx, emit: m.emit, size: cfg.BatchSize, linger: cfg.BatchLinger.Std(), src: s}
	never := make(chan struct{})
	const callbacks = 2000 // messages in flight, as max_outstanding_messages allows
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range callbacks {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				msg := &pubsub.Message{ID: fmt.Sprint(i), Data: data[i%int64(len(data))], PublishTime: start}
				s.handle("projects/test-project/subscriptions/logs-sub", msg, bt, never)
			}
		})
	}
	wg.Wait()
	bt.flushAll()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
