// Package localdir is the "local" source: files and folders of cloud logs as the
// clouds deliver them (CloudTrail {"Records":[…]} documents, JSON lines, concatenated
// JSON; plain, gzip or zip), read as a stream and wrapped the way Wazuh's modules
// wrap them. Each file is checkpointed by the records acknowledged, so a second run
// adds nothing and an interrupted one resumes where it stopped.
package localdir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Source reads local files once per Run.
type Source struct {
	name   string
	cfg    Config
	state  *checkpoint.Store
	log    *slog.Logger
	now    func() time.Time
	stats  counters
	agent  string
	maxRec int

	trackMu  sync.Mutex
	trackers map[string]*tracker
}

type counters struct {
	units, events, errors, skipped atomic.Int64
	newest                         source.NewestTime
	// passDone and passTotal are the files of the current pass done and listed.
	passDone, passTotal atomic.Int64
}

// Settings are what the wiring layer passes besides the component's own config.
type Settings struct {
	Name      string
	State     *checkpoint.Store
	Logger    *slog.Logger
	AgentName string // manager name, reported as the agent of local events
	// MaxRecordBytes caps one record (0 = the reader's default).
	MaxRecordBytes int
	// Now is the clock for event receive times (time.Now when nil).
	Now func() time.Time
}

// New returns a local source.
func New(cfg Config, s Settings) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return &Source{name: s.Name, cfg: cfg, state: s.State, log: s.Logger, now: s.Now, agent: s.AgentName,
		maxRec: s.MaxRecordBytes, trackers: make(map[string]*tracker)}, nil
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.name }

// Stats returns the source's counters.
func (s *Source) Stats() source.Stats {
	return source.Stats{Units: s.stats.units.Load(), Events: s.stats.events.Load(),
		Errors: s.stats.errors.Load(), Skipped: s.stats.skipped.Load(), Newest: s.stats.newest.Time()}
}

// Progress returns how many files of the current pass are done.
func (s *Source) Progress() source.Progress {
	return source.Progress{Done: s.stats.passDone.Load(), Total: s.stats.passTotal.Load(), Unit: "files"}
}

// Run reads every file under the configured path that is not yet fully processed,
// files in parallel, and returns when all have been read and emitted.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	files, err := s.list()
	if err != nil {
		return err
	}
	s.stats.passDone.Store(0)
	s.stats.passTotal.Store(int64(len(files)))
	work := make(chan string)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for i := 0; i < s.cfg.Parallel; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for path := range work {
				err := s.readFile(ctx, path, emit)
				s.stats.passDone.Add(1)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					s.stats.errors.Add(1)
					s.log.Warn("local source: file skipped", "source", s.name, "file", path, "err", err)
					mu.Lock()
					if firstErr == nil && !isDataError(err) {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, f := range files {
		select {
		case work <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// list returns the files to read, in name order.
func (s *Source) list() ([]string, error) {
	root := string(s.cfg.Path)
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	if !st.IsDir() {
		return []string{root}, nil
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && !s.cfg.Recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name()[0] == '.' || !d.Type().IsRegular() {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	sort.Strings(files)
	return files, nil
}

// dataError marks a problem with a file's content (counted, logged, skipped) as
// opposed to an operational failure.
type dataError struct{ err error }

func (e dataError) Error() string { return e.err.Error() }
func (e dataError) Unwrap() error { return e.err }

func isDataError(err error) bool {
	var d dataError
	return errors.As(err, &d)
}
