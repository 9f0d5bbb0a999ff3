package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/skywatch-dev/skywatch/internal/api"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/store"
)

// APIConfig decodes the api section of cfg.
func APIConfig(cfg *config.Config) (api.Config, error) {
	c := api.DefaultConfig()
	if err := cfg.API.Decode(&c); err != nil {
		return c, err
	}
	return c, nil
}

// TokensPath is where the API tokens of cfg are kept, for the token commands.
func TokensPath(cfg *config.Config) (string, error) {
	c := api.DefaultConfig()
	if cfg.API.Node != nil {
		// Decode without Validate's requirement of listen: token commands work
		// before the API is turned on.
		var err error
		if c, err = APIConfig(cfg); err != nil && c.TokensFile == "" {
			return "", err
		}
	}
	return c.TokensPath(cfg.DataDir), nil
}

// errNoStore answers the alert routes when no store output is configured.
var errNoStore = errors.New("no store output is configured: alerts are not kept for search")

// apiBackend puts the service's current generation behind the API's interfaces,
// so the API keeps serving across reloads and always sees the running rules.
type apiBackend struct {
	sv *service

	mu     sync.Mutex
	ltRS   *rules.Ruleset
	ltM    *rules.Matcher
	ltName string
}

func (b *apiBackend) store() (*store.Store, error) {
	g := b.sv.cur.Load()
	if g == nil || g.store == nil {
		return nil, errNoStore
	}
	return g.store, nil
}

// Get returns one alert.
func (b *apiBackend) Get(ctx context.Context, id string) (json.RawMessage, error) {
	st, err := b.store()
	if err != nil {
		return nil, err
	}
	return st.Get(ctx, id)
}

// Search runs an alert search.
func (b *apiBackend) Search(ctx context.Context, q store.Query) (store.Page, error) {
	st, err := b.store()
	if err != nil {
		return store.Page{}, err
	}
	return st.Search(ctx, q)
}

// Aggregate runs the dashboard aggregations.
func (b *apiBackend) Aggregate(ctx context.Context, q store.Query, r store.AggRequest) (store.Aggregations, error) {
	st, err := b.store()
	if err != nil {
		return store.Aggregations{}, err
	}
	return st.Aggregate(ctx, q, r)
}

// Rules lists the running rules.
func (b *apiBackend) Rules() []api.RuleInfo {
	g := b.sv.cur.Load()
	if g == nil {
		return nil
	}
	out := make([]api.RuleInfo, 0, len(g.rs.All))
	for _, r := range g.rs.All {
		ri := api.RuleInfo{ID: r.ID, Level: r.Level, Description: r.DescText, Groups: r.Groups, File: path.Base(r.File)}
		if r.Mitre != nil {
			ri.Mitre = r.Mitre.ID
		}
		out = append(out, ri)
	}
	return out
}

// Sources reports each source's passes and counters.
func (b *apiBackend) Sources() []api.SourceInfo {
	g := b.sv.cur.Load()
	if g == nil {
		return nil
	}
	events := map[string]int64{}
	for _, s := range g.p.Stats().Snapshot().Sources {
		events[s.Name] = s.Events
	}
	out := make([]api.SourceInfo, 0, len(g.sources))
	for i, src := range g.sources {
		si := api.SourceInfo{Name: src.Name(), Type: g.cfg.Sources[i].Type, Events: events[src.Name()]}
		if r, ok := src.(source.StatsReporter); ok {
			st := r.Stats()
			si.Objects, si.Errors = st.Units, st.Errors
			if !st.Newest.IsZero() {
				si.LagSeconds = time.Since(st.Newest).Seconds()
			}
		}
		if g.scheds != nil {
			ps := g.scheds[i].Status()
			si.LastRunStart, si.LastRunEnd, si.LastError = ps.LastStart, ps.LastEnd, ps.LastError
			if r, ok := src.(source.ProgressReporter); ok && ps.Running {
				si.Progress = passProgress(r.Progress(), time.Since(ps.LastStart))
			}
		}
		out = append(out, si)
	}
	return out
}

// passProgress is the API's view of a running pass's progress, elapsed into
// it; nil when the source does not know the pass's size.
func passProgress(p source.Progress, elapsed time.Duration) *api.SourceProgress {
	if p.Total <= 0 {
		return nil
	}
	// The same extrapolation as the progress log's, so both tell one story.
	left := eta(elapsed, p.Done, p.Total)
	return &api.SourceProgress{Done: p.Done, Total: p.Total, Unit: p.Unit, ETASeconds: int64(left.Round(time.Second).Seconds())}
}

// Logtest runs events through the running rules with an engine of its own, so
// the live pipeline's counters and correlation history are not touched; it prints
// what `skywatch logtest --json` prints.
func (b *apiBackend) Logtest(ctx context.Context, location string, events []string) ([]json.RawMessage, error) {
	g := b.sv.cur.Load()
	if g == nil {
		return nil, errors.New("not running")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ltRS != g.rs {
		b.ltRS, b.ltName = g.rs, g.cfg.ManagerName
		b.ltM = rules.NewEngine(g.rs, rules.EngineOptions{Logtest: true}).NewMatcher()
		b.ltM.KeepAllFields()
	}
	out := make([]json.RawMessage, 0, len(events))
	for i, text := range events {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ev := event.Event{Log: []byte(text), Location: location, AgentID: event.LocalAgentID, AgentName: b.ltName,
			Received: time.Now(), Origin: event.Origin{Source: "logtest", Unit: "api", Offset: int64(i + 1)}}
		res := b.ltM.Process(&ev)
		buf := append([]byte(`{"output":`), b.ltM.Alert(res).AppendJSON(nil)...)
		buf = fmt.Appendf(buf, `,"alert":%t}`, res.Alert)
		out = append(out, buf)
	}
	return out, nil
}
