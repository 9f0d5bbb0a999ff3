// Package app wires skywatch together from its configuration: the one readable list
// of source and output types, the rules engine behind the pipeline, and the run
// loop `skywatch run` drives.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/skywatch-dev/skywatch/internal/checkpoint"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/pipeline"
	"github.com/skywatch-dev/skywatch/internal/sink/file"
	"github.com/skywatch-dev/skywatch/internal/sink/opensearch"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/awsinspector"
	"github.com/skywatch-dev/skywatch/internal/source/awslogs"
	"github.com/skywatch-dev/skywatch/internal/source/awss3"
	"github.com/skywatch-dev/skywatch/internal/source/awssqs"
	"github.com/skywatch-dev/skywatch/internal/source/azureblob"
	"github.com/skywatch-dev/skywatch/internal/source/azurela"
	"github.com/skywatch-dev/skywatch/internal/source/gcppubsub"
	"github.com/skywatch-dev/skywatch/internal/source/gcs"
	"github.com/skywatch-dev/skywatch/internal/source/localdir"
	"github.com/skywatch-dev/skywatch/internal/source/msgraph"
	"github.com/skywatch-dev/skywatch/internal/store"
)

// Env is what every component may use besides its own configuration.
type Env struct {
	State       *checkpoint.Store
	Logger      *slog.Logger
	ManagerName string
	MaxEventB   int
	Now         func() time.Time
	// Once is set for `run --once`: queue sources drain and return.
	Once bool
	// DataDir is the configured data_dir, for components that keep files there.
	DataDir string
	// Version is skywatch's version, for outputs that report it.
	Version string
	// OpenStore returns the alert store at a path, shared by the outputs and the
	// API.
	OpenStore func(path string, opt store.Options) (*store.Store, error)
	// Shutdown is closed when the generation stops, so a component blocked on a
	// full buffer gives up instead of holding the stop.
	Shutdown <-chan struct{}
}

// sourceFactory builds one source type from its configuration section.
type sourceFactory func(sc config.SourceConfig, env Env) (source.Source, error)

// outputFactory builds one output type from its configuration section.
type outputFactory func(oc config.OutputConfig, env Env) (pipeline.Output, error)

// sourceTypes is the list of every source type skywatch has.
var sourceTypes = map[string]sourceFactory{
	"local":               newLocalSource,
	"aws-s3":              newS3Source,
	"aws-inspector":       newInspectorSource,
	"aws-cloudwatch-logs": newCloudWatchLogsSource,
	"aws-sqs":             newSQSSource,
	"azure-log-analytics": newLogAnalyticsSource,
	"azure-blob":          newBlobSource,
	"ms-graph":            newGraphSource,
	"gcs":                 newGCSSource,
	"gcp-pubsub":          newPubSubSource,
}

// outputTypes is the list of every output type skywatch has.
var outputTypes = map[string]outputFactory{
	"file":          newFileOutput,
	"archives":      newArchivesOutput,
	"store":         newStoreOutput,
	"webhook":       newWebhookOutput,
	"slack":         newSlackOutput,
	"pagerduty":     newPagerDutyOutput,
	"syslog":        newSyslogOutput,
	"email":         newEmailOutput,
	"opensearch":    newSearchOutput(opensearch.OpenSearch),
	"elasticsearch": newSearchOutput(opensearch.Elasticsearch),
}

// SourceTypes returns the known source type names.
func SourceTypes() []string { return keys(sourceTypes) }

// OutputTypes returns the known output type names.
func OutputTypes() []string { return keys(outputTypes) }

func keys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func newLocalSource(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := localdir.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return localdir.New(cfg, localdir.Settings{
		Name: sc.Name, State: env.State, Logger: env.Logger, AgentName: env.ManagerName,
		MaxRecordBytes: env.MaxEventB, Now: env.Now,
	})
}

func newS3Source(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := awss3.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return awss3.New(context.Background(), cfg, awss3.Settings{
		Name: sc.Name, State: env.State, Logger: env.Logger, AgentName: env.ManagerName,
		MaxRecordBytes: env.MaxEventB, Now: env.Now,
	})
}

func newInspectorSource(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := awsinspector.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return awsinspector.New(cfg, awsinspector.Settings{
		Name: sc.Name, State: env.State, Logger: env.Logger, AgentName: env.ManagerName, Now: env.Now,
	})
}

func newCloudWatchLogsSource(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := awslogs.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return awslogs.New(cfg, awslogs.Settings{
		Name: sc.Name, State: env.State, Logger: env.Logger, AgentName: env.ManagerName, Now: env.Now,
	})
}

func newLogAnalyticsSource(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := azurela.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return azurela.New(cfg, azurela.Settings{
		Name: sc.Name, State: env.State, Logger: env.Logger, AgentName: env.ManagerName, Now: env.Now,
	})
}

func newBlobSource(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := azureblob.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return azureblob.New(cfg, azureblob.Settings{
		Name: sc.Name, State: env.State, Logger: env.Logger, AgentName: env.ManagerName,
		MaxRecordBytes: env.MaxEventB, Now: env.Now,
	})
}

func newGraphSource(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := msgraph.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return msgraph.New(cfg, msgraph.Settings{
		Name: sc.Name, State: env.State, Logger: env.Logger, AgentName: env.ManagerName, Now: env.Now,
	})
}

func newGCSSource(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := gcs.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return gcs.New(context.Background(), cfg, gcs.Settings{
		Name: sc.Name, State: env.State, Logger: env.Logger, AgentName: env.ManagerName,
		MaxRecordBytes: env.MaxEventB, Now: env.Now,
	})
}

func newPubSubSource(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := gcppubsub.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return gcppubsub.New(cfg, gcppubsub.Settings{
		Name: sc.Name, Logger: env.Logger, AgentName: env.ManagerName,
		MaxRecordBytes: env.MaxEventB, Now: env.Now, Once: env.Once,
	})
}

func newSQSSource(sc config.SourceConfig, env Env) (source.Source, error) {
	cfg := awssqs.DefaultConfig()
	if err := sc.Decode(&cfg); err != nil {
		return nil, err
	}
	return awssqs.New(cfg, awssqs.Settings{
		Name: sc.Name, Logger: env.Logger, AgentName: env.ManagerName,
		MaxRecordBytes: env.MaxEventB, Now: env.Now, Once: env.Once,
	})
}

func newFileOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	cfg := file.DefaultConfig()
	if err := oc.Decode(&cfg); err != nil {
		return pipeline.Output{}, err
	}
	s, err := file.New(cfg, file.Options{Logger: env.Logger})
	if err != nil {
		return pipeline.Output{}, fmt.Errorf("%s: %w", oc.Label(), err)
	}
	// The file sink applies its own filter.
	return pipeline.Output{Name: oc.Name, Sink: s}, nil
}

// newArchivesOutput is a file output that receives every event, alerting or not,
// in the alert shape without a rule (Wazuh's archives.json).
func newArchivesOutput(oc config.OutputConfig, env Env) (pipeline.Output, error) {
	o, err := newFileOutput(oc, env)
	o.Archive = true
	return o, err
}
