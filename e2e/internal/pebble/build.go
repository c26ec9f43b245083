package pebble

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// module is the module of Pebble and pebble-challtestsrv.
const module = "github.com/letsencrypt/pebble/v2"

// built is where build put the binaries, once per process.
var built struct {
	once sync.Once
	dir  string // binaries
	mod  string // the module's source, for its test certificates
	err  error
}

// Main runs the tests of m, removes the binaries build made in this
// process, if any, and exits with the tests' status: the TestMain of a
// package that starts Pebble, so that no run leaves them behind.
func Main(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// build builds pebble and pebble-challtestsrv (tool dependencies of the
// e2e module) and returns their directory and the module's.
func build(t testing.TB) (bin, mod string) {
	t.Helper()
	b := &built
	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", module).Output()
		if err != nil {
			b.err = fmt.Errorf("go list -m %s: %w", module, err)
			return
		}
		b.mod = strings.TrimSpace(string(out))
		b.dir, err = os.MkdirTemp("", "pebble-bin-")
		if err != nil {
			b.err = fmt.Errorf("pebble: %w", err)
			return
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.dir+"/", module+"/cmd/pebble", module+"/cmd/pebble-challtestsrv")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build pebble: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.dir, b.mod
}
