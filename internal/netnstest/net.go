package netnstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// ExecTimeout bounds one command run by Exec and the ip commands the
// handle runs itself.
const ExecTimeout = 10 * time.Second

// Net is a set of network namespaces of one test. Create it with New.
type Net struct {
	t testing.TB
	*state
}

// state is what the copies of a Net made by For share.
type state struct {
	base string // prefix-PID-RANDOM-

	mu         sync.Mutex
	namespaces map[string]bool            // short names added
	devices    map[string]map[string]bool // device names by short namespace name
}

// New removes stale namespaces with prefix (see RemoveStale) and returns
// an empty handle whose namespaces are named prefix-PID-RANDOM-NAME. It
// skips t (or fails it when CI is "true") when the process cannot create
// network namespaces. prefix should name the test suite, such as
// "avedge-netns".
func New(t testing.TB, prefix string) *Net {
	t.Helper()
	prefix = strings.TrimSuffix(prefix, "-") + "-"
	require(t, prefix)
	RemoveStale(t, prefix)
	return &Net{t: t, state: &state{
		base:       fmt.Sprintf("%s%d-%s-", prefix, os.Getpid(), randomSuffix(t)),
		namespaces: make(map[string]bool),
		devices:    make(map[string]map[string]bool),
	}}
}

// For returns a handle on the same namespaces that fails and cleans up
// through t: use it inside a subtest.
func (n *Net) For(t testing.TB) *Net { return &Net{t: t, state: n.state} }

// Add creates the namespace name (its loopback interface up) and deletes it
// when the test ends; it returns the namespace's full name, as ip netns
// knows it.
func (n *Net) Add(name string) string {
	n.t.Helper()
	n.mu.Lock()
	dup := n.namespaces[name]
	n.namespaces[name] = true
	n.devices[name] = map[string]bool{"lo": true}
	n.mu.Unlock()
	if dup || name == "" || strings.ContainsAny(name, "/ \t\n") {
		n.t.Fatalf("netnstest: Add(%q): empty, malformed or already added", name)
	}
	full := n.base + name
	n.mustIP("netns", "add", full)
	t := n.t
	t.Cleanup(func() {
		if out, err := ip("netns", "del", full); err != nil {
			t.Errorf("ip netns del %s: %v: %s", full, err, out)
		}
	})
	n.mustIP("-n", full, "link", "set", "lo", "up")
	return full
}

// Name returns the full name of namespace name, or fails the test if it
// was not added.
func (n *Net) Name(name string) string {
	n.t.Helper()
	full, err := n.full(name)
	if err != nil {
		n.t.Fatal(err)
	}
	return full
}

// full returns the full name of namespace name.
func (n *Net) full(name string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.namespaces[name] {
		return "", fmt.Errorf("%w: %q", ErrUnknownNamespace, name)
	}
	return n.base + name, nil
}

// Veth names the two ends of a veth pair made by Link.
type Veth struct {
	// A is the device in the first namespace, B the one in the second.
	A, B string
}

// Link joins namespaces a and b with a veth pair, gives the ends the
// addresses addrA and addrB (CIDR notation, such as "10.0.0.1/24"; an
// empty one is left out) and brings them up. The end in a is named after
// b and the end in b after a, so that names are known in advance (an
// "edge" namespace linked to "client" and "peer" has the devices "client"
// and "peer"); a name longer than 15 bytes, the limit of Linux device
// names, or a second link between the same namespaces fails the test.
// IPv6 addresses skip duplicate address detection, so that they are
// usable at once.
func (n *Net) Link(a, b, addrA, addrB string) Veth {
	n.t.Helper()
	fa, fb := n.Name(a), n.Name(b)
	v := Veth{A: b, B: a}
	n.mu.Lock()
	taken := len(v.A) > 15 || len(v.B) > 15 || a == b || n.devices[a][v.A] || n.devices[b][v.B]
	n.devices[a][v.A], n.devices[b][v.B] = true, true
	n.mu.Unlock()
	if taken {
		n.t.Fatalf("netnstest: Link(%q, %q): the device names %q and %q are too long or taken", a, b, v.A, v.B)
	}
	// The pair is created inside a and its end moved to b, so that the
	// names never meet the host's interfaces.
	n.mustIP("-n", fa, "link", "add", "name", v.A, "type", "veth", "peer", "name", v.B, "netns", fb)
	for _, end := range []struct{ ns, dev, addr string }{{fa, v.A, addrA}, {fb, v.B, addrB}} {
		if end.addr != "" {
			args := []string{"-n", end.ns, "addr", "add", end.addr, "dev", end.dev}
			if strings.Contains(end.addr, ":") {
				args = append(args, "nodad")
			}
			n.mustIP(args...)
		}
		n.mustIP("-n", end.ns, "link", "set", "dev", end.dev, "up")
	}
	return v
}

// Sysctl sets key (such as "net.ipv4.ip_forward") to value in namespace
// ns, failing the test on error.
func (n *Net) Sysctl(ns, key, value string) {
	n.t.Helper()
	if out, err := n.Exec(ns, "sysctl", "-w", key+"="+value); err != nil {
		n.t.Fatalf("netnstest: sysctl %s=%s: %v: %s", key, value, err, out)
	}
}

// Exec runs args in namespace ns, bounded by ExecTimeout, and returns its
// standard output; on failure the error holds its standard error.
func (n *Net) Exec(ns string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ExecTimeout)
	defer cancel()
	return n.ExecContext(ctx, ns, args...)
}

// ExecContext runs args in namespace ns until ctx ends, and returns its
// standard output; on failure the error holds its standard error.
func (n *Net) ExecContext(ctx context.Context, ns string, args ...string) ([]byte, error) {
	full, err := n.full(ns)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("netnstest: Exec in %s: no command", ns)
	}
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", full}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("netnstest: %s in %s: %w: %s", strings.Join(args, " "), ns, err, stderr.String())
	}
	return out, nil
}

// MustExec runs args in namespace ns as Exec does and returns its standard
// output, failing the test on error.
func (n *Net) MustExec(ns string, args ...string) []byte {
	n.t.Helper()
	out, err := n.Exec(ns, args...)
	if err != nil {
		n.t.Fatal(err)
	}
	return out
}

// mustIP runs ip with args on the host and fails the test on error.
func (n *Net) mustIP(args ...string) {
	n.t.Helper()
	if out, err := ip(args...); err != nil {
		n.t.Fatalf("netnstest: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// ip runs ip with args, bounded by ExecTimeout, and returns its combined
// output.
func ip(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ExecTimeout)
	defer cancel()
	return exec.CommandContext(ctx, "ip", args...).CombinedOutput()
}

// randomSuffix returns 8 random hex digits.
func randomSuffix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
