package netns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Addresses of the topology: the client and the edge's internal interface
// share 10.99.1.0/24, the edge's external interface and the peer share
// 10.99.2.0/24.
const (
	clientAddr   = "10.99.1.2"
	edgeInternal = "10.99.1.1"
	edgeExternal = "10.99.2.1"
	peerAddr     = "10.99.2.2"
)

const (
	// nsPrefix starts the name of every namespace the test creates.
	nsPrefix = "avedge-netns-"
	// execTimeout bounds one short command (ip, sysctl, a helper run).
	execTimeout = 10 * time.Second
)

// topology names the three namespaces of one test run.
type topology struct {
	client, edge, peer string
}

// requireNetns skips the test when it cannot create network namespaces
// (not root, no ip, no permission), or fails it when the CI environment
// variable is "true".
func requireNetns(t *testing.T) {
	t.Helper()
	msg := ""
	switch {
	case os.Geteuid() != 0:
		msg = "the network-namespace test needs root"
	default:
		if _, err := exec.LookPath("ip"); err != nil {
			msg = "the network-namespace test needs ip (iproute2)"
			break
		}
		name := fmt.Sprintf("%s%d-%s-probe", nsPrefix, os.Getpid(), randomSuffix(t))
		if out, err := ipCmd(t, "netns", "add", name); err != nil {
			msg = fmt.Sprintf("the network-namespace test needs ip netns add: %v: %s", err, out)
			break
		}
		if out, err := ipCmd(t, "netns", "del", name); err != nil {
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

// newTopology removes stale namespaces, then creates the client, edge and
// peer namespaces with their veth pairs and addresses, and removes them
// when the test ends.
func newTopology(t *testing.T) topology {
	t.Helper()
	removeStale(t)
	base := fmt.Sprintf("%s%d-%s-", nsPrefix, os.Getpid(), randomSuffix(t))
	topo := topology{client: base + "client", edge: base + "edge", peer: base + "peer"}
	for _, ns := range []string{topo.client, topo.edge, topo.peer} {
		mustIP(t, "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := ipCmd(t, "netns", "del", ns); err != nil {
				t.Errorf("ip netns del %s: %v: %s", ns, err, out)
			}
		})
		mustIP(t, "-n", ns, "link", "set", "lo", "up")
	}
	// The veth pairs are created inside the edge namespace, so their names
	// never meet the host's interfaces.
	mustIP(t, "-n", topo.edge, "link", "add", "int0", "type", "veth", "peer", "name", "eth0", "netns", topo.client)
	mustIP(t, "-n", topo.edge, "link", "add", "ext0", "type", "veth", "peer", "name", "eth0", "netns", topo.peer)
	for _, a := range []struct{ ns, dev, addr string }{
		{topo.edge, "int0", edgeInternal + "/24"},
		{topo.edge, "ext0", edgeExternal + "/24"},
		{topo.client, "eth0", clientAddr + "/24"},
		{topo.peer, "eth0", peerAddr + "/24"},
	} {
		mustIP(t, "-n", a.ns, "addr", "add", a.addr, "dev", a.dev)
		mustIP(t, "-n", a.ns, "link", "set", a.dev, "up")
	}
	// No routing between the sides except through the relay.
	if out, err := runIn(t, topo.edge, "sysctl", "-w", "net.ipv4.ip_forward=0"); err != nil {
		t.Fatalf("sysctl in %s: %v: %s", topo.edge, err, out)
	}
	return topo
}

// removeStale deletes the namespaces with nsPrefix whose creating process
// no longer runs (a test run that crashed before its cleanup).
func removeStale(t *testing.T) {
	t.Helper()
	out, err := ipCmd(t, "netns", "list")
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], nsPrefix) {
			continue
		}
		name := fields[0]
		pidText, _, _ := strings.Cut(strings.TrimPrefix(name, nsPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err == nil && pid > 0 && syscall.Kill(pid, 0) == nil {
			continue // its test process still runs
		}
		if out, err := ipCmd(t, "netns", "del", name); err != nil {
			t.Errorf("removing stale namespace %s: %v: %s", name, err, out)
		} else {
			t.Logf("removed stale namespace %s", name)
		}
	}
}

// randomSuffix returns 8 random hex digits.
func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// ipCmd runs ip with args, bounded by execTimeout, and returns its
// combined output.
func ipCmd(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	return exec.CommandContext(ctx, "ip", args...).CombinedOutput()
}

// mustIP runs ip with args and fails the test if it fails.
func mustIP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := ipCmd(t, args...); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// runIn runs name with args in namespace ns, bounded by execTimeout, and
// returns its standard output (its standard error on failure is in the
// error).
func runIn(t *testing.T, ns, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), ns, err, stderr.String())
	}
	return out, nil
}
