package shipped

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avedge/avedge/internal/netnstest"
)

// modulePath is the path of the shipped module.
const modulePath = "github.com/avedge/avedge"

// Build compiles the main package pkg of the shipped module, a path
// relative to its root (such as "cmd/avedge"), into a temporary directory
// of t and returns the binary's path. The go command says where the module
// is: the directory that e2e/go.mod's replace directive names.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netnstest.BuildTimeout)
	defer cancel()
	dir, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", modulePath).Output()
	root := strings.TrimSpace(string(dir))
	if err != nil || root == "" {
		t.Fatalf("shipped: go list -m %s: %v (%q)", modulePath, err, dir)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./"+filepath.ToSlash(filepath.Clean(pkg)))
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shipped: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
