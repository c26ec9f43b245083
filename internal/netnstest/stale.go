package netnstest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// require skips t when it cannot create network namespaces (not root, no
// ip, no permission), or fails it when the CI environment variable is
// "true"; on systems other than Linux, which have none, it always skips.
// It probes by creating and deleting a namespace with prefix.
func require(t testing.TB, prefix string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("network namespaces need Linux")
	}
	msg := ""
	switch {
	case os.Geteuid() != 0:
		msg = "network-namespace tests need root"
	default:
		if _, err := exec.LookPath("ip"); err != nil {
			msg = "network-namespace tests need ip (iproute2)"
			break
		}
		name := fmt.Sprintf("%s%d-%s-probe", prefix, os.Getpid(), randomSuffix(t))
		if out, err := ip("netns", "add", name); err != nil {
			msg = fmt.Sprintf("network-namespace tests need ip netns add: %v: %s", err, out)
			break
		}
		if out, err := ip("netns", "del", name); err != nil {
			t.Fatalf("ip netns del %s: %v: %s", name, err, out)
		}
	}
	if msg == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// RemoveStale deletes the namespaces named prefix-PID-... (prefix ending
// in "-") whose process PID no longer runs: those of a test run that
// crashed before its cleanup. New calls it.
func RemoveStale(t testing.TB, prefix string) {
	t.Helper()
	out, err := ip("netns", "list")
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], prefix) {
			continue
		}
		name := fields[0]
		pidText, _, _ := strings.Cut(strings.TrimPrefix(name, prefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 {
			continue // not named by this package
		}
		if !processGone(pid) {
			continue // its test process still runs
		}
		if out, err := ip("netns", "del", name); err != nil {
			t.Errorf("removing stale namespace %s: %v: %s", name, err, out)
		} else {
			t.Logf("removed stale namespace %s", name)
		}
	}
}
