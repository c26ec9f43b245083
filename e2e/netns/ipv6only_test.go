package netns

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/netnstest"
)

// The IPv6-only topology: the edge and, on its one link, a namespace that
// is both the client and the peer; neither has an IPv4 address but
// loopback's.
const (
	nsEdge6  = "edge6"
	nsOuter6 = "outer6"
	edge6    = "2001:db8:66::1"
	outer6   = "2001:db8:66::2"
)

// TestIPv6OnlyEdge runs an edge with only an IPv6 relay address
// (testdata/ipv6only.yaml) in an IPv6-only namespace: creds issue hands out
// only the IPv6 URI, a client that does not ask for an address family is
// given an IPv6 relayed address, and datagrams reach an IPv6 peer through
// it and come back.
func TestIPv6OnlyEdge(t *testing.T) {
	n := netnstest.New(t, nsPrefix)
	n.Add(nsEdge6)
	n.Add(nsOuter6)
	n.Link(nsEdge6, nsOuter6, edge6+"/64", outer6+"/64")
	avedge := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	b, err := os.ReadFile(filepath.Join("testdata", "ipv6only.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ipv6only.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	out, err := n.Exec(nsEdge6, avedge, "creds", "issue", "--config", path, "--user", "alice")
	if err != nil {
		t.Fatalf("creds issue: %v\n%s", err, out)
	}
	var cred credential
	if err := json.Unmarshal(out, &cred); err != nil {
		t.Fatalf("creds issue printed %q: %v", out, err)
	}
	if want := []string{"turn:[" + edge6 + "]:3478?transport=udp"}; !slices.Equal(cred.URIs, want) {
		t.Fatalf("creds issue URIs %q, want %q", cred.URIs, want)
	}

	edge := n.StartWith(nsEdge6, netnstest.StartOptions{Env: []string{"XDG_STATE_HOME=" + t.TempDir()}, Limit: edgeLimit},
		avedge, "serve", "--config", path)
	edge.WaitStderr("serving", readyLimit)

	peer := fmt.Sprintf("[%s]:%d", outer6, echoPort)
	echo := n.StartWith(nsOuter6, netnstest.StartOptions{Limit: 30 * time.Second}, helper,
		"echo", "-listen", peer, "-count", strconv.Itoa(packets), "-timeout", "20s")
	if got := echo.Line(lineLimit); got != `{"listening":true}` {
		t.Fatalf("peer echo: %q, want listening", got)
	}
	client := n.StartWith(nsOuter6, netnstest.StartOptions{Limit: 40 * time.Second}, helper, "relay",
		"-server", "["+edge6+"]:3478", "-user", cred.Username, "-password", cred.Password,
		"-realm", cred.Realm, "-peer", peer, "-count", strconv.Itoa(packets), "-timeout", "5s")
	var res relayResult
	if line := client.Line(lineLimit); json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("client relay: %q", line)
	}
	client.WriteLine("done")
	relayed, err := netip.ParseAddrPort(res.Relayed)
	if err != nil || relayed.Addr() != netip.MustParseAddr(edge6) || relayed.Port() < 50000 || relayed.Port() > 50099 {
		t.Fatalf("relayed address %q (%v), want [%s] with a port in 50000-50099", res.Relayed, err, edge6)
	}
	if res.Sent != packets || res.Echoes != packets {
		t.Errorf("sent %d, %d echoes came back; want %d and %d", res.Sent, res.Echoes, packets, packets)
	}
	if got, want := echo.Line(lineLimit), fmt.Sprintf(`{"echoed":%d}`, packets); got != want {
		t.Errorf("peer echo: %s, want %s", got, want)
	}
}
