// Package azurefake holds faithful fakes of the Azure protocols the Azure
// sources call, for tests: the Microsoft Entra ID token endpoint (OAuth2 client
// credentials, as azidentity speaks it), with injected faults. Only tests import
// it.
package azurefake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Entra is a fake Microsoft Entra ID authority: it serves the OpenID metadata
// and the v2.0 token endpoint of any tenant, issuing opaque bearer tokens for
// one client id and secret. Services faked next to it check tokens with Valid.
type Entra struct {
	// Server is the TLS server; hand Server.Client() to the code under test.
	Server *httptest.Server
	// ClientID and Secret are the accepted credentials.
	ClientID, Secret string
	// Lifetime is how long issued tokens live (default one hour).
	Lifetime time.Duration

	mu       sync.Mutex
	tokens   map[string]token
	issued   int
	failNext int
}

type token struct {
	scope   string
	expires time.Time
}

// NewEntra starts an authority accepting clientID with secret.
func NewEntra(clientID, secret string) *Entra {
	e := &Entra{ClientID: clientID, Secret: secret, Lifetime: time.Hour, tokens: map[string]token{}}
	e.Server = httptest.NewTLSServer(http.HandlerFunc(e.serve))
	return e
}

// Close stops the server.
func (e *Entra) Close() { e.Server.Close() }

// AuthorityHost is the value for a source's authority_host.
func (e *Entra) AuthorityHost() string { return e.Server.URL + "/" }

// Issued is how many tokens were issued so far.
func (e *Entra) Issued() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.issued
}

// ExpireAll makes every token issued so far invalid, as a token expiring or
// revoked mid-run would be; services then answer 401.
func (e *Entra) ExpireAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.tokens)
}

// FailNext makes the next n token requests fail with 503.
func (e *Entra) FailNext(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failNext = n
}

// Valid reports whether the request carries a live bearer token issued for the
// scope of a service at base (e.g. "https://graph.microsoft.com").
func (e *Entra) Valid(r *http.Request, base string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tokens[tok]
	return ok && time.Now().Before(t.expires) && t.scope == strings.TrimRight(base, "/")+"/.default"
}

func (e *Entra) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		e.metadata(w, parts[0])
	case len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token" && r.Method == http.MethodPost:
		e.token(w, r, parts[0])
	default:
		oauthError(w, http.StatusNotFound, "invalid_request", "no such endpoint "+r.URL.Path)
	}
}

// metadata is the OpenID discovery document MSAL reads before asking for a token.
func (e *Entra) metadata(w http.ResponseWriter, tenant string) {
	base := e.Server.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"issuer":                                base + "/v2.0",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"tenant_region_scope":                   "EU",
	})
}

func (e *Entra) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	e.mu.Lock()
	fail := e.failNext > 0
	if fail {
		e.failNext--
	}
	e.mu.Unlock()
	if fail {
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "injected fault")
		return
	}
	f := r.PostForm
	switch {
	case f.Get("grant_type") != "client_credentials":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "want client_credentials")
		return
	case f.Get("client_id") != e.ClientID:
		oauthError(w, http.StatusBadRequest, "unauthorized_client", fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.", f.Get("client_id"), tenant))
		return
	case f.Get("client_secret") != e.Secret:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	// MSAL adds OpenID scopes (openid, profile, offline_access) to the
	// resource's; the token is for the one resource scope.
	var scope string
	for _, s := range strings.Fields(f.Get("scope")) {
		if strings.HasSuffix(s, "/.default") {
			if scope != "" {
				scope = ""
				break
			}
			scope = s
		}
	}
	if scope == "" {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.")
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	e.mu.Lock()
	e.tokens[tok] = token{scope: scope, expires: time.Now().Add(e.Lifetime)}
	e.issued++
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(e.Lifetime.Seconds()),
		"ext_expires_in": int(e.Lifetime.Seconds()),
		"access_token":   tok,
	})
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "error_codes": []int{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
