// Package azureclient is what the Azure sources share: the credential keys of
// their configuration (tenant, application, client secret or certificate,
// managed or workload identity), the national cloud they talk to, and their
// resolution into an azcore.TokenCredential.
package azureclient

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// Authentication methods (Config.Auth).
const (
	AuthClientSecret     = "client_secret"
	AuthCertificate      = "certificate"
	AuthManagedIdentity  = "managed_identity"
	AuthWorkloadIdentity = "workload_identity"
)

// Cloud is one of Azure's clouds: where its sign-in authority and the services
// skywatch calls live.
type Cloud struct {
	// AuthorityHost is Microsoft Entra ID's sign-in host.
	AuthorityHost string
	// Graph is Microsoft Graph's base URL (no version).
	Graph string
	// LogAnalytics is the Log Analytics query API's base URL (no version).
	LogAnalytics string
	// StorageSuffix is the blob endpoint's domain after "<account>.blob.".
	StorageSuffix string
}

// Clouds are the national clouds by their configuration name.
var Clouds = map[string]Cloud{
	"public": {AuthorityHost: "https://login.microsoftonline.com/", Graph: "https://graph.microsoft.com",
		LogAnalytics: "https://api.loganalytics.io", StorageSuffix: "core.windows.net"},
	"usgov": {AuthorityHost: "https://login.microsoftonline.us/", Graph: "https://graph.microsoft.us",
		LogAnalytics: "https://api.loganalytics.us", StorageSuffix: "core.usgovcloudapi.net"},
	"china": {AuthorityHost: "https://login.chinacloudapi.cn/", Graph: "https://microsoftgraph.chinacloudapi.cn",
		LogAnalytics: "https://api.loganalytics.azure.cn", StorageSuffix: "core.chinacloudapi.cn"},
}

// Config is the credential part of an Azure source's configuration; the sources
// embed its keys flat in their own section.
type Config struct {
	// TenantID is the directory (tenant) id the application is registered in.
	TenantID string `yaml:"tenant_id"`
	// ClientID is the application (client) id; with managed identity, the
	// user-assigned identity's client id (empty: the system-assigned one).
	ClientID string `yaml:"client_id"`
	// ClientSecret is the application's secret; use ${ENV} or ${file:...}.
	ClientSecret config.Secret `yaml:"client_secret"`
	// CertificateFile is a PEM or PKCS#12 file holding the application's
	// certificate and private key; CertificatePassword decrypts it.
	CertificateFile     config.Path   `yaml:"certificate_file"`
	CertificatePassword config.Secret `yaml:"certificate_password"`
	// Auth picks the method: client_secret, certificate, managed_identity or
	// workload_identity. Empty means client_secret when a secret is set,
	// certificate when a certificate is, else managed identity.
	Auth string `yaml:"auth"`
	// Cloud is public (default), usgov or china.
	Cloud string `yaml:"cloud"`
	// AuthorityHost overrides the cloud's sign-in host (tests, sovereign clouds).
	AuthorityHost string `yaml:"authority_host"`
}

// Method is the authentication method Auth resolves to.
func (c *Config) Method() string {
	switch {
	case c.Auth != "":
		return c.Auth
	case c.ClientSecret.Reveal() != "":
		return AuthClientSecret
	case c.CertificateFile != "":
		return AuthCertificate
	default:
		return AuthManagedIdentity
	}
}

// CloudEndpoints returns the configured cloud, with AuthorityHost applied.
func (c *Config) CloudEndpoints() Cloud {
	name := c.Cloud
	if name == "" {
		name = "public"
	}
	cl := Clouds[name]
	if c.AuthorityHost != "" {
		cl.AuthorityHost = c.AuthorityHost
	}
	return cl
}

// Validate checks that the keys the chosen method needs are there.
func (c *Config) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if _, ok := Clouds[c.Cloud]; c.Cloud != "" && !ok {
		fail("cloud", "want public, usgov or china, got %q", c.Cloud)
	}
	if c.AuthorityHost != "" && !strings.HasPrefix(c.AuthorityHost, "https://") {
		fail("authority_host", "must be an https:// URL")
	}
	switch m := c.Method(); m {
	case AuthClientSecret:
		if c.ClientSecret.Reveal() == "" {
			fail("client_secret", "is required with auth %s", m)
		}
		if c.TenantID == "" || c.ClientID == "" {
			fail("tenant_id", "tenant_id and client_id are required with auth %s", m)
		}
	case AuthCertificate:
		if c.CertificateFile == "" {
			fail("certificate_file", "is required with auth %s", m)
		}
		if c.TenantID == "" || c.ClientID == "" {
			fail("tenant_id", "tenant_id and client_id are required with auth %s", m)
		}
	case AuthManagedIdentity, AuthWorkloadIdentity:
	default:
		fail("auth", "want client_secret, certificate, managed_identity or workload_identity, got %q", m)
	}
	if c.Method() != AuthClientSecret && c.ClientSecret.Reveal() != "" {
		fail("client_secret", "is set but auth is %s", c.Method())
	}
	return errors.Join(errs...)
}

// Credential builds the token credential for the configured method. hc, when
// not nil, carries the sign-in requests (tests trust their own CA through it).
func (c *Config) Credential(hc *http.Client) (azcore.TokenCredential, error) {
	opts := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: c.CloudEndpoints().AuthorityHost}}
	if hc != nil {
		opts.Transport = hc
	}
	// Instance discovery asks login.microsoftonline.com about the authority;
	// it is needed only for authorities Microsoft does not already know, and a
	// configured authority host is trusted as given.
	noDiscovery := c.AuthorityHost != ""
	var cred azcore.TokenCredential
	var err error
	switch c.Method() {
	case AuthClientSecret:
		cred, err = azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret.Reveal(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: noDiscovery})
	case AuthCertificate:
		data, rerr := os.ReadFile(string(c.CertificateFile))
		if rerr != nil {
			return nil, fmt.Errorf("azure credential: read certificate_file: %w", rerr)
		}
		certs, key, perr := azidentity.ParseCertificates(data, []byte(c.CertificatePassword.Reveal()))
		if perr != nil {
			return nil, fmt.Errorf("azure credential: certificate_file %s: %w", c.CertificateFile, perr)
		}
		cred, err = azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: noDiscovery})
	case AuthManagedIdentity:
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if c.ClientID != "" {
			mo.ID = azidentity.ClientID(c.ClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(mo)
	case AuthWorkloadIdentity:
		// Tenant, client and token file default to AZURE_TENANT_ID,
		// AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE, as set by AKS.
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, TenantID: c.TenantID, ClientID: c.ClientID, DisableInstanceDiscovery: noDiscovery})
	default:
		return nil, fmt.Errorf("azure credential: unknown auth %q", c.Method())
	}
	if err != nil {
		return nil, fmt.Errorf("azure credential (%s): %w", c.Method(), err)
	}
	return cred, nil
}

// Scope is the OAuth2 scope that asks for every permission granted to the
// application on the service at base ("https://graph.microsoft.com/.default").
func Scope(base string) string { return strings.TrimRight(base, "/") + "/.default" }

// TokenOptions is the token request for the service at base.
func TokenOptions(base string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{Scope(base)}}
}
