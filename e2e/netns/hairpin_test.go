package netns

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/avedge/avedge/e2e/internal/shipped"
	"github.com/avedge/avedge/internal/netnstest"
)

// The ports of the services TestNoHairpin starts on the edge's relay
// address and on the peer: a well-known one, below peers.ports (by default
// 1024-65535), and a high one.
const (
	wellKnownPort = "80"
	highPort      = "8080"
)

// relayPorts is relay.ports of testdata/edge.yaml, reserved from the
// edge namespace's ephemeral ports as the shipped systemd unit does.
const relayPorts = "50000-50099"

// forbidden is the error code of a refused peer (RFC 8656 §9.3, RFC 6062
// §5.2).
const forbidden = 403

// The counters of the hairpin rule: requests refused with 403, Send
// indications dropped, and inbound connections closed on a TCP relayed
// address.
const (
	refusalsMetric   = "avedge_refusals_total"
	peerDeniedCause  = `cause="peer_denied"`
	dropsMetric      = "avedge_dropped_packets_total"
	peerDeniedReason = `reason="peer_denied"`
	tcpRefusedMetric = "avedge_tcp_relay_refused_total"
	noPermission     = `reason="no_permission"`
)

// edgeOther is an address TestNoHairpinWildcard adds to the edge's
// external interface, named by no configuration.
const edgeOther = "10.99.2.3"

// Where the test's services listen.
var (
	edgeHigh  = net.JoinHostPort(edgeExternal, highPort)
	edgeLow   = net.JoinHostPort(edgeExternal, wellKnownPort)
	otherHigh = net.JoinHostPort(edgeOther, highPort)
	otherLow  = net.JoinHostPort(edgeOther, wellKnownPort)
	peerHigh  = net.JoinHostPort(peerAddr, highPort)
	peerLow   = net.JoinHostPort(peerAddr, wellKnownPort)
)

// selfTargets are services of the edge's host on its own addresses: the
// test's services on the relay address, the edge's TURN listeners, its
// admin endpoint and its credential service.
var selfTargets = []string{
	edgeHigh,
	edgeLow,
	edgeExternal + ":3478", // TURN (UDP), external
	edgeInternal + ":3478", // TURN (UDP and TCP), internal
	edgeInternal + ":9090", // admin
	edgeInternal + ":5062", // credential service
}

// TestNoHairpin runs the edge with its relay address on the edge
// namespace's external interface, and services of the test (a UDP echo
// and an HTTP server, on ports 80 and 8080) on that address and on the
// peer. A client's UDP or RFC 6062 TCP allocation reaches the peer's
// services on port 8080, but neither the edge's (nor the edge's TURN,
// admin and credential-service ports) nor port 80 anywhere: its
// CreatePermission, ChannelBind and Connect get 403 and its Send
// indications are dropped as peer_denied, so nothing from the relay
// address reaches the edge's services. Two allocations of the edge still
// relay to each other through their relayed addresses, and a TCP relayed
// address closes a connection from the edge's own address.
func TestNoHairpin(t *testing.T) {
	n := newTopology(t)
	n.Sysctl(nsEdge, "net.ipv4.ip_local_reserved_ports", relayPorts)
	avedge := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	path, dir := writeConfig(t, avedge, "edge.yaml")
	startEdge(t, n, avedge, helper, path)
	cred := requestCredential(t, n, avedge, dir, "intranet", edgeInternal, edgeExternal)
	onEdge := startServices(t, n, nsEdge, helper, edgeExternal)
	onPeer := startServices(t, n, nsPeer, helper, peerAddr)

	direct := reachDirectly(t, n, helper, edgeLow, edgeHigh)

	t.Run("UDP allocation", func(t *testing.T) {
		testHairpinUDP(t, n.For(t), helper, cred)
	})
	t.Run("RFC 6062 TCP allocation", func(t *testing.T) {
		testHairpinTCP(t, n.For(t), helper, cred)
	})

	// Nothing came from the relay address to the edge's services; the
	// peer's got what the allocations sent it on port 8080.
	wantArrivals(t, onEdge, "on the edge's relay address", direct)
	wantArrivals(t, onPeer, "on the peer", map[string]int{
		arrival("udp", peerHigh, edgeExternal): 2, // a Send indication and ChannelData
		arrival("tcp", peerHigh, edgeExternal): 1, // a Connect
	})
}

