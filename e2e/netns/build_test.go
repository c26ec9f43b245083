package netns

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// buildTimeout bounds one go build.
const buildTimeout = 2 * time.Minute

// build compiles the main package pkg (a path relative to the module root)
// into t.TempDir() and returns the binary's path.
func build(t *testing.T, pkg string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./"+pkg)
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
