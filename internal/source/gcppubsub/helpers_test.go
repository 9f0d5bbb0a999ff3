package gcppubsub

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
)

const project = "test-project"

// env is pstest on 127.0.0.1 with a topic and a subscription, and a client to
// administer them.
type env struct {
	srv    *pstest.Server
	admin  *pubsub.Client
	logs   *syncBuffer
	logger *slog.Logger
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv := pstest.NewServerWithAddress("127.0.0.1:0")
	t.Cleanup(func() { _ = srv.Close() })
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pubsub.NewClient(context.Background(), project, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(); _ = conn.Close() })
	e := &env{srv: srv, admin: admin, logs: &syncBuffer{}}
	e.logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.topic(t, "logs")
	e.subscription(t, "logs-sub", "logs", nil)
	return e
}

func (e *env) topic(t testing.TB, id string) {
	t.Helper()
	if _, err := e.admin.TopicAdminClient.CreateTopic(context.Background(),
		&pubsubpb.Topic{Name: "projects/" + project + "/topics/" + id}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) subscription(t testing.TB, id, topic string, mod func(*pubsubpb.Subscription)) {
	t.Helper()
	s := &pubsubpb.Subscription{Name: "projects/" + project + "/subscriptions/" + id,
		Topic: "projects/" + project + "/topics/" + topic, AckDeadlineSeconds: 10}
	if mod != nil {
		mod(s)
	}
	if _, err := e.admin.SubscriptionAdminClient.CreateSubscription(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// publish injects messages on the server side and returns their IDs.
func (e *env) publish(topic string, data ...[]byte) []string {
	var ids []string
	for _, d := range data {
		ids = append(ids, e.srv.Publish("projects/"+project+"/topics/"+topic, d, nil))
	}
	return ids
}

// config returns a configuration for the test subscription.
func (e *env) config() Config {
	c := DefaultConfig()
	c.GCP.ProjectID = project
	c.Subscription = "logs-sub"
	c.Streams = 2
	c.BatchLinger = config.Duration(5 * time.Millisecond)
	return c
}

// settings returns settings that reach the server over a connection of the
// source's own; dialer, when set, makes the connections.
func (e *env) settings(dialer *dialer) Settings {
	opts := []option.ClientOption{option.WithEndpoint(e.srv.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithGRPCConnectionPool(1)}
	if dialer != nil {
		opts = append(opts, option.WithGRPCDialOption(grpc.WithContextDialer(dialer.dial)))
	}
	return Settings{Name: "gcp", Logger: e.logger, AgentName: "manager", ClientOptions: opts,
		ShutdownGrace: 200 * time.Millisecond, OnceIdle: 500 * time.Millisecond}
}

func (e *env) newSource(t testing.TB, cfg Config, s Settings) *Source {
	t.Helper()
	src, err := New(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// messages returns the server's record of the messages published to topic.
func (e *env) messages(topic string) map[string]*pstest.Message {
	out := map[string]*pstest.Message{}
	for _, m := range e.srv.Messages() {
		if m.Topic == "projects/"+project+"/topics/"+topic {
			out[m.ID] = m
		}
	}
	return out
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dialer makes the source's connections and can cut them all, as a crash of
// the process would.
type dialer struct {
	mu    sync.Mutex
	conns []net.Conn
	dead  bool
}

func (d *dialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		return nil, fmt.Errorf("dialer: the process is gone")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *dialer) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dead = true
	for _, c := range d.conns {
		_ = c.Close()
	}
}

// got is one event the sink received.
type got struct {
	log  string
	ev   event.Event
	unit string
}

// sink records events and decides each batch's fate: decide returns the error
// to acknowledge with, or hold to keep the acknowledgement for later.
type sink struct {
	mu     sync.Mutex
	events []got
	held   []func(error)
	decide func(evs []event.Event) (err error, hold bool)
}

func (s *sink) emit(_ context.Context, b *source.Batch) error {
	evs := make([]event.Event, len(b.Events))
	s.mu.Lock()
	for i, ev := range b.Events {
		ev.Log = bytes.Clone(ev.Log)
		evs[i] = ev
		s.events = append(s.events, got{log: string(ev.Log), ev: ev, unit: ev.Origin.Unit})
	}
	ack := b.Ack
	var err error
	hold := false
	if s.decide != nil {
		err, hold = s.decide(evs)
	}
	if hold {
		s.held = append(s.held, ack)
	}
	s.mu.Unlock()
	source.Release(b)
	if !hold {
		go ack(err) // as the pipeline does, from another goroutine
	}
	return nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func (s *sink) all() []got {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]got(nil), s.events...)
}

// release acknowledges the held batches with err.
func (s *sink) release(err error) {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for _, ack := range held {
		ack(err)
	}
}

// byUnit counts events per message.
func byUnit(gs []got) map[string]int {
	out := map[string]int{}
	for _, g := range gs {
		out[g.unit]++
	}
	return out
}

func unitOf(sub, id string) string {
	return "projects/" + project + "/subscriptions/" + sub + "/messages/" + id
}

// run starts the source and returns a function that waits for Run's result.
func run(ctx context.Context, s *Source, emit source.Emit) func() error {
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, emit) }()
	return func() error { return <-done }
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
