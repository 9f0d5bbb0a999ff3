package azureclient_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/azureclient"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

const graph = "https://graph.microsoft.com"

func TestClientSecretAgainstTheAuthority(t *testing.T) {
	e := azurefake.NewEntra("app-1", "s3cret-value-123")
	defer e.Close()
	c := azureclient.Config{TenantID: "tenant-1", ClientID: "app-1", ClientSecret: "s3cret-value-123", AuthorityHost: e.AuthorityHost()}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	cred, err := c.Credential(e.Server.Client())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), azureclient.TokenOptions(graph))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token == "" || e.Issued() != 1 {
		t.Fatalf("token %q, issued %d", tok.Token, e.Issued())
	}
	// A second request is served from the credential's cache.
	if _, err := cred.GetToken(context.Background(), azureclient.TokenOptions(graph)); err != nil || e.Issued() != 1 {
		t.Fatalf("second token: %v, issued %d", err, e.Issued())
	}
}

func TestWrongSecretIsReportedWithoutIt(t *testing.T) {
	e := azurefake.NewEntra("app-1", "right-secret")
	defer e.Close()
	c := azureclient.Config{TenantID: "tenant-1", ClientID: "app-1", ClientSecret: "wrong-secret-987", AuthorityHost: e.AuthorityHost()}
	cred, err := c.Credential(e.Server.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(context.Background(), azureclient.TokenOptions(graph))
	if err == nil {
		t.Fatal("token issued for a wrong secret")
	}
	if msg := fmt.Sprint(err); strings.Contains(msg, "wrong-secret-987") || !strings.Contains(msg, "AADSTS7000215") {
		t.Fatalf("error %q: want the authority's reason and not the secret", msg)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		c    azureclient.Config
		want string
	}{
		{azureclient.Config{TenantID: "t", ClientID: "c", ClientSecret: "s"}, ""},
		{azureclient.Config{}, ""}, // managed identity
		{azureclient.Config{Auth: "certificate", TenantID: "t", ClientID: "c"}, "certificate_file: is required"},
		{azureclient.Config{ClientSecret: "s"}, "tenant_id and client_id are required"},
		{azureclient.Config{Auth: "password"}, "auth: want client_secret"},
		{azureclient.Config{Cloud: "mars"}, "cloud: want public"},
		{azureclient.Config{AuthorityHost: "http://login.example"}, "authority_host: must be an https"},
		{azureclient.Config{Auth: "managed_identity", ClientSecret: "s"}, "client_secret: is set but auth is managed_identity"},
	} {
		err := tc.c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.c, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.c, err, tc.want)
		}
	}
	if got := (&azureclient.Config{Cloud: "usgov"}).CloudEndpoints().Graph; got != "https://graph.microsoft.us" {
		t.Errorf("usgov graph %s", got)
	}
	if s := fmt.Sprintf("%v %+v", azureclient.Config{ClientSecret: "abc123secret"}, azureclient.Config{ClientSecret: config.Secret("abc123secret")}); strings.Contains(s, "abc123secret") {
		t.Errorf("secret printed: %s", s)
	}
}
