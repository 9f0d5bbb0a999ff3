// Package awsclient builds the AWS SDK configuration every AWS source shares: region,
// the standard credential chain or a named profile, optional static keys (from
// secrets), an assumed role with external id, and endpoint overrides for
// S3-compatible stores and tests.
//
// It also holds what the sources that poll AWS APIs share around those calls:
// Session (regions, retries with credential refresh), ParseDate and
// ValidateRegions for their settings, and Inflight (with Inflight.Pass, the
// outline of a pass), LoadCheckpoints and CommitCheckpoints for their passes.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// Config is the credential and endpoint part of an AWS source's configuration. The
// sources embed its keys flat in their own section (region, profile, role_arn, ...).
type Config struct {
	// Region is the AWS region for the API calls (default from the environment or
	// profile; us-east-1 when none).
	Region string `yaml:"region"`
	// Profile names a profile of the shared AWS config/credentials files.
	Profile string `yaml:"profile"`
	// AccessKeyID and SecretAccessKey are static keys; prefer the standard chain or
	// ${ENV}/${file:...} references for the secret.
	AccessKeyID     string        `yaml:"access_key_id"`
	SecretAccessKey config.Secret `yaml:"secret_access_key"`
	// RoleARN is a role to assume with STS; ExternalID and RoleSessionDuration go with
	// it.
	RoleARN             string          `yaml:"role_arn"`
	ExternalID          config.Secret   `yaml:"external_id"`
	RoleSessionDuration config.Duration `yaml:"role_session_duration"`
	// Endpoint overrides the service endpoint (S3-compatible stores, tests);
	// STSEndpoint does the same for AssumeRole.
	Endpoint    string `yaml:"endpoint"`
	STSEndpoint string `yaml:"sts_endpoint"`
	// PathStyle addresses buckets as endpoint/bucket instead of bucket.endpoint.
	PathStyle bool `yaml:"path_style"`
}

// Validate checks the credential settings.
func (c *Config) Validate() error {
	var errs []error
	if (c.AccessKeyID == "") != (c.SecretAccessKey.Reveal() == "") {
		errs = append(errs, config.FieldError{Field: "secret_access_key", Msg: "access_key_id and secret_access_key go together"})
	}
	if c.ExternalID.Reveal() != "" && c.RoleARN == "" {
		errs = append(errs, config.FieldError{Field: "external_id", Msg: "needs role_arn"})
	}
	if d := c.RoleSessionDuration.Std(); d != 0 && (d < 15*time.Minute || d > 12*time.Hour) {
		errs = append(errs, config.FieldError{Field: "role_session_duration", Msg: "must be between 15m and 12h"})
	}
	return errors.Join(errs...)
}

// SessionName is the role session name skywatch uses, visible in the account's
// CloudTrail.
const SessionName = "skywatch"

// Load resolves the configuration into an aws.Config.
func (c *Config) Load(ctx context.Context, hc *http.Client) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRetryMaxAttempts(5),
	}
	if hc != nil {
		opts = append(opts, awsconfig.WithHTTPClient(hc))
	} else {
		opts = append(opts, awsconfig.WithHTTPClient(awshttp.NewBuildableClient()))
	}
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(c.Profile))
	}
	if c.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey.Reveal(), "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if c.RoleARN != "" {
		stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) {
			if c.STSEndpoint != "" {
				o.BaseEndpoint = aws.String(c.STSEndpoint)
			}
		})
		provider := stscreds.NewAssumeRoleProvider(stsClient, c.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = SessionName
			if id := c.ExternalID.Reveal(); id != "" {
				o.ExternalID = aws.String(id)
			}
			if d := c.RoleSessionDuration.Std(); d > 0 {
				o.Duration = d
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	return cfg, nil
}

// BaseEndpoint returns the endpoint override for service clients, or nil.
func (c *Config) BaseEndpoint() *string {
	if c.Endpoint == "" {
		return nil
	}
	return aws.String(c.Endpoint)
}
