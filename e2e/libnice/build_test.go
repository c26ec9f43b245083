package libnice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds pkg-config and the compilation.
const buildTimeout = time.Minute

// errMissing reports a tool or library that scripts/install-test-deps
// installs.
var errMissing = errors.New("libnice: missing test dependency (run scripts/install-test-deps)")

// program is testdata/agents.c compiled once per test binary, into a
// directory TestMain removes.
var program struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// agentsProgram returns the path of the compiled testdata/agents.c,
// failing the test when it cannot be built.
func agentsProgram(t *testing.T) string {
	t.Helper()
	program.once.Do(func() {
		program.dir, program.err = os.MkdirTemp("", "avedge-libnice-")
		if program.err == nil {
			program.path = filepath.Join(program.dir, "agents")
			program.err = compile(program.path)
		}
	})
	if program.err != nil {
		t.Fatal(program.err)
	}
	return program.path
}

// compile builds testdata/agents.c into out with gcc and libnice's flags.
func compile(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	if _, err := exec.LookPath("gcc"); err != nil {
		return fmt.Errorf("%w: gcc (Debian package gcc): %v", errMissing, err)
	}
	if _, err := exec.LookPath("pkg-config"); err != nil {
		return fmt.Errorf("%w: pkg-config (Debian package pkg-config): %v", errMissing, err)
	}
	flags, err := exec.CommandContext(ctx, "pkg-config", "--cflags", "--libs", "nice").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: libnice development files, pkg-config nice (Debian package libnice-dev): %v: %s",
			errMissing, err, strings.TrimSpace(string(flags)))
	}
	args := append([]string{"-Wall", "-Wextra", "-Werror", "-O1", "-o", out, "testdata/agents.c"},
		strings.Fields(string(flags))...)
	if b, err := exec.CommandContext(ctx, "gcc", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("libnice: gcc testdata/agents.c: %w\n%s", err, b)
	}
	return nil
}
