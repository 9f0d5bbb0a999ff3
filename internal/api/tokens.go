package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
)

// TokenPrefix starts every API token, so that a token pasted somewhere it should
// not be is recognisable (and secret scanners can be taught to find it).
const TokenPrefix = "swk_"

// tokenBytes is the token's entropy; at 256 bits an unsalted SHA-256 of it is as
// good at rest as a slow password hash, and brute force is out of reach.
const tokenBytes = 32

// maxTokensFile bounds what loading the tokens file reads.
const maxTokensFile = 4 << 20

// Role is what a token may do.
type Role string

const (
	// RoleRead may call the GET routes.
	RoleRead Role = "read"
	// RoleAdmin may call every route, including POST /api/v1/logtest.
	RoleAdmin Role = "admin"
)

// ParseRole accepts "read" or "admin".
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleRead, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: want read or admin", s)
}

// allows reports whether a token of role r may use a route that needs role need.
func (r Role) allows(need Role) bool { return r == RoleAdmin || r == need }

// ErrTokenNotFound is what RevokeToken returns for an id the file does not hold.
var ErrTokenNotFound = errors.New("api: no token with that id")

// TokenInfo describes a token without revealing it.
type TokenInfo struct {
	ID      string    `json:"id"`
	Name    string    `json:"name,omitempty"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created"`
}

// tokenEntry is one token as the tokens file stores it: the hash, never the token.
type tokenEntry struct {
	TokenInfo
	SHA256 string `json:"sha256"`
}

// tokensFile is the file's layout.
type tokensFile struct {
	Version int          `json:"version"`
	Tokens  []tokenEntry `json:"tokens"`
}

// hashToken is the hex SHA-256 of the whole token text.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes a new token of the given role, adds its hash to the tokens
// file at path (creating the file, mode 0600, and its directory when missing) and
// returns the token. The token is shown this once: only its hash is kept.
func CreateToken(path string, role Role, name string) (string, TokenInfo, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return "", TokenInfo{}, fmt.Errorf("api: create token: %w", err)
	}
	if err := checkTokenName(name); err != nil {
		return "", TokenInfo{}, fmt.Errorf("api: create token: %w", err)
	}
	secret := make([]byte, tokenBytes)
	idBytes := make([]byte, 8)
	if _, err := rand.Read(secret); err != nil {
		return "", TokenInfo{}, fmt.Errorf("api: create token: %w", err)
	}
	if _, err := rand.Read(idBytes); err != nil {
		return "", TokenInfo{}, fmt.Errorf("api: create token: %w", err)
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	info := TokenInfo{ID: hex.EncodeToString(idBytes), Name: name, Role: role, Created: time.Now().UTC().Truncate(time.Second)}
	err := updateTokens(path, func(f *tokensFile) error {
		f.Tokens = append(f.Tokens, tokenEntry{TokenInfo: info, SHA256: hashToken(token)})
		return nil
	})
	if err != nil {
		return "", TokenInfo{}, fmt.Errorf("api: create token in %s: %w", path, err)
	}
	return token, info, nil
}

// ListTokens returns the tokens of the file at path, oldest first; none when the
// file does not exist.
func ListTokens(path string) ([]TokenInfo, error) {
	f, err := readTokens(path)
	if err != nil {
		return nil, fmt.Errorf("api: list tokens: %w", err)
	}
	out := make([]TokenInfo, len(f.Tokens))
	for i, e := range f.Tokens {
		out[i] = e.TokenInfo
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// RevokeToken removes the token with the given id from the file at path. A
// running server stops accepting it at its next request, since it checks the
// file for changes on each one.
func RevokeToken(path, id string) error {
	err := updateTokens(path, func(f *tokensFile) error {
		for i, e := range f.Tokens {
			if e.ID == id {
				f.Tokens = append(f.Tokens[:i], f.Tokens[i+1:]...)
				return nil
			}
		}
		return ErrTokenNotFound
	})
	if err != nil {
		return fmt.Errorf("api: revoke token %q in %s: %w", id, path, err)
	}
	return nil
}

// checkTokenName keeps names printable and short: they are listed and logged.
func checkTokenName(name string) error {
	if len(name) > 64 {
		return errors.New("name: at most 64 bytes")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("name: %q has unprintable characters", name)
		}
	}
	return nil
}

// updateTokens reads, changes and atomically rewrites the tokens file under an
// exclusive lock, so that two token commands running at once both take effect.
func updateTokens(path string, change func(*tokensFile) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	f, err := readTokens(path)
	if err != nil {
		return err
	}
	if err := change(&f); err != nil {
		return err
	}
	f.Version = 1
	data, err := json.MarshalIndent(&f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'))
}

// readTokens parses the tokens file; a missing file is an empty one.
func readTokens(path string) (tokensFile, error) {
	var f tokensFile
	data, err := readTokensFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	return f, parseTokens(path, data, &f)
}

// readTokensFile reads the file, refusing one that others may write: whoever can
// write it can add a token.
func readTokensFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("%s is writable by group or others (mode %#o): chmod 600 it", path, st.Mode().Perm())
	}
	if st.Size() > maxTokensFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxTokensFile)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(fh); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func parseTokens(path string, data []byte, f *tokensFile) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if f.Version != 1 {
		return fmt.Errorf("%s: version %d is not supported (want 1)", path, f.Version)
	}
	seen := map[string]bool{}
	for i, e := range f.Tokens {
		if _, err := ParseRole(string(e.Role)); err != nil {
			return fmt.Errorf("%s: tokens[%d]: %w", path, i, err)
		}
		if h, err := hex.DecodeString(e.SHA256); err != nil || len(h) != sha256.Size {
			return fmt.Errorf("%s: tokens[%d]: sha256 is not a hex SHA-256", path, i)
		}
		if e.ID == "" || seen[e.ID] {
			return fmt.Errorf("%s: tokens[%d]: id %q is empty or repeated", path, i, e.ID)
		}
		seen[e.ID] = true
	}
	return nil
}

// writeFileAtomic replaces path with data (mode 0600) so that a reader sees the
// old file or the new one, never a part, and the new one survives a crash.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // fails harmlessly after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable; not every system can sync a directory,
// and there it is left to the file system.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !strings.Contains(err.Error(), "not supported") {
		return err
	}
	return nil
}
