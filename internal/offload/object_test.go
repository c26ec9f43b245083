package offload

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestObjectMatchesSource rebuilds the program with scripts/gen-bpf into a
// temporary directory and checks that the committed object and bindings
// are what bpf/offload.c compiles to. Without clang, llvm-strip and the
// libbpf headers it skips, or fails when CI is "true"
// (scripts/install-test-deps installs them).
func TestObjectMatchesSource(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the object is built on Linux")
	}
	missing := ""
	for _, cmd := range []string{"clang", "llvm-strip", "bash"} {
		if _, err := exec.LookPath(cmd); err != nil {
			missing = cmd
		}
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		missing = "libbpf-dev's headers"
	}
	if missing != "" {
		msg := "rebuilding the eBPF object needs " + missing + " (apt-get install clang llvm libbpf-dev)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	cmd := exec.Command("bash", "../../scripts/gen-bpf", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/gen-bpf: %v\n%s", err, out)
	}
	for _, name := range []string{"offload_bpfel.o", "offload_bpfel.go"} {
		committed, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		rebuilt, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, rebuilt) {
			t.Errorf("%s differs from what bpf/offload.c compiles to: run scripts/gen-bpf and commit", name)
		}
	}
}
