// Package azureblob is the "azure-blob" source: logs exported to Azure Blob
// Storage containers — diagnostic and activity logs (PT1H.json), NSG and VNet
// flow logs, or any blobs of JSON records, JSON lines or text — sent as Wazuh's
// azure-logs storage module sends them (location "Azure", azure_tag
// "azure-storage"). Blobs are streamed, never held whole; a blob that grows
// (Azure appends to its hourly blobs) is read on from the last record
// acknowledged; day folders (y=/m=/d=) are listed until a re-read window after
// the day ends and then forgotten, so neither the listing nor the checkpoint
// grows with the container.
package azureblob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/source"
)

// Location is the events' location, as Wazuh's azure-logs module writes it.
const Location = "Azure"

// Settings are what the wiring layer passes besides the component's own config.
type Settings struct {
	Name      string
	State     *checkpoint.Store
	Logger    *slog.Logger
	AgentName string // manager name, reported as the agent of the events
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// HTTPClient carries the storage and sign-in requests (nil: the SDK's).
	HTTPClient *http.Client
	// PageSize is the listing page size (0: 1000; the service's maximum is 5000).
	PageSize int
	// MaxRecordBytes caps one record or line (0: 16 MiB).
	MaxRecordBytes int
	// RetryDelay is the SDK's first retry delay (0: its default, 800ms).
	RetryDelay time.Duration
}

// Source reads one container (or every container) of a storage account.
type Source struct {
	name     string
	cfg      Config
	client   *azblob.Client
	state    *checkpoint.Store
	log      *slog.Logger
	now      func() time.Time
	agent    string
	pageSize int32
	maxRec   int
	track    *tracker
	flight   source.Inflight
	stats    struct {
		units, events, errors, skipped atomic.Int64
		newest                         source.NewestTime
	}
	days struct{ done, total atomic.Int64 } // day folders of the current pass, or of the last
}

var (
	_ source.Source           = (*Source)(nil)
	_ source.Committer        = (*Source)(nil)
	_ source.StatsReporter    = (*Source)(nil)
	_ source.ProgressReporter = (*Source)(nil)
	_ source.Scheduled        = (*Source)(nil)
)

// New validates cfg and builds the source and its storage client (no network
// call is made).
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
	client, err := newClient(&cfg, s)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	src := &Source{name: s.Name, cfg: cfg, client: client, state: s.State, log: s.Logger, now: s.Now,
		agent: s.AgentName, pageSize: 1000, maxRec: 16 << 20, track: newTracker()}
	if s.PageSize > 0 {
		src.pageSize = int32(min(s.PageSize, 5000))
	}
	if s.MaxRecordBytes > 0 {
		src.maxRec = s.MaxRecordBytes
	}
	return src, nil
}

// newClient builds the blob client for the configured authentication. Its
// errors never include the key or connection string.
func newClient(cfg *Config, s Settings) (*azblob.Client, error) {
	opts := &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: int32(cfg.MaxRetries), RetryDelay: s.RetryDelay},
	}}
	if s.HTTPClient != nil {
		opts.Transport = s.HTTPClient
	}
	if cs := cfg.ConnectionString.Reveal(); cs != "" {
		c, err := azblob.NewClientFromConnectionString(cs, opts)
		if err != nil {
			return nil, errors.New("blob client: connection_string is malformed")
		}
		return c, nil
	}
	url := cfg.Endpoint
	if url == "" {
		url = "https://" + cfg.AccountName + ".blob." + cfg.Azure.CloudEndpoints().StorageSuffix + "/"
	}
	if key := cfg.AccountKey.Reveal(); key != "" {
		cred, err := azblob.NewSharedKeyCredential(cfg.AccountName, key)
		if err != nil {
			return nil, errors.New("blob client: account_key is not a valid base64 storage key")
		}
		return azblob.NewClientWithSharedKeyCredential(url, cred, opts)
	}
	cred, err := cfg.Azure.Credential(s.HTTPClient)
	if err != nil {
		return nil, err
	}
	return azblob.NewClient(url, cred, opts)
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.name }

// Interval is the time between passes in service mode.
func (s *Source) Interval() time.Duration { return s.cfg.Interval.Std() }

// Stats returns the source's counters: units are blobs read, skipped are blobs
// listed and found already read.
func (s *Source) Stats() source.Stats {
	return source.Stats{Units: s.stats.units.Load(), Events: s.stats.events.Load(),
		Errors: s.stats.errors.Load(), Skipped: s.stats.skipped.Load(), Newest: s.stats.newest.Time()}
}

// Progress counts the days of the current pass that have been listed, over the
// days to list: for each dated root found so far, from its cursor to the day of
// the pass. A backfill from a date long past moves through them in order; days
// without a folder count when the walk passes them, blobs outside day folders
// do not count. It is zero before the first pass and keeps the last pass's
// count after it ends; a root whose listing fails stays short of its total.
func (s *Source) Progress() source.Progress {
	return source.Progress{Done: s.days.done.Load(), Total: s.days.total.Load(), Unit: "days"}
}

// Run does one pass: it waits for the previous pass's batches to be
// acknowledged and committed, lists the open part of each container, and reads
// the blobs that are new or grew, Workers at a time, while listing goes on.
func (s *Source) Run(ctx context.Context, emit source.Emit) error {
	if err := s.flight.Wait(ctx); err != nil {
		return err
	}
	if err := s.Commit(); err != nil {
		return err
	}
	passStart := s.now()
	s.track.mu.Lock()
	s.track.roots, s.track.undated = map[string]*rootProgress{}, map[string]*undatedProgress{}
	s.track.today = truncDay(passStart)
	s.days.done.Store(0)
	s.days.total.Store(0)
	s.track.mu.Unlock()
	containers, err := s.containers(ctx)
	if err != nil {
		return err
	}
	jobs := make(chan job, 2*s.cfg.Workers)
	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				s.read(ctx, j, emit)
			}
		}()
	}
	var errs []error
	for _, c := range containers {
		if err := s.walkContainer(ctx, c, passStart, jobs); err != nil {
			s.stats.errors.Add(1)
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	close(jobs)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if s.flight.Count() == 0 {
		// No acknowledgement is coming to trigger a Commit: write what the pass
		// settled without batches (empty days, watermarks, blobs without records).
		if err := s.Commit(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// containers returns the configured container, or all of the account's.
func (s *Source) containers(ctx context.Context) ([]string, error) {
	if s.cfg.Container != "*" {
		return []string{s.cfg.Container}, nil
	}
	var names []string
	p := s.client.NewListContainersPager(nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list containers: %w", err)
		}
		for _, c := range page.ContainerItems {
			if c.Name != nil {
				names = append(names, *c.Name)
			}
		}
	}
	return names, nil
}

// unit names a blob in events and logs.
func unit(container, name string) string { return container + "/" + strings.TrimPrefix(name, "/") }
