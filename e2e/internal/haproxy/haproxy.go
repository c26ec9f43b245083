package haproxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/loopback"
	"github.com/avedge/avedge/e2e/internal/proc"
)

// startTimeout bounds the wait for HAProxy's frontend.
const startTimeout = 10 * time.Second

// missing is the reason to skip, or fail, without haproxy.
const missing = "haproxy is not installed (scripts/install-test-deps installs it)"

// Path returns haproxy's path (on PATH, or Debian's /usr/sbin/haproxy); without
// it the test skips, or fails when CI=true.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"haproxy", "/usr/sbin/haproxy"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(missing)
	}
	t.Skip(missing)
	return ""
}

// Start writes config to a file of a new directory and runs the haproxy at
// path on it until the test ends; it returns once HAProxy accepts
// connections on frontend, an address the configuration binds ("ip:port").
func Start(t testing.TB, path, config, frontend string) *proc.Process {
	t.Helper()
	file := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	p := proc.Start(t, "", nil, path, "-db", "-f", file)
	loopback.WaitTCP(t, frontend, startTimeout)
	return p
}
