package gcpclient_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
	"github.com/skywatch-dev/skywatch/internal/gcpclient"
)

func TestCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) config.Path {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return config.Path(p)
	}
	for _, tc := range []struct {
		file config.Path
		want string // "" = accepted
	}{
		{write("sa.json", `{"type":"service_account","project_id":"p","private_key":"-----BEGIN PRIVATE KEY-----\nsecretkeymaterial\n"}`), ""},
		{write("wif.json", `{"type":"external_account","audience":"//iam.googleapis.com/x"}`), ""},
		{write("imp.json", `{"type":"impersonated_service_account","private_key":"secretkeymaterial"}`), `"impersonated_service_account" is not supported`},
		{write("bad.json", `private_key: secretkeymaterial`), "not a credentials JSON file"},
		{config.Path(filepath.Join(dir, "missing.json")), "no such file"},
	} {
		c := gcpclient.Config{ProjectID: "p", CredentialsFile: tc.file}
		opts, err := c.ClientOptions()
		switch {
		case tc.want == "" && (err != nil || len(opts) != 1):
			t.Errorf("%s: %v (%d options)", tc.file, err, len(opts))
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.file, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "secretkeymaterial"):
			t.Errorf("%s: the error shows the file's content: %v", tc.file, err)
		}
	}
	if err := (&gcpclient.Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "project_id") {
		t.Errorf("empty config: %v", err)
	}
}
