package netns

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/netnstest"
)

const (
	// echoPort is the peer's UDP echo port.
	echoPort = 4000
	// packets is how many datagrams each phase sends.
	packets = 5
	// lineLimit bounds the wait for one line of a helper's output.
	lineLimit = 15 * time.Second
	// counterLimit bounds the wait for a counter to grow.
	counterLimit = 5 * time.Second
)

// credential is what avedge creds request prints (the fields the test
// uses).
type credential struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Realm    string   `json:"realm"`
	URIs     []string `json:"uris"`
}

// relayResult is the first line of the helper's relay mode.
type relayResult struct {
	Relayed            string `json:"relayed"`
	Sent               int    `json:"sent"`
	Echoes             int    `json:"echoes"`
	UnpermittedRelayed string `json:"unpermitted_relayed"`
}

// TestTwoInterfaceEdge runs the edge between an internal client namespace
// and an external peer namespace (which also acts as the external client)
// and checks the interface rules from both sides.
func TestTwoInterfaceEdge(t *testing.T) {
	n := newTopology(t)
	avedge := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	path, dir := writeConfig(t, avedge, "edge.yaml")
	startEdge(t, n, avedge, helper, path)

	intranet := requestCredential(t, n, avedge, dir, "intranet", edgeInternal, edgeExternal)
	internet := requestCredential(t, n, avedge, dir, "internet", edgeExternal, edgeInternal)
	t.Run("relayed media crosses only with a permission", func(t *testing.T) {
		testRelay(t, n.For(t), helper, intranet)
	})
	t.Run("internal and external clients relay to each other", func(t *testing.T) {
		testMeet(t, n.For(t), helper, intranet, internet)
	})
	t.Run("credential service and admin only on the internal side", func(t *testing.T) {
		testReachability(t, n.For(t), helper)
	})
	t.Run("firewall rules bind the internal services to the internal interface", func(t *testing.T) {
		testFirewall(t, n.For(t), avedge, path, helper, intranet, internet)
	})
}

// requestCredential asks the credential service from the client namespace
// (where the trusted servers are) for a credential for callers at location
// ("intranet" or "internet") and checks that its URIs name the UDP
// listener at want and none at notWant: credential_service.relays is
// derived from the listeners of the interface of each location.
func requestCredential(t *testing.T, n *netnstest.Net, avedge, dir, location, want, notWant string) credential {
	t.Helper()
	pki := filepath.Join(dir, "pki")
	out, err := n.Exec(nsClient, avedge, "creds", "request",
		"--service", "https://"+edgeInternal+":5062",
		"--cert", filepath.Join(pki, "client.crt"), "--key", filepath.Join(pki, "client.key"),
		"--ca", filepath.Join(pki, "ca.crt"),
		"--identity", "alice", "--location", location, "--timeout", "5s")
	if err != nil {
		t.Fatalf("avedge creds request --location %s from the client namespace: %v", location, err)
	}
	var cred credential
	if err := json.Unmarshal(out, &cred); err != nil {
		t.Fatalf("avedge creds request: %v: %s", err, out)
	}
	if cred.Username == "" || cred.Password == "" || cred.Realm != "netns.avedge.test" {
		t.Fatalf("credential %s: want a username, a password and realm netns.avedge.test", out)
	}
	if uri := "turn:" + want + ":3478?transport=udp"; !slices.Contains(cred.URIs, uri) {
		t.Errorf("%s credential URIs %q lack %q", location, cred.URIs, uri)
	}
	for _, uri := range cred.URIs {
		if strings.Contains(uri, notWant) {
			t.Errorf("%s credential URI %q names %s, the other interface", location, uri, notWant)
		}
	}
	return cred
}

