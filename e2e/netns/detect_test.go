package netns

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/netnstest"
)

// The namespaces of the detection tests: a one-NIC cloud VM, the cloud's
// router (a 1:1 NAT, and the metadata service), and the internet.
const (
	nsVM       = "vm"
	nsCloud    = "cloud"
	nsInternet = "internet"
)

// Addresses of the detection tests: the VM's private address and the
// router's on 10.0.0.0/24; the router's outside address, the VM's public
// address (mapped 1:1 onto its private one) and the internet host on
// 203.0.113.0/24; the public address the metadata service gives.
const (
	vmPrivate       = "10.0.0.5"
	cloudInside     = "10.0.0.1"
	cloudOutside    = "203.0.113.1"
	vmPublic        = "203.0.113.10"
	internetAddr    = "203.0.113.2"
	metadataAddr    = "169.254.169.254"
	metadataPublic  = "203.0.113.77"
	detectRelayPort = "50000-50099"
)

// detectConfig writes a configuration of the VM's edge whose relay section
// is relay and returns its path.
func detectConfig(t *testing.T, relay string) string {
	t.Helper()
	cfg := `realm: netns.avedge.test
listeners:
  - {protocol: udp, address: 0.0.0.0:3478}
relay:
  ports: ` + detectRelayPort + "\n" + relay + `auth:
  secrets:
    - {id: netns, secret: netns-test-secret-0123456789abcdef}
  nonce_key: netns-test-nonce-key-0123456789abcdef
peers:
  allow: [203.0.113.0/24]
`
	path := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startDetectingEdge runs avedge serve --config path in the VM namespace,
// waits until it serves, and checks that it logged each of logs.
func startDetectingEdge(t *testing.T, n *netnstest.Net, avedge, path string, logs ...string) *netnstest.Proc {
	t.Helper()
	edge := n.StartWith(nsVM, netnstest.StartOptions{Env: []string{"XDG_STATE_HOME=" + t.TempDir()}, Limit: edgeLimit},
		avedge, "serve", "--config", path)
	edge.WaitStderr("serving", readyLimit)
	for _, want := range logs {
		if !strings.Contains(edge.Stderr(), want) {
			t.Errorf("the edge's log lacks %s:\n%s", want, edge.Stderr())
		}
	}
	return edge
}

// issue signs a credential with the configuration at path.
func issue(t *testing.T, avedge, path string) credential {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netnstest.ExecTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, avedge, "creds", "issue", "--user", "alice", "--config", path)
	cmd.Env = stateEnv(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("avedge creds issue: %v", err)
	}
	var c credential
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("avedge creds issue: %v: %s", err, out)
	}
	return c
}

// wantRelayed fails the test unless relayed is addr with a relay port.
func wantRelayed(t *testing.T, relayed, addr string) {
	t.Helper()
	ap, err := netip.ParseAddrPort(relayed)
	if err != nil || ap.Addr() != netip.MustParseAddr(addr) || ap.Port() < 50000 || ap.Port() > 50099 {
		t.Errorf("XOR-RELAYED-ADDRESS %q (%v), want %s:50000-50099", relayed, err, addr)
	}
}