// testHairpinUDP: a UDP allocation's CreatePermission and ChannelBind for
// the edge's services get 403; two allocations of the edge relay to each
// other; with a permission for the relay address (through the other's
// relay port) Send indications to the edge's services are dropped and
// counted; the peer's high port is reached, its well-known port is not.
func testHairpinUDP(t *testing.T, n *netnstest.Net, helper string, cred credential) {
	a := startTURN(t, n, helper, "allocation A", "udp", cred)
	b := startTURN(t, n, helper, "allocation B", "udp", cred)
	refused := counter(t, n, helper, refusalsMetric, peerDeniedCause)
	for _, to := range selfTargets {
		a.wantCode("permit "+to, forbidden)
		a.wantCode("bind "+to, forbidden)
	}

	// Relay ports are the exception: the allocations reach each other,
	// with a Send indication one way and ChannelData the other.
	a.wantCode("permit "+b.relayed, 0)
	b.wantCode("permit "+a.relayed, 0)
	a.send("send", b.relayed, "a-to-b")
	b.wantReceived(a.relayed, "a-to-b")
	b.wantCode("bind "+a.relayed, 0)
	b.send("chan", a.relayed, "b-to-a")
	a.wantReceived(b.relayed, "b-to-a")

	// A now holds a permission for the relay address, yet no channel to
	// its services, and its Send indications to them are dropped.
	a.wantCode("bind "+edgeHigh, forbidden)
	dropped := counter(t, n, helper, dropsMetric, peerDeniedReason)
	sent := 0
	for _, to := range []string{edgeHigh, edgeLow, edgeExternal + ":3478"} {
		for i := range packets {
			a.send("send", to, fmt.Sprintf("hairpin-%d", i))
			sent++
		}
	}
	dropped = waitExactly(t, n, helper, dropsMetric, peerDeniedReason, dropped+float64(sent))

	// A peer elsewhere is reached on its high port, not on its
	// well-known one (peers.ports).
	a.wantCode("permit "+peerHigh, 0)
	a.wantCode("bind "+peerLow, forbidden)
	a.send("send", peerHigh, "via-send")
	a.wantReceived(peerHigh, "via-send")
	a.wantCode("bind "+peerHigh, 0)
	a.send("chan", peerHigh, "via-channel")
	a.wantReceived(peerHigh, "via-channel")
	for i := range packets {
		a.send("send", peerLow, fmt.Sprintf("well-known-%d", i))
	}
	waitExactly(t, n, helper, dropsMetric, peerDeniedReason, dropped+packets)
	waitExactly(t, n, helper, refusalsMetric, peerDeniedCause, refused+float64(2*len(selfTargets)+2))
}

// testHairpinTCP: an RFC 6062 allocation's Connect to the edge's services
// and to the peer's well-known port gets 403, to the peer's high port it
// fetches the peer's HTTP page; a connection from the edge's own address
// to the TCP relayed address is closed even with a permission for that
// address, one from the peer is announced.
func testHairpinTCP(t *testing.T, n *netnstest.Net, helper string, cred credential) {
	c := startTURN(t, n, helper, "TCP allocation", "tcp", cred)
	refused := counter(t, n, helper, refusalsMetric, peerDeniedCause)
	for _, to := range slices.Concat(selfTargets, []string{peerLow}) {
		c.wantCode("connect "+to, forbidden)
	}
	c.wantServed(peerHigh)
	waitExactly(t, n, helper, refusalsMetric, peerDeniedCause, refused+float64(len(selfTargets)+1))

	// Inbound: a permission for the relay address, installed through a
	// relay port, lets no other port of it in.
	c.wantCode("permit "+net.JoinHostPort(edgeExternal, "50000"), 0)
	closed := counter(t, n, helper, tcpRefusedMetric, noPermission)
	wantDial(t, n, nsEdge, helper, c.relayed, true)
	waitExactly(t, n, helper, tcpRefusedMetric, noPermission, closed+1)
	c.wantCode("permit "+peerHigh, 0)
	wantDial(t, n, nsPeer, helper, c.relayed, true)
	if got := c.do("attempt"); !got.Attempt || addrOf(t, got.From) != netip.MustParseAddr(peerAddr) {
		t.Errorf("TCP allocation: first ConnectionAttempt %+v, want one from %s", got, peerAddr)
	}
}