// testRelay relays between the helper in the client namespace (internal
// side) and the helper in the peer namespace (external side): with a permission the peer's echoes come back
// through an external relayed address; without one the peer's datagrams are
// dropped, counted as no_permission, and never reach the client.
func testRelay(t *testing.T, n *netnstest.Net, helper string, cred credential) {
	peerEcho := fmt.Sprintf("%s:%d", peerAddr, echoPort)
	echo := n.StartWith(nsPeer, netnstest.StartOptions{Limit: 30 * time.Second}, helper,
		"echo", "-listen", peerEcho, "-count", strconv.Itoa(packets), "-timeout", "20s")
	if got := echo.Line(lineLimit); got != `{"listening":true}` {
		t.Fatalf("peer echo: %q, want listening", got)
	}
	client := n.StartWith(nsClient, netnstest.StartOptions{Limit: 40 * time.Second}, helper, "relay",
		"-server", edgeInternal+":3478", "-user", cred.Username, "-password", cred.Password,
		"-realm", cred.Realm, "-peer", peerEcho, "-count", strconv.Itoa(packets), "-timeout", "5s")
	var res relayResult
	if line := client.Line(lineLimit); json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("client relay: %q", line)
	}
	for _, relayed := range []string{res.Relayed, res.UnpermittedRelayed} {
		checkExternal(t, relayed)
	}
	if res.Sent != packets || res.Echoes != packets {
		t.Errorf("with a permission: sent %d, %d echoes came back; want %d and %d", res.Sent, res.Echoes, packets, packets)
	}
	t.Logf("relayed %s (%d/%d echoes), unpermitted allocation %s", res.Relayed, res.Echoes, res.Sent, res.UnpermittedRelayed)
	if got, want := echo.Line(lineLimit), fmt.Sprintf(`{"echoed":%d}`, packets); got != want {
		t.Errorf("peer echo: %s, want %s", got, want)
	}

	// Without a permission.
	before := counter(t, n, helper, "avedge_dropped_packets_total", `reason="no_permission"`)
	out, err := n.Exec(nsPeer, helper, "send", "-to", res.UnpermittedRelayed, "-count", strconv.Itoa(packets))
	if err != nil {
		t.Fatalf("peer send: %v", err)
	}
	if got, want := string(out), fmt.Sprintf("{\"sent\":%d}\n", packets); got != want {
		t.Fatalf("peer send: %q, want %q", got, want)
	}
	waitCounter(t, n, helper, "avedge_dropped_packets_total", `reason="no_permission"`, before+packets)
	client.WriteLine("done")
	if got, want := client.Line(lineLimit), `{"unpermitted_received":0}`; got != want {
		t.Errorf("client without a permission: %s, want %s", got, want)
	}
}

// checkExternal fails the test unless relayed is an address of the
// external interface with a port of relay.ports.
func checkExternal(t *testing.T, relayed string) {
	t.Helper()
	ap, err := netip.ParseAddrPort(relayed)
	if err != nil {
		t.Fatalf("relayed address %q: %v", relayed, err)
	}
	if ap.Addr() != netip.MustParseAddr(edgeExternal) || ap.Port() < 50000 || ap.Port() > 50099 {
		t.Errorf("relayed address %s, want %s:50000-50099 (the external interface)", ap, edgeExternal)
	}
}

// waitCounter polls the samples of metric with label (see counter) until
// their sum reaches want, failing the test after counterLimit; it returns
// the sum.
func waitCounter(t *testing.T, n *netnstest.Net, helper, metric, label string, want float64) float64 {
	t.Helper()
	deadline := time.Now().Add(counterLimit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		got := counter(t, n, helper, metric, label)
		if got >= want {
			t.Logf("%s{%s} = %v", metric, label, got)
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s{%s} = %v after %v, want at least %v", metric, label, got, counterLimit, want)
		}
		<-tick.C
	}
}

// testReachability dials the credential service and the admin listener
// from both sides: the internal client connects, the external client (the
// peer namespace) does not, neither on the external address (nothing
// listens) nor on the internal one (no route).
func testReachability(t *testing.T, n *netnstest.Net, helper string) {
	tests := []struct {
		name, ns, to string
		connect      bool
	}{
		{"internal client to the credential service", nsClient, edgeInternal + ":5062", true},
		{"internal client to admin", nsClient, edgeInternal + ":9090", true},
		{"external client to the external address, credential service port", nsPeer, edgeExternal + ":5062", false},
		{"external client to the external address, admin port", nsPeer, edgeExternal + ":9090", false},
		{"external client to the credential service", nsPeer, edgeInternal + ":5062", false},
		{"external client to admin", nsPeer, edgeInternal + ":9090", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantDial(t, n.For(t), tt.ns, helper, tt.to, tt.connect)
		})
	}
}

// wantDial tries a TCP connection to to from namespace ns with the dial
// mode of helper bin (bounded by 2 seconds) and fails the test unless it
// connects exactly when connect is true.
func wantDial(t *testing.T, n *netnstest.Net, ns, bin, to string, connect bool) {
	t.Helper()
	out, err := n.Exec(ns, bin, "dial", "-to", to, "-timeout", "2s")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	var res struct {
		Connected bool   `json:"connected"`
		Error     string `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("dial: %v: %s", err, out)
	}
	if res.Connected != connect {
		t.Errorf("TCP connect from %s to %s: connected %v (%s), want %v", ns, to, res.Connected, res.Error, connect)
	}
	t.Logf("TCP connect from %s to %s: connected %v %s", ns, to, res.Connected, res.Error)
}
