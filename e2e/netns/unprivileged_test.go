package netns

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/netnstest"
)

// nobody is the user and group the unprivileged edge runs as.
const nobody = "65534"

// TestOffloadUnprivileged runs the offloaded edge as an unprivileged user
// (setpriv, uid and gid 65534) holding only CAP_BPF and CAP_NET_ADMIN,
// what deploy/systemd/offload.conf grants: it attaches the program and
// relays in the kernel. With CAP_NET_ADMIN alone, datapath.offload: tc
// does not start and says which capabilities it needs.
func TestOffloadUnprivileged(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("setpriv (Debian package util-linux) is needed to run the edge unprivileged")
		}
		t.Skip("setpriv (Debian package util-linux) is not installed")
	}
	built := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	n := newOffloadTopology(t, helper)
	path, dir := writeConfig(t, built, "offload.yaml")
	// The unprivileged user reads the configuration, its files and the
	// binary, and writes the records and its state beside them.
	avedge := filepath.Join(dir, "avedge")
	b, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(avedge, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		mode := os.FileMode(0o644)
		if info.IsDir() || p == avedge {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	}); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o777); err != nil {
		t.Fatal(err)
	}
	cred := issueCredential(t, n, avedge, path)
	as := func(caps string) []string {
		return []string{setpriv, "--reuid=" + nobody, "--regid=" + nobody, "--clear-groups",
			"--inh-caps=-all," + caps, "--ambient-caps=-all," + caps, "--bounding-set=-all," + caps,
			"env", "XDG_STATE_HOME=" + state, avedge, "serve", "--config", path}
	}

	// Exec's error holds the edge's standard error.
	if _, err := n.Exec(nsEdge, as("+net_admin")...); err == nil || !strings.Contains(err.Error(), "needs CAP_BPF and CAP_NET_ADMIN") {
		t.Errorf("without CAP_BPF: %v; want a refusal naming CAP_BPF and CAP_NET_ADMIN", err)
	}

	edge := n.StartWith(nsEdge, netnstest.StartOptions{Limit: edgeLimit}, as("+bpf,+net_admin")...)
	edge.WaitStderr("serving", readyLimit)
	if !strings.Contains(edge.Stderr(), "offload: attached") {
		t.Fatalf("the unprivileged edge did not attach the offload:\n%s", edge.Stderr())
	}
	const count = 20
	if rx := exchange(t, n, helper, cred, 4, count); rx > count/2 {
		t.Errorf("the edge's sockets received %v datagrams for %d relayed each way: not offloaded", rx, count)
	}
	if err := edge.Stop(); err != nil {
		t.Logf("edge stopped: %v", err)
	}
	waitPrograms(t, n, helper, 0)
}
