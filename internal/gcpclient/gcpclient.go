// Package gcpclient is what the Google Cloud sources share: the project and
// credential keys of their configuration and their resolution into client
// options for Google's Go clients.
package gcpclient

import (
	"encoding/json"
	"fmt"
	"os"

	"google.golang.org/api/option"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// Config is the credential part of a Google Cloud source's configuration; the
// sources embed its keys flat in their own section.
type Config struct {
	// ProjectID is the project the source's resources live in.
	ProjectID string `yaml:"project_id"`
	// CredentialsFile is a credentials JSON file: a service-account key, an
	// external-account (workload identity federation) configuration, or an
	// authorized-user file. Empty means application default credentials
	// (GOOGLE_APPLICATION_CREDENTIALS, gcloud, or the metadata server on GCE/GKE,
	// which is how GKE workload identity is used).
	CredentialsFile config.Path `yaml:"credentials_file"`
	// Endpoint overrides the service endpoint (private endpoints, tests). The
	// emulator variables PUBSUB_EMULATOR_HOST and STORAGE_EMULATOR_HOST are
	// honoured by the clients themselves.
	Endpoint string `yaml:"endpoint"`
}

// Validate checks the keys.
func (c *Config) Validate() error {
	if c.ProjectID == "" {
		return config.FieldError{Field: "project_id", Msg: "is required"}
	}
	return nil
}

// credentialTypes maps a credentials file's "type" to what the client library
// calls it; impersonation files are refused for now because they name further
// URLs to trust.
var credentialTypes = map[string]option.CredentialsType{
	"service_account":  option.ServiceAccount,
	"authorized_user":  option.AuthorizedUser,
	"external_account": option.ExternalAccount,
}

// ClientOptions returns the options that give a client these credentials and
// endpoint. The file is checked here so that a bad one is reported by name at
// start, without its content.
func (c *Config) ClientOptions() ([]option.ClientOption, error) {
	var opts []option.ClientOption
	if c.CredentialsFile != "" {
		data, err := os.ReadFile(string(c.CredentialsFile))
		if err != nil {
			return nil, fmt.Errorf("gcp credentials_file: %w", err)
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("gcp credentials_file %s: not a credentials JSON file", c.CredentialsFile)
		}
		ct, ok := credentialTypes[head.Type]
		if !ok {
			return nil, fmt.Errorf("gcp credentials_file %s: credentials type %q is not supported (want service_account, external_account or authorized_user)", c.CredentialsFile, head.Type)
		}
		opts = append(opts, option.WithAuthCredentialsJSON(ct, data))
	}
	if c.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(c.Endpoint))
	}
	return opts, nil
}
