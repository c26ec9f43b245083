package netns

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

const (
	// echoPort is the peer's UDP echo port.
	echoPort = 4000
	// packets is how many datagrams each phase sends.
	packets = 5
	// lineLimit bounds the wait for one line of a helper's output.
	lineLimit = 15 * time.Second
	// dropLimit bounds the wait for the drop counter to grow.
	dropLimit = 5 * time.Second
)

// credential is what avedge creds request prints (the fields the test
// uses).
type credential struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Realm    string   `json:"realm"`
	URIs     []string `json:"uris"`
}

// relayResult is the first line of the client helper's relay mode.
type relayResult struct {
	Relayed            string `json:"relayed"`
	Sent               int    `json:"sent"`
	Echoes             int    `json:"echoes"`
	UnpermittedRelayed string `json:"unpermitted_relayed"`
}

// TestTwoInterfaceEdge runs the edge between an internal client namespace
// and an external peer namespace and checks the interface rules from both
// sides.
func TestTwoInterfaceEdge(t *testing.T) {
	requireNetns(t)
	avedge := build(t, "cmd/avedge")
	clientBin := build(t, "e2e/netns/testdata/client")
	peerBin := build(t, "e2e/netns/testdata/peer")
	topo := newTopology(t)
	path, dir := writeConfig(t, avedge, "edge.yaml")
	startEdge(t, topo, avedge, clientBin, path)

	cred := requestCredential(t, topo, avedge, dir)
	t.Run("relayed media crosses only with a permission", func(t *testing.T) {
		testRelay(t, topo, clientBin, peerBin, cred)
	})
	t.Run("credential service and admin only on the internal side", func(t *testing.T) {
		testReachability(t, topo, clientBin, peerBin)
	})
}

// requestCredential asks the credential service from the client namespace
// for an intranet credential and checks that it names the internal
// listener.
func requestCredential(t *testing.T, topo topology, avedge, dir string) credential {
	t.Helper()
	pki := filepath.Join(dir, "pki")
	out, err := runIn(t, topo.client, avedge, "creds", "request",
		"--service", "https://"+edgeInternal+":5062",
		"--cert", filepath.Join(pki, "client.crt"), "--key", filepath.Join(pki, "client.key"),
		"--ca", filepath.Join(pki, "ca.crt"),
		"--identity", "alice", "--location", "intranet", "--timeout", "5s")
	if err != nil {
		t.Fatalf("avedge creds request from the client namespace: %v", err)
	}
	var cred credential
	if err := json.Unmarshal(out, &cred); err != nil {
		t.Fatalf("avedge creds request: %v: %s", err, out)
	}
	if cred.Username == "" || cred.Password == "" || cred.Realm != "netns.avedge.test" {
		t.Fatalf("credential %s: want a username, a password and realm netns.avedge.test", out)
	}
	want := "turn:" + edgeInternal + ":3478?transport=udp"
	if !slices.Contains(cred.URIs, want) {
		t.Errorf("credential URIs %q lack %q", cred.URIs, want)
	}
	return cred
}

// testRelay relays between the client helper (internal side) and the peer
// helper (external side): with a permission the peer's echoes come back
// through an external relayed address; without one the peer's datagrams are
// dropped, counted as no_permission, and never reach the client.
func testRelay(t *testing.T, topo topology, clientBin, peerBin string, cred credential) {
	peerEcho := fmt.Sprintf("%s:%d", peerAddr, echoPort)
	echo := startIn(t, topo.peer, 30*time.Second, nil, "", peerBin,
		"echo", "-listen", peerEcho, "-count", strconv.Itoa(packets), "-timeout", "20s")
	if got := echo.line(t, lineLimit); got != `{"listening":true}` {
		t.Fatalf("peer echo: %q, want listening", got)
	}
	client := startIn(t, topo.client, 40*time.Second, nil, "", clientBin, "relay",
		"-server", edgeInternal+":3478", "-user", cred.Username, "-password", cred.Password,
		"-realm", cred.Realm, "-peer", peerEcho, "-count", strconv.Itoa(packets), "-timeout", "5s")
	var res relayResult
	if line := client.line(t, lineLimit); json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("client relay: %q", line)
	}
	for _, relayed := range []string{res.Relayed, res.UnpermittedRelayed} {
		checkExternal(t, relayed)
	}
	if res.Sent != packets || res.Echoes != packets {
		t.Errorf("with a permission: sent %d, %d echoes came back; want %d and %d", res.Sent, res.Echoes, packets, packets)
	}
	t.Logf("relayed %s (%d/%d echoes), unpermitted allocation %s", res.Relayed, res.Echoes, res.Sent, res.UnpermittedRelayed)
	if got, want := echo.line(t, lineLimit), fmt.Sprintf(`{"echoed":%d}`, packets); got != want {
		t.Errorf("peer echo: %s, want %s", got, want)
	}

	// Without a permission.
	before := counter(t, topo, clientBin, "avedge_dropped_packets_total", `reason="no_permission"`)
	out, err := runIn(t, topo.peer, peerBin, "send", "-to", res.UnpermittedRelayed, "-count", strconv.Itoa(packets))
	if err != nil {
		t.Fatalf("peer send: %v", err)
	}
	if got, want := string(out), fmt.Sprintf("{\"sent\":%d}\n", packets); got != want {
		t.Fatalf("peer send: %q, want %q", got, want)
	}
	waitDrops(t, topo, clientBin, before+packets)
	if _, err := io.WriteString(client.stdin, "done\n"); err != nil {
		t.Fatal(err)
	}
	if got, want := client.line(t, lineLimit), `{"unpermitted_received":0}`; got != want {
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

// waitDrops polls the no_permission drop counter until it reaches want,
// failing the test after dropLimit.
func waitDrops(t *testing.T, topo topology, clientBin string, want float64) {
	t.Helper()
	deadline := time.Now().Add(dropLimit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		got := counter(t, topo, clientBin, "avedge_dropped_packets_total", `reason="no_permission"`)
		if got >= want {
			t.Logf("avedge_dropped_packets_total{reason=\"no_permission\"} = %v", got)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("avedge_dropped_packets_total{reason=\"no_permission\"} = %v after %v, want at least %v", got, dropLimit, want)
		}
		<-tick.C
	}
}

// testReachability dials the credential service and the admin listener
// from both sides: the client connects, the peer does not, neither on the
// external address (nothing listens) nor on the internal one (no route).
func testReachability(t *testing.T, topo topology, clientBin, peerBin string) {
	tests := []struct {
		name, ns, bin, to string
		connect           bool
	}{
		{"client to the credential service", topo.client, clientBin, edgeInternal + ":5062", true},
		{"client to admin", topo.client, clientBin, edgeInternal + ":9090", true},
		{"peer to the external address, credential service port", topo.peer, peerBin, edgeExternal + ":5062", false},
		{"peer to the external address, admin port", topo.peer, peerBin, edgeExternal + ":9090", false},
		{"peer to the credential service", topo.peer, peerBin, edgeInternal + ":5062", false},
		{"peer to admin", topo.peer, peerBin, edgeInternal + ":9090", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runIn(t, tt.ns, tt.bin, "dial", "-to", tt.to, "-timeout", "2s")
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
			if res.Connected != tt.connect {
				t.Errorf("TCP connect to %s: connected %v (%s), want %v", tt.to, res.Connected, res.Error, tt.connect)
			}
			t.Logf("TCP connect to %s: connected %v %s", tt.to, res.Connected, res.Error)
		})
	}
}
