package netnstest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BuildTimeout bounds one go build.
const BuildTimeout = 2 * time.Minute

// Build compiles the main package pkg, a path relative to the root of the
// module the test runs in (such as "cmd/avedge"), into a temporary
// directory of t and returns the binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if err != nil || root == "." {
		t.Fatalf("netnstest: go env GOMOD: %v (%q): not in a module", err, gomod)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./"+filepath.ToSlash(filepath.Clean(pkg)))
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("netnstest: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
