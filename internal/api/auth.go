package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
)

// authenticator checks bearer tokens against the tokens file. It looks at the
// file's identity (inode, size, mtime, mode) on every check, one stat, and reloads it
// when it changed: a token created or revoked by the CLI takes effect at the next
// request without a restart or a signal.
type authenticator struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	seen    fs.FileInfo // the file as last loaded; nil when missing or unreadable
	tokens  []authToken
	lastErr string // the last load error logged, to log each problem once
}

type authToken struct {
	info TokenInfo
	hash [sha256.Size]byte
}

func newAuthenticator(path string, log *slog.Logger) (*authenticator, error) {
	a := &authenticator{path: path, log: log}
	if err := a.Reload(); err != nil {
		return nil, err
	}
	return a, nil
}

// Reload reads the tokens file now. On error no token is accepted until the file
// is fixed: a broken file must not keep a revoked token alive.
func (a *authenticator) Reload() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	st, err := os.Stat(a.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		a.fail(err)
		return err
	}
	return a.load(st)
}

// refresh reloads the file when it is not the one last loaded.
func (a *authenticator) refresh() {
	st, err := os.Stat(a.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st = nil
	case err != nil:
		a.fail(err)
		return
	}
	if sameFile(a.seen, st) {
		return // unchanged, including a broken file already reported
	}
	_ = a.load(st)
}

func (a *authenticator) load(st fs.FileInfo) error {
	var f tokensFile
	if st != nil {
		data, err := readTokensFile(a.path)
		if err == nil {
			err = parseTokens(a.path, data, &f)
		}
		if err != nil {
			a.fail(err)
			a.seen = st
			return err
		}
	}
	tokens := make([]authToken, 0, len(f.Tokens))
	for _, e := range f.Tokens {
		t := authToken{info: e.TokenInfo}
		_, _ = hex.Decode(t.hash[:], []byte(e.SHA256)) // checked by parseTokens
		tokens = append(tokens, t)
	}
	a.log.Info("api: tokens loaded", "file", a.path, "tokens", len(tokens))
	a.tokens, a.seen, a.lastErr = tokens, st, ""
	return nil
}

// fail drops every token and logs the problem once.
func (a *authenticator) fail(err error) {
	a.tokens, a.seen = nil, nil
	if msg := err.Error(); msg != a.lastErr {
		a.log.Error("api: cannot load tokens; refusing every request until fixed", "file", a.path, "err", msg)
		a.lastErr = msg
	}
}

func sameFile(a, b fs.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && a.Mode() == b.Mode()
}

// count is the number of tokens accepted now.
func (a *authenticator) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.tokens)
}

// check returns the token's description when it is one of the file's. Every
// stored hash is compared, in constant time, whatever matches.
func (a *authenticator) check(token string) (TokenInfo, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refresh()
	if !strings.HasPrefix(token, TokenPrefix) {
		return TokenInfo{}, false
	}
	sum := sha256.Sum256([]byte(token))
	var found TokenInfo
	ok := 0
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].hash[:]) == 1 {
			found, ok = a.tokens[i].info, 1
		}
	}
	return found, ok == 1
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}
