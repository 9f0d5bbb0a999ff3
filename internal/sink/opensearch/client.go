package opensearch

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// filterPath trims the bulk response to what the output reads: a response
// listing every item in full is several times the size of this one.
const filterPath = "?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason,items.*.error.caused_by.type,items.*.error.caused_by.reason"

// client is the HTTP side: URLs, authentication, extra headers, gzip, and
// the Retry-After the server last asked for.
type client struct {
	base    string // the configured URL without a trailing slash
	bulkURL string
	http    *http.Client
	auth    string      // Authorization header value; "" for none
	headers [][2]string // extra headers, sorted by name
	secrets []string    // values scrubbed from error text
	gzip    bool
	gzPool  sync.Pool

	retryMax  time.Duration // longest Retry-After honoured
	mu        sync.Mutex
	notBefore time.Time // from the last Retry-After
}

func newClient(cfg *Config) (*client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Concurrency + 2
	if !cfg.TLS.isZero() {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	c := &client{
		base:     strings.TrimRight(cfg.URL, "/"),
		http:     &http.Client{Transport: tr},
		gzip:     cfg.Compress,
		retryMax: cfg.RetryMax.Std(),
	}
	c.bulkURL = c.base + "/_bulk" + filterPath
	switch {
	case cfg.Username != "":
		basic := base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password.Reveal()))
		c.auth = "Basic " + basic
		c.secrets = append(c.secrets, cfg.Password.Reveal(), basic)
	case cfg.APIKey != "":
		c.auth = "ApiKey " + cfg.APIKey.Reveal()
		c.secrets = append(c.secrets, cfg.APIKey.Reveal())
	case cfg.BearerToken != "":
		c.auth = "Bearer " + cfg.BearerToken.Reveal()
		c.secrets = append(c.secrets, cfg.BearerToken.Reveal())
	}
	for name, v := range cfg.Headers {
		c.headers = append(c.headers, [2]string{name, v.Reveal()})
		c.secrets = append(c.secrets, v.Reveal())
	}
	sort.Slice(c.headers, func(i, j int) bool { return c.headers[i][0] < c.headers[j][0] })
	return c, nil
}

func tlsConfig(t TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pem, err := os.ReadFile(string(t.CAFile))
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate in it", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(string(t.CertFile), string(t.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// do sends one request. The caller reads and closes the body.
func (c *client) do(ctx context.Context, method, u, ctype string, body []byte, gzipped bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	for _, h := range c.headers {
		req.Header.Set(h[0], h[1])
	}
	return c.http.Do(req)
}

// compress gzips body into dst.
func (c *client) compress(dst *bytes.Buffer, body []byte) error {
	zw, _ := c.gzPool.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(dst, gzip.BestSpeed)
	} else {
		zw.Reset(dst)
	}
	defer c.gzPool.Put(zw)
	if _, err := zw.Write(body); err != nil {
		return err
	}
	return zw.Close()
}

// scrub removes the configured secrets from text that goes into errors, in
// case a server or proxy echoes a header back.
func (c *client) scrub(s string) string {
	for _, sec := range c.secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// noteRetryAfter remembers the server's Retry-After (seconds or an HTTP
// date), capped at retry_max.
func (c *client) noteRetryAfter(h string, now time.Time) {
	if h == "" {
		return
	}
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return
	}
	d = min(d, c.retryMax)
	c.mu.Lock()
	if nb := now.Add(d); nb.After(c.notBefore) {
		c.notBefore = nb
	}
	c.mu.Unlock()
}

// waitRetryAfter sleeps until the time the server asked for. The retry
// helper's own backoff has already run by then, so the wait is the longer of
// the two, not their sum.
func (c *client) waitRetryAfter(ctx context.Context) error {
	c.mu.Lock()
	d := time.Until(c.notBefore)
	c.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