// TestDetectBehindNAT runs the edge in a one-NIC VM namespace whose only
// way out is a router namespace doing nftables 1:1 NAT (203.0.113.10 <->
// 10.0.0.5), with relay.address, relay.advertised: auto and a STUN server
// on the internet side. The edge must find both addresses, log the public
// one with the STUN server as its source, hand it out in
// XOR-RELAYED-ADDRESS, and relay datagrams between a client and a peer on
// the internet, through the NAT both ways.
func TestDetectBehindNAT(t *testing.T) {
	n := netnstest.New(t, nsPrefix)
	for _, ns := range []string{nsVM, nsCloud, nsInternet} {
		n.Add(ns)
	}
	nft, err := exec.LookPath("nft")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("nft: %v (scripts/install-test-deps installs it)", err)
		}
		t.Skipf("nft: %v: install nftables for the router's NAT", err)
	}
	n.Link(nsVM, nsCloud, vmPrivate+"/24", cloudInside+"/24")
	out := n.Link(nsCloud, nsInternet, cloudOutside+"/24", internetAddr+"/24")
	// The router also answers for the VM's public address, which its
	// ruleset maps 1:1 onto the private one.
	n.MustExec(nsCloud, "ip", "addr", "add", vmPublic+"/32", "dev", out.A)
	n.MustExec(nsVM, "ip", "route", "add", "default", "via", cloudInside)
	n.Sysctl(nsCloud, "net.ipv4.ip_forward", "1")
	ruleset := fmt.Sprintf(`table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr %[1]s dnat to %[2]s
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr %[2]s oifname %[3]q snat to %[1]s
	}
}
`, vmPublic, vmPrivate, out.A)
	file := filepath.Join(t.TempDir(), "nat.nft")
	if err := os.WriteFile(file, []byte(ruleset), 0o600); err != nil {
		t.Fatal(err)
	}
	n.MustExec(nsCloud, nft, "-f", file)

	avedge := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	stunAddr := internetAddr + ":3478"
	stun := n.StartWith(nsInternet, netnstest.StartOptions{Limit: 60 * time.Second}, helper, "stun", "-listen", stunAddr, "-timeout", "50s")
	if got := stun.Line(lineLimit); got != `{"listening":true}` {
		t.Fatalf("STUN server: %q, want listening", got)
	}
	path := detectConfig(t, "  address: auto\n  advertised: auto\n  detect_with: [\""+stunAddr+"\"]\n")
	startDetectingEdge(t, n, avedge, path,
		`msg="detected relay.address" address=`+vmPrivate+` source="host interfaces"`,
		`msg="detected relay.advertised" address=`+vmPublic+` relay_address=`+vmPrivate+` source="stun `+stunAddr+`"`)

	peerEcho := fmt.Sprintf("%s:%d", internetAddr, echoPort)
	echo := n.StartWith(nsInternet, netnstest.StartOptions{Limit: 30 * time.Second}, helper,
		"echo", "-listen", peerEcho, "-count", fmt.Sprint(packets), "-timeout", "20s")
	if got := echo.Line(lineLimit); got != `{"listening":true}` {
		t.Fatalf("peer echo: %q, want listening", got)
	}
	cred := issue(t, avedge, path)
	client := n.StartWith(nsInternet, netnstest.StartOptions{Limit: 40 * time.Second}, helper, "relay",
		"-server", vmPublic+":3478", "-user", cred.Username, "-password", cred.Password,
		"-realm", cred.Realm, "-peer", peerEcho, "-count", fmt.Sprint(packets), "-timeout", "5s")
	var res relayResult
	if line := client.Line(lineLimit); json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("client relay: %q", line)
	}
	wantRelayed(t, res.Relayed, vmPublic)
	if res.Sent != packets || res.Echoes != packets {
		t.Errorf("sent %d datagrams through the relay, %d echoes came back; want %d and %d", res.Sent, res.Echoes, packets, packets)
	}
	if got, want := echo.Line(lineLimit), fmt.Sprintf(`{"echoed":%d}`, packets); got != want {
		t.Errorf("peer echo: %s, want %s", got, want)
	}
	t.Logf("relayed %s (%d/%d echoes through the NAT)", res.Relayed, res.Echoes, res.Sent)
	client.WriteLine("done")
	client.Line(lineLimit)
}

// TestDetectFromMetadata runs the edge in a VM namespace with
// relay.address and relay.advertised auto and no STUN servers; the cloud
// namespace serves AWS's IMDSv2 on 169.254.169.254. The edge must take the
// public address it gives (after the token exchange), log it with its
// source, and hand it out in XOR-RELAYED-ADDRESS.
func TestDetectFromMetadata(t *testing.T) {
	n := netnstest.New(t, nsPrefix)
	for _, ns := range []string{nsVM, nsCloud} {
		n.Add(ns)
	}
	v := n.Link(nsVM, nsCloud, vmPrivate+"/24", cloudInside+"/24")
	n.MustExec(nsCloud, "ip", "addr", "add", metadataAddr+"/32", "dev", v.B)
	n.MustExec(nsVM, "ip", "route", "add", metadataAddr+"/32", "via", cloudInside)

	avedge := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	imds := n.StartWith(nsCloud, netnstest.StartOptions{Limit: 60 * time.Second}, helper,
		"imds", "-listen", metadataAddr+":80", "-ip", metadataPublic, "-timeout", "50s")
	if got := imds.Line(lineLimit); got != `{"listening":true}` {
		t.Fatalf("metadata service: %q, want listening", got)
	}
	path := detectConfig(t, "  address: auto\n  advertised: auto\n")
	startDetectingEdge(t, n, avedge, path,
		`msg="detected relay.advertised" address=`+metadataPublic+` relay_address=`+vmPrivate+` source="aws metadata"`)

	// AWS's token exchange, and the paths of GCP and Azure (404 here).
	seen := make(map[string]bool)
	for range 4 {
		var r struct {
			Method, Path string
			Token        bool
		}
		if line := imds.Line(lineLimit); json.Unmarshal([]byte(line), &r) != nil {
			t.Fatalf("metadata service: %q", line)
		}
		seen[fmt.Sprintf("%s %s token=%v", r.Method, r.Path, r.Token)] = true
	}
	for _, want := range []string{"PUT /latest/api/token token=false", "GET /latest/meta-data/public-ipv4 token=true"} {
		if !seen[want] {
			t.Errorf("the metadata service saw %v, want %q among them", seen, want)
		}
	}

	cred := issue(t, avedge, path)
	client := n.StartWith(nsCloud, netnstest.StartOptions{Limit: 30 * time.Second}, helper, "turn",
		"-server", vmPrivate+":3478", "-transport", "udp", "-user", cred.Username, "-password", cred.Password,
		"-realm", cred.Realm, "-timeout", "3s")
	var res struct {
		Relayed string `json:"relayed"`
	}
	if line := client.Line(lineLimit); json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("turn client: %q, want its relayed address", line)
	}
	wantRelayed(t, res.Relayed, metadataPublic)
}
