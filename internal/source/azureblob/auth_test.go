package azureblob

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/azureclient"
	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

// fakeBlobService answers List Blobs and Get Blob for one container holding
// one blob, from the documented REST shapes, and only with a bearer token the
// fake Entra issued for Azure Storage.
func fakeBlobService(e *azurefake.Entra, body []byte) *httptest.Server {
	return httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !e.Valid(r, "https://storage.azure.com") {
			w.Header().Set("x-ms-error-code", "InvalidAuthenticationInfo")
			http.Error(w, "<Error><Code>InvalidAuthenticationInfo</Code></Error>", http.StatusUnauthorized)
			return
		}
		w.Header().Set("x-ms-version", r.Header.Get("x-ms-version"))
		switch {
		case r.URL.Path == "/logs" && r.URL.Query().Get("comp") == "list":
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="logs"><Prefix></Prefix><Delimiter>/</Delimiter><Blobs><Blob><Name>a.json</Name><Properties><Last-Modified>Fri, 03 May 2024 10:00:00 GMT</Last-Modified><Etag>0x8DC1</Etag><Content-Length>%d</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob></Blobs><NextMarker /></EnumerationResults>`, len(body))
		case r.URL.Path == "/logs/a.json" && r.Method == http.MethodGet:
			w.Header().Set("ETag", "0x8DC1")
			w.Header().Set("Last-Modified", "Fri, 03 May 2024 10:00:00 GMT")
			w.Header().Set("x-ms-blob-type", "BlockBlob")
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			_, _ = w.Write(body)
		default:
			w.Header().Set("x-ms-error-code", "BlobNotFound")
			http.Error(w, "", http.StatusNotFound)
		}
	}))
}

// TestEntraCredentials reads with a client secret through Microsoft Entra ID:
// the token is asked for Azure Storage's scope and sent to the service; the
// secret appears in no log line and no error.
func TestEntraCredentials(t *testing.T) {
	const secret = "entra-secret-value-9q8w7e"
	e := azurefake.NewEntra("app-id", secret)
	defer e.Close()
	srv := fakeBlobService(e, jsonLines(0, 2))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Azure = azureclient.Config{TenantID: "tenant", ClientID: "app-id", ClientSecret: config.Secret(secret), AuthorityHost: e.AuthorityHost()}
	cfg.Endpoint, cfg.Container, cfg.Tag, cfg.OnlyLogsAfter = srv.URL, "logs", "t1", "2024-01-01"
	var logBuf bytes.Buffer
	s := newSourceWith(t, cfg, &logBuf, e.Server.Client())
	col := &collector{}
	if got := logs(runPass(t, s, col)); len(got) != 2 || got[0] != want(0) {
		t.Fatalf("events %q", got)
	}
	if e.Issued() == 0 {
		t.Error("no token was issued")
	}
	// A wrong secret: the pass fails, and neither error nor log holds a secret.
	cfg.Azure.ClientSecret = "wrong-secret-value-1a2b3c"
	s = newSourceWith(t, cfg, &logBuf, e.Server.Client())
	err := s.Run(context.Background(), col.emit)
	if err == nil {
		t.Fatal("a wrong secret read the container")
	}
	for _, sec := range []string{secret, "wrong-secret-value-1a2b3c"} {
		if strings.Contains(err.Error(), sec) || strings.Contains(logBuf.String(), sec) {
			t.Errorf("secret leaked:\n%v\n%s", err, logBuf.String())
		}
	}
}

// TestSharedKeySecrets: a wrong or malformed account key or connection string
// fails without the key in the error or the logs.
func TestSharedKeySecrets(t *testing.T) {
	cname, _ := newContainer(t)
	const badKey = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
	cfg := baseConfig(cname)
	cfg.AccountKey = badKey
	var logBuf bytes.Buffer
	s := newSource(t, cfg, openStore(t, t.TempDir()), &logBuf)
	err := s.Run(context.Background(), (&collector{}).emit)
	if err == nil || strings.Contains(err.Error(), badKey) || strings.Contains(logBuf.String(), badKey) {
		t.Fatalf("wrong key: err %v; log %s", err, logBuf.String())
	}
	cfg.AccountKey = "not base64 !!secret!!"
	if _, err := New(cfg, Settings{Name: "x"}); err == nil || strings.Contains(err.Error(), "!!secret!!") {
		t.Errorf("malformed key: %v", err)
	}
	cfg.AccountKey, cfg.ConnectionString = "", "AccountName=x;AccountKey=!!secret!!;garbage"
	if _, err := New(cfg, Settings{Name: "x"}); err != nil && strings.Contains(err.Error(), "!!secret!!") {
		t.Errorf("malformed connection string: %v", err)
	}
	// A good connection string (Azurite's) reads the container.
	cfg.ConnectionString = config.Secret("DefaultEndpointsProtocol=http;AccountName=" + devAccount + ";AccountKey=" + devKey + ";BlobEndpoint=" + azuriteEndpoint(t) + ";")
	cfg.AccountName, cfg.Endpoint = "", ""
	if _, err := New(cfg, Settings{Name: "x"}); err != nil {
		t.Errorf("connection string: %v", err)
	}
}
