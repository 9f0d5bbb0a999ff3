package api_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/api"
)

func TestCreateListRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "api-tokens.json")
	tok, info, err := api.CreateToken(path, api.RoleAdmin, "ci deploy")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, api.TokenPrefix) {
		t.Errorf("token %q... lacks the prefix", tok[:4])
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, api.TokenPrefix))
	if err != nil || len(raw) < 32 {
		t.Errorf("token body is %d bytes of base64url (%v), want >= 32", len(raw), err)
	}
	tok2, _, err := api.CreateToken(path, api.RoleRead, "")
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok {
		t.Fatal("two tokens are equal")
	}

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("tokens file mode %#o, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	for _, secret := range []string{tok, tok2, strings.TrimPrefix(tok, api.TokenPrefix), strings.TrimPrefix(tok2, api.TokenPrefix)} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the tokens file holds a token:\n%s", data)
		}
	}
	var file struct {
		Version int
		Tokens  []map[string]any
	}
	if err := json.Unmarshal(data, &file); err != nil || file.Version != 1 || len(file.Tokens) != 2 {
		t.Fatalf("tokens file: %v\n%s", err, data)
	}
	for _, k := range []string{"id", "role", "created", "sha256", "name"} {
		if _, ok := file.Tokens[0][k]; !ok {
			t.Errorf("entry has no %q: %v", k, file.Tokens[0])
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".api-tokens.json.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	list, err := api.ListTokens(path)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListTokens = %v, %v", list, err)
	}
	if list[0] != info || list[0].Name != "ci deploy" || list[1].Role != api.RoleRead {
		t.Errorf("list = %+v, created %+v", list, info)
	}
	if err := api.RevokeToken(path, "nope"); !errors.Is(err, api.ErrTokenNotFound) {
		t.Errorf("revoke unknown id: %v", err)
	}
	if err := api.RevokeToken(path, info.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := api.ListTokens(path); len(list) != 1 || list[0].ID == info.ID {
		t.Errorf("after revoke: %+v", list)
	}

	if list, err := api.ListTokens(filepath.Join(t.TempDir(), "missing.json")); err != nil || len(list) != 0 {
		t.Errorf("missing file: %v, %v", list, err)
	}
	if _, _, err := api.CreateToken(path, "root", ""); err == nil {
		t.Error("role root accepted")
	}
	if _, _, err := api.CreateToken(path, api.RoleRead, "bad\nname"); err == nil {
		t.Error("a name with a newline accepted")
	}
	if r, err := api.ParseRole("admin"); r != api.RoleAdmin || err != nil {
		t.Errorf("ParseRole(admin) = %v, %v", r, err)
	}
	if _, err := api.ParseRole("Admin"); err == nil {
		t.Error("ParseRole(Admin) accepted")
	}
}

// Token commands run at the same time all take effect (the file is locked).
func TestConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api-tokens.json")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := api.CreateToken(path, api.RoleRead, "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if list, err := api.ListTokens(path); err != nil || len(list) != n {
		t.Errorf("%d tokens after %d concurrent creates (%v)", len(list), n, err)
	}
}

func TestBrokenTokensFile(t *testing.T) {
	for name, content := range map[string]string{
		"not json":      "{",
		"bad version":   `{"version":2,"tokens":[]}`,
		"unknown field": `{"version":1,"tokens":[],"extra":1}`,
		"bad role":      `{"version":1,"tokens":[{"id":"a","role":"root","created":"2024-01-01T00:00:00Z","sha256":"` + strings.Repeat("0", 64) + `"}]}`,
		"bad hash":      `{"version":1,"tokens":[{"id":"a","role":"read","created":"2024-01-01T00:00:00Z","sha256":"abc"}]}`,
		"repeated id": `{"version":1,"tokens":[{"id":"a","role":"read","created":"2024-01-01T00:00:00Z","sha256":"` + strings.Repeat("0", 64) +
			`"},{"id":"a","role":"read","created":"2024-01-01T00:00:00Z","sha256":"` + strings.Repeat("1", 64) + `"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := tokensPathIn(dir)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := api.ListTokens(path); err == nil {
				t.Error("ListTokens: no error")
			}
			if _, _, err := api.CreateToken(path, api.RoleRead, ""); err == nil {
				t.Error("CreateToken over a broken file: no error")
			}
			cfg := testConfig()
			if _, err := api.New(cfg, api.Options{DataDir: dir, Logger: quiet}); err == nil {
				t.Error("New with a broken tokens file: no error")
			}
		})
	}
}
