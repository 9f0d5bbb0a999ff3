package opensearch_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/sink/opensearch"
)

const password = "s3cr3t-Pa55word"

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name string
		set  func(c *opensearch.Config)
		want string
	}{
		{"basic", func(c *opensearch.Config) { c.Username, c.Password = "skywatch", password },
			"Basic " + base64.StdEncoding.EncodeToString([]byte("skywatch:"+password))},
		{"api key", func(c *opensearch.Config) { c.APIKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==" },
			"ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="},
		{"bearer", func(c *opensearch.Config) { c.BearerToken = "eyJhbGciOi.token" }, "Bearer eyJhbGciOi.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeES(t, "opensearch")
			f.auth = tt.want
			cfg := testConfig(f.url())
			tt.set(&cfg)
			h := newSink(t, opensearch.OpenSearch, cfg)
			recs := mkAlerts(0, 5, day0)
			h.deliver(t, recs)
			checkExactlyOnce(t, f, recs, true)
			if !h.s.Stats().TemplateInstalled {
				t.Error("the template PUT did not authenticate")
			}
		})
	}
}

func TestWrongPasswordFailsWithoutRevealingIt(t *testing.T) {
	// A server (or proxy) that echoes the Authorization header in its error.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"type":"security_exception","reason":"unable to authenticate with header [%s]"},"status":401}`, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.Username, cfg.Password = "skywatch", password
	h := newSink(t, opensearch.OpenSearch, cfg)
	ctx := context.Background()
	_ = h.s.Write(ctx, mkAlerts(0, 3, day0))
	err := h.s.Flush(ctx)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "security_exception") {
		t.Fatalf("flush error %v", err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("skywatch:" + password))
	for what, text := range map[string]string{"error": err.Error(), "log": h.log.String(), "config": fmt.Sprintf("%+v %#v", cfg, cfg)} {
		if strings.Contains(text, password) || strings.Contains(text, basic) {
			t.Errorf("the %s reveals the password: %s", what, text)
		}
	}
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error %v: expected the echoed credentials to be redacted", err)
	}
}

// certs is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate.
type certs struct {
	caFile, serverCert, clientCert, clientKey string
	pool                                      *x509.CertPool
	server                                    tls.Certificate
}

func newCerts(t *testing.T) certs {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage, ip bool) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := certs{pool: x509.NewCertPool()}
	c.pool.AddCert(ca)
	c.caFile = write("ca.pem", "CERTIFICATE", caDER)
	sDER, sKey := leaf(2, x509.ExtKeyUsageServerAuth, true)
	c.server = tls.Certificate{Certificate: [][]byte{sDER}, PrivateKey: sKey}
	c.serverCert = write("server.pem", "CERTIFICATE", sDER)
	cDER, cKey := leaf(3, x509.ExtKeyUsageClientAuth, false)
	c.clientCert = write("client.pem", "CERTIFICATE", cDER)
	keyDER, _ := x509.MarshalECPrivateKey(cKey)
	c.clientKey = write("client-key.pem", "EC PRIVATE KEY", keyDER)
	return c
}

func tlsFake(t *testing.T, c certs, clientAuth tls.ClientAuthType) (*fakeES, *httptest.Server) {
	f := newFakeES(t, "opensearch")
	srv := httptest.NewUnstartedServer(f)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{c.server}, ClientAuth: clientAuth, ClientCAs: c.pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return f, srv
}

func TestTLS(t *testing.T) {
	c := newCerts(t)
	ctx := context.Background()

	t.Run("ca_file", func(t *testing.T) {
		f, srv := tlsFake(t, c, tls.NoClientCert)
		cfg := testConfig(srv.URL)
		cfg.TLS.CAFile = config.Path(c.caFile)
		h := newSink(t, opensearch.OpenSearch, cfg)
		recs := mkAlerts(0, 5, day0)
		h.deliver(t, recs)
		checkExactlyOnce(t, f, recs, true)
	})
	t.Run("unknown authority", func(t *testing.T) {
		_, srv := tlsFake(t, c, tls.NoClientCert)
		cfg := testConfig(srv.URL)
		cfg.TLS.ServerName = "127.0.0.1" // some TLS option, but no CA
		h := newSink(t, opensearch.OpenSearch, cfg)
		_ = h.s.Write(ctx, mkAlerts(0, 1, day0))
		if err := h.s.Flush(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("flush to a server of an unknown CA: %v", err)
		}
	})
	t.Run("insecure_skip_verify", func(t *testing.T) {
		f, srv := tlsFake(t, c, tls.NoClientCert)
		cfg := testConfig(srv.URL)
		cfg.TLS.InsecureSkipVerify = true
		h := newSink(t, opensearch.OpenSearch, cfg)
		recs := mkAlerts(0, 2, day0)
		h.deliver(t, recs)
		checkExactlyOnce(t, f, recs, true)
		if !strings.Contains(h.log.String(), "level=WARN") || !strings.Contains(h.log.String(), "VERIFICATION IS OFF") {
			t.Errorf("no loud warning: %s", h.log)
		}
	})
	t.Run("client certificate", func(t *testing.T) {
		f, srv := tlsFake(t, c, tls.RequireAndVerifyClientCert)
		cfg := testConfig(srv.URL)
		cfg.TLS.CAFile = config.Path(c.caFile)
		without := newSink(t, opensearch.OpenSearch, cfg)
		_ = without.s.Write(ctx, mkAlerts(0, 1, day0))
		if err := without.s.Flush(ctx); err == nil {
			t.Fatal("a server requiring a client certificate took a request without one")
		}
		cfg.TLS.CertFile, cfg.TLS.KeyFile = config.Path(c.clientCert), config.Path(c.clientKey)
		h := newSink(t, opensearch.OpenSearch, cfg)
		recs := mkAlerts(0, 3, day0)
		h.deliver(t, recs)
		checkExactlyOnce(t, f, recs, true)
	})
	t.Run("bad ca_file", func(t *testing.T) {
		cfg := testConfig("https://127.0.0.1:1")
		cfg.TLS.CAFile = config.Path(c.clientKey) // a key, not a certificate
		if _, err := opensearch.New(cfg, opensearch.Options{Product: opensearch.OpenSearch}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
			t.Fatalf("New with a ca_file holding no certificate: %v", err)
		}
	})
}
