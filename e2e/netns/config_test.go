package netns

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/netnstest"
)

// writeConfig copies testdata/name into a new directory, writes a
// development PKI (with a new CA, for the service name 10.99.1.1) to its
// pki/ subdirectory and an admin token to its admin.token, and returns the
// copy's path and the directory.
func writeConfig(t *testing.T, avedge, name string) (path, dir string) {
	t.Helper()
	dir = t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte("netns-test-admin-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), netnstest.ExecTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, avedge, "pki", "dev", "--new-ca", "--out", filepath.Join(dir, "pki"),
		"--server-name", edgeInternal)
	cmd.Env = stateEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("avedge pki dev: %v\n%s", err, out)
	}
	return path, dir
}

// stateEnv is the environment of avedge commands: a state directory of
// the test's own, so that the user's development PKI stays untouched.
func stateEnv(t *testing.T) []string {
	t.Helper()
	return append(os.Environ(), "XDG_STATE_HOME="+t.TempDir())
}

// TestConfigRefusesExternalCredentialService runs avedge serve with the
// credential service on the external address and expects exit status 1
// and a message naming the key.
func TestConfigRefusesExternalCredentialService(t *testing.T) {
	avedge := shipped.Build(t, "cmd/avedge")
	tests := []struct {
		name, file string
		want       []string
	}{
		{
			name: "credential service on the external address",
			file: "bad-credsvc-external.yaml",
			want: []string{"credential_service.listen", "10.99.2.1:5062", "internal"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := writeConfig(t, avedge, tt.file)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, avedge, "serve", "--config", path)
			cmd.Env = stateEnv(t)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("avedge serve: err %v, want exit status 1; output:\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