// TestNoHairpinWildcard runs the edge with wildcard listeners
// (testdata/wildcard.yaml, without an interfaces section) and an address
// on its external interface that its configuration does not name: behind
// a wildcard every address of the host is the edge's own, so a client's
// allocation cannot reach the test's services on that address either,
// while it still reaches the peer's.
func TestNoHairpinWildcard(t *testing.T) {
	n := newTopology(t)
	n.MustExec(nsEdge, "ip", "addr", "add", edgeOther+"/24", "dev", edgeExternalDev)
	n.Sysctl(nsEdge, "net.ipv4.ip_local_reserved_ports", relayPorts)
	avedge := shipped.Build(t, "cmd/avedge")
	helper := netnstest.Build(t, "netns/testdata/helper")
	path, dir := writeConfig(t, avedge, "wildcard.yaml")
	startEdge(t, n, avedge, helper, path)
	cred := requestCredential(t, n, avedge, dir, "intranet", edgeInternal, edgeExternal)
	onEdge := startServices(t, n, nsEdge, helper, edgeOther)
	onPeer := startServices(t, n, nsPeer, helper, peerAddr)
	direct := reachDirectly(t, n, helper, otherLow, otherHigh)

	u := startTURN(t, n, helper, "UDP allocation", "udp", cred)
	c := startTURN(t, n, helper, "TCP allocation", "tcp", cred)
	for _, to := range []string{otherHigh, otherLow} {
		u.wantCode("permit "+to, forbidden)
		u.wantCode("bind "+to, forbidden)
		c.wantCode("connect "+to, forbidden)
	}
	u.wantCode("bind "+peerHigh, 0)
	c.wantServed(peerHigh)

	wantArrivals(t, onEdge, "on the address the configuration does not name", direct)
	wantArrivals(t, onPeer, "on the peer", map[string]int{arrival("tcp", peerHigh, edgeExternal): 1})
}

// reachDirectly checks from the peer namespace that the test's services
// on each of addrs are up, with a TCP connection and a datagram, and
// returns what that brought them.
func reachDirectly(t *testing.T, n *netnstest.Net, helper string, addrs ...string) map[string]int {
	t.Helper()
	direct := make(map[string]int)
	for _, at := range addrs {
		wantDial(t, n, nsPeer, helper, at, true)
		if out, err := n.Exec(nsPeer, helper, "send", "-to", at, "-count", "1"); err != nil || string(out) != "{\"sent\":1}\n" {
			t.Fatalf("send to %s from the peer namespace: %q, %v", at, out, err)
		}
		direct[arrival("tcp", at, peerAddr)] = 1
		direct[arrival("udp", at, peerAddr)] = 1
	}
	return direct
}

// arrival names what the serve mode of the helper counts: a datagram
// ("udp") or a connection ("tcp") on at from the IP address from.
func arrival(proto, at, from string) string {
	return proto + " " + at + " from " + from
}

// startServices runs the serve mode of the helper in namespace ns: a UDP
// echo and an HTTP server on ports 80 and 8080 of ip.
func startServices(t *testing.T, n *netnstest.Net, ns, helper, ip string) *netnstest.Proc {
	t.Helper()
	p := n.StartWith(ns, netnstest.StartOptions{Limit: edgeLimit}, helper, "serve",
		"-listen", net.JoinHostPort(ip, wellKnownPort)+","+net.JoinHostPort(ip, highPort),
		"-timeout", edgeLimit.String())
	if got := p.Line(lineLimit); got != `{"listening":true}` {
		t.Fatalf("services in %s: %q, want listening", ns, got)
	}
	return p
}

// wantArrivals stops the services p and fails the test unless exactly
// want reached them.
func wantArrivals(t *testing.T, p *netnstest.Proc, where string, want map[string]int) {
	t.Helper()
	p.WriteLine("done")
	var res struct {
		Received map[string]int `json:"received"`
	}
	if line := p.Line(lineLimit); json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("services %s: %q", where, line)
	}
	if !maps.Equal(res.Received, want) {
		t.Errorf("services %s received %v, want %v", where, res.Received, want)
	}
	t.Logf("services %s received %v", where, res.Received)
}

// waitExactly waits for the samples of metric with label to reach want
// (see waitCounter) and fails the test if they pass it.
func waitExactly(t *testing.T, n *netnstest.Net, helper, metric, label string, want float64) float64 {
	t.Helper()
	if got := waitCounter(t, n, helper, metric, label, want); got != want {
		t.Errorf("%s{%s} = %v, want %v", metric, label, got, want)
	}
	return want
}

// addrOf returns the IP address of the transport address s, failing the
// test when s is none.
func addrOf(t *testing.T, s string) netip.Addr {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return ap.Addr()
}

// turnClient is the turn mode of the helper in the client namespace: one
// allocation, driven a command at a time.
type turnClient struct {
	t       *testing.T
	p       *netnstest.Proc
	name    string
	relayed string
}

// turnAnswer is one answer of the turn mode; the fields of the command's
// kind are set.
type turnAnswer struct {
	Code     *int   `json:"code"`
	Sent     bool   `json:"sent"`
	Received bool   `json:"received"`
	Attempt  bool   `json:"attempt"`
	From     string `json:"from"`
	Data     string `json:"data"`
	TOS      *int   `json:"tos"`
	Status   string `json:"status"`
	Body     string `json:"body"`
	Error    string `json:"error"`
}

// startTURN allocates through the edge's internal listener with the turn
// mode of the helper over transport ("udp", or "tcp" for an RFC 6062
// allocation) and checks that the relayed address is on the external
// interface.
func startTURN(t *testing.T, n *netnstest.Net, helper, name, transport string, cred credential) *turnClient {
	t.Helper()
	p := n.StartWith(nsClient, netnstest.StartOptions{Limit: 60 * time.Second}, helper, "turn",
		"-server", edgeInternal+":3478", "-transport", transport, "-user", cred.Username, "-password", cred.Password,
		"-realm", cred.Realm, "-timeout", "3s")
	var res struct {
		Relayed string `json:"relayed"`
	}
	if line := p.Line(lineLimit); json.Unmarshal([]byte(line), &res) != nil {
		t.Fatalf("%s: %q, want its relayed address", name, line)
	}
	checkExternal(t, res.Relayed)
	t.Logf("%s: relayed %s", name, res.Relayed)
	return &turnClient{t: t, p: p, name: name, relayed: res.Relayed}
}

// do runs cmd and returns its answer.
func (c *turnClient) do(cmd string) turnAnswer {
	c.t.Helper()
	c.p.WriteLine(cmd)
	line := c.p.Line(lineLimit)
	var a turnAnswer
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		c.t.Fatalf("%s: %s: %q: %v", c.name, cmd, line, err)
	}
	return a
}

// wantCode runs cmd, a request, and fails the test unless its answer has
// the error code want (0: success).
func (c *turnClient) wantCode(cmd string, want int) {
	c.t.Helper()
	a := c.do(cmd)
	switch {
	case a.Code == nil:
		c.t.Fatalf("%s: %s: %+v, want an error code", c.name, cmd, a)
	case *a.Code != want:
		c.t.Errorf("%s: %s: error code %d, want %d", c.name, cmd, *a.Code, want)
	}
}

// send relays data to peer with a Send indication (kind "send") or on the
// channel bound to peer ("chan").
func (c *turnClient) send(kind, peer, data string) {
	c.t.Helper()
	if a := c.do(kind + " " + peer + " " + data); !a.Sent {
		c.t.Fatalf("%s: %s to %s: %+v, want sent", c.name, kind, peer, a)
	}
}

// wantServed Connects to to (a service of the test) and fails the test
// unless the Connect succeeds and an HTTP GET through it fetches that
// service's page.
func (c *turnClient) wantServed(to string) {
	c.t.Helper()
	want := "served by " + to
	if a := c.do("connect " + to); a.Code == nil || *a.Code != 0 || a.Status != "200 OK" || a.Body != want {
		c.t.Errorf("%s: connect %s and GET: %+v, want code 0, 200 OK and %q", c.name, to, a, want)
	}
}

// wantReceived fails the test unless the next data relayed to the
// allocation is data from peer.
func (c *turnClient) wantReceived(peer, data string) {
	c.t.Helper()
	if a := c.do("recv"); !a.Received || a.From != peer || a.Data != data {
		c.t.Errorf("%s: received %+v, want %q from %s", c.name, a, data, peer)
	}
}
