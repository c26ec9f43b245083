package offload

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/netnstest"
)

// Addresses of the topology of newTopology: a client and a peer namespace,
// each joined to the edge namespace by a veth pair.
var (
	clientAddr = netip.MustParseAddrPort("10.0.1.2:40000")
	listener   = netip.MustParseAddrPort("10.0.1.1:3478")
	relayed    = netip.MustParseAddrPort("10.0.2.1:49152")
	peerAddr   = netip.MustParseAddrPort("10.0.2.2:5000")
	otherPeer  = netip.MustParseAddrPort("10.0.2.2:5001")
)

// topology is the three namespaces with the program attached on the edge.
type topology struct {
	loader *Loader
	// client and peer send hand-built packets from their namespace.
	client, peer *rawSender
	// clientConn and peerConn (and otherConn, on otherPeer) receive in the
	// client's and the peer's namespace; edgeListener and edgeRelayed
	// stand for the user-space path on the edge.
	clientConn, peerConn, otherConn *net.UDPConn
	edgeListener, edgeRelayed       *net.UDPConn
}

func newTopology(t *testing.T) *topology {
	t.Helper()
	n := netnstest.New(t, "avedge-offload")
	n.Add("client")
	n.Add("edge")
	n.Add("peer")
	n.Link("edge", "client", "10.0.1.1/24", "10.0.1.2/24")
	n.Link("edge", "peer", "10.0.2.1/24", "10.0.2.2/24")
	var top topology
	var err error
	inNS(t, n.Name("edge"), func() {
		top.loader, err = Open(Options{Interfaces: []string{"client", "peer"}, MaxEntries: 1024})
		if err != nil {
			return
		}
		top.edgeListener = listenUDP(t, listener)
		top.edgeRelayed = listenUDP(t, relayed)
	})
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("the kernel cannot run the offload: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := top.loader.Close(); err != nil {
			t.Error(err)
		}
	})
	inNS(t, n.Name("client"), func() {
		top.client = newRawSender(t)
		top.clientConn = listenUDP(t, clientAddr)
	})
	inNS(t, n.Name("peer"), func() {
		top.peer = newRawSender(t)
		top.peerConn = listenUDP(t, peerAddr)
		top.otherConn = listenUDP(t, otherPeer)
	})
	return &top
}

func (top *topology) install(t *testing.T, c Channel) {
	t.Helper()
	if err := top.loader.Install(c); err != nil {
		t.Fatal(err)
	}
}

func (top *topology) stats(t *testing.T) Stats {
	t.Helper()
	st, err := top.loader.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func bound(number uint16, peer netip.AddrPort, lifetime time.Duration) Channel {
	return Channel{Client: clientAddr, Listener: listener, Number: number, Relayed: relayed, Peer: peer, Lifetime: lifetime}
}

// TestRelay relays both ways through the kernel, with the TOS byte (DSCP
// and ECN) carried over, counters that match what was sent, and what the
// program must leave to user space reaching the edge's sockets.
func TestRelay(t *testing.T) {
	top := newTopology(t)
	ch := bound(0x4001, peerAddr, time.Minute)
	top.install(t, ch)

	var want Counters
	for i, size := range []int{1, 3, 160, 1000, 1400} {
		payload := bytes.Repeat([]byte{byte(i + 1)}, size)
		const tos = 0xB9 // DSCP EF, ECN ECT(1)
		top.client.send(t, clientAddr, listener, tos, channelData(ch.Number, payload))
		got := receive(t, top.peerConn)
		if !bytes.Equal(got.data, payload) || got.from != relayed || got.tos != tos {
			t.Fatalf("peer got %d bytes from %v tos %#x, want %d bytes from %v tos %#x", len(got.data), got.from, got.tos, size, relayed, tos)
		}
		want.ToPeer.Packets++
		want.ToPeer.Bytes += uint64(size)
	}
	for i, size := range []int{0, 2, 200, 1200, 1468} {
		payload := bytes.Repeat([]byte{byte(0x80 + i)}, size)
		const tos = 0x2A // DSCP AF11, ECN ECT(0)
		top.peer.send(t, peerAddr, relayed, tos, payload)
		got := receive(t, top.clientConn)
		if !bytes.Equal(got.data, channelData(ch.Number, payload)) || got.from != listener || got.tos != tos {
			t.Fatalf("client got % x... (%d bytes) from %v tos %#x, want ChannelData %#x of %d bytes from %v tos %#x",
				got.data[:min(8, len(got.data))], len(got.data), got.from, got.tos, ch.Number, size, listener, tos)
		}
		want.ToClient.Packets++
		want.ToClient.Bytes += uint64(size)
	}
	if got, err := top.loader.Counters(ch); err != nil || got != want {
		t.Errorf("Counters = %+v, %v; want %+v", got, err, want)
	}

	// A channel with no entry, and a peer with no permission, go to
	// user space unchanged.
	unbound := channelData(0x4002, []byte("to user space"))
	top.client.send(t, clientAddr, listener, 0, unbound)
	if got := receive(t, top.edgeListener); !bytes.Equal(got.data, unbound) || got.from != clientAddr {
		t.Errorf("edge listener got %q from %v, want %q from %v", got.data, got.from, unbound, clientAddr)
	}
	top.peer.send(t, otherPeer, relayed, 0, []byte("no permission"))
	if got := receive(t, top.edgeRelayed); string(got.data) != "no permission" || got.from != otherPeer {
		t.Errorf("edge relayed socket got %q from %v", got.data, got.from)
	}
	// A datagram whose checksum the sender left to the NIC (an ordinary
	// socket over a veth: CHECKSUM_PARTIAL) goes to user space too.
	partial := channelData(ch.Number, []byte("checksum offloaded"))
	if _, err := top.clientConn.WriteToUDPAddrPort(partial, listener); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, top.edgeListener); !bytes.Equal(got.data, partial) {
		t.Errorf("edge listener got %q, want %q", got.data, partial)
	}

	st := top.stats(t)
	if st.ToPeer != want.ToPeer.Packets || st.ToClient != want.ToClient.Packets || st.PassPartial != 1 || st.Expired != 0 || st.Errors != 0 {
		t.Errorf("Stats = %+v", st)
	}
	if got, err := top.loader.Counters(ch); err != nil || got != want {
		t.Errorf("Counters after the fall-throughs = %+v, %v; want %+v", got, err, want)
	}

	if err := top.loader.Remove(ch); err != nil {
		t.Fatal(err)
	}
	if err := top.loader.Remove(ch); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove = %v, want ErrNotFound", err)
	}
	removed := channelData(ch.Number, []byte("after removal"))
	top.client.send(t, clientAddr, listener, 0, removed)
	if got := receive(t, top.edgeListener); !bytes.Equal(got.data, removed) {
		t.Errorf("after Remove the edge listener got %q, want %q", got.data, removed)
	}
}

// TestExpired: an entry whose permission has passed on the kernel clock
// (user space having missed its removal) drops the packets of both
// directions and counts them.
func TestExpired(t *testing.T) {
	top := newTopology(t)
	ch := bound(0x4003, peerAddr, -time.Second)
	top.install(t, ch)
	top.client.send(t, clientAddr, listener, 0, channelData(ch.Number, []byte("late")))
	top.peer.send(t, peerAddr, relayed, 0, []byte("late too"))
	waitFor(t, "two expired drops", func() bool { return top.stats(t).Expired == 2 })

	// Neither reached anyone: the next datagrams each side receives are the
	// ones sent on a live entry.
	top.install(t, bound(0x4003, peerAddr, time.Minute))
	top.client.send(t, clientAddr, listener, 0, channelData(ch.Number, []byte("live")))
	if got := receive(t, top.peerConn); string(got.data) != "live" {
		t.Errorf("peer got %q, want %q", got.data, "live")
	}
	top.peer.send(t, peerAddr, relayed, 0, []byte("live too"))
	if got := receive(t, top.clientConn); !bytes.Equal(got.data, channelData(ch.Number, []byte("live too"))) {
		t.Errorf("client got %q", got.data)
	}
	if st := top.stats(t); st.Expired != 2 || st.ToPeer != 1 || st.ToClient != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestRebind: installing the channel again with another peer takes effect
// on the next packet, and the old peer's datagrams go to user space.
func TestRebind(t *testing.T) {
	top := newTopology(t)
	top.install(t, bound(0x4004, peerAddr, time.Minute))
	top.install(t, bound(0x4004, otherPeer, time.Minute))
	top.client.send(t, clientAddr, listener, 0, channelData(0x4004, []byte("to the new peer")))
	if got := receive(t, top.otherConn); string(got.data) != "to the new peer" || got.from != relayed {
		t.Errorf("new peer got %q from %v", got.data, got.from)
	}
	top.peer.send(t, peerAddr, relayed, 0, []byte("old peer"))
	if got := receive(t, top.edgeRelayed); string(got.data) != "old peer" {
		t.Errorf("edge relayed socket got %q, want the old peer's datagram", got.data)
	}
	top.peer.send(t, otherPeer, relayed, 0, []byte("new peer"))
	if got := receive(t, top.clientConn); !bytes.Equal(got.data, channelData(0x4004, []byte("new peer"))) {
		t.Errorf("client got %q", got.data)
	}
}

// TestInstallRejects checks the channels Install refuses.
func TestInstallRejects(t *testing.T) {
	top := newTopology(t)
	v6 := netip.MustParseAddrPort("[2001:db8::1]:5000")
	for _, c := range []Channel{
		bound(0x3fff, peerAddr, time.Minute),
		bound(0x5000, peerAddr, time.Minute),
		bound(0x4001, v6, time.Minute),
	} {
		if err := top.loader.Install(c); !errors.Is(err, ErrChannel) {
			t.Errorf("Install(%#04x to %v) = %v, want ErrChannel", c.Number, c.Peer, err)
		}
	}
	unroutable := bound(0x4001, netip.MustParseAddrPort("192.0.2.1:5000"), time.Minute)
	if err := top.loader.Install(unroutable); !errors.Is(err, ErrRoute) {
		t.Errorf("Install to an unroutable peer = %v, want ErrRoute", err)
	}
}

// waitFor polls cond (a kernel counter, which sends no signal) for up to
// five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenRejects: interfaces the program cannot run on fail Open with
// ErrInterface.
func TestOpenRejects(t *testing.T) {
	n := netnstest.New(t, "avedge-offload")
	n.Add("edge")
	for _, names := range [][]string{{"lo"}, {"nonexistent0"}} {
		var err error
		inNS(t, n.Name("edge"), func() {
			var l *Loader
			l, err = Open(Options{Interfaces: names})
			if err == nil {
				l.Close()
			}
		})
		if errors.Is(err, ErrUnsupported) {
			t.Skipf("the kernel cannot run the offload: %v", err)
		}
		if !errors.Is(err, ErrInterface) {
			t.Errorf("Open(%q) = %v, want ErrInterface", names, err)
		}
	}
}

// TestRefreshKeepsCounters: installing a channel again for the same peer
// (a refresh of its permission) keeps what it counted.
func TestRefreshKeepsCounters(t *testing.T) {
	top := newTopology(t)
	ch := bound(0x4005, peerAddr, time.Minute)
	top.install(t, ch)
	top.client.send(t, clientAddr, listener, 0, channelData(ch.Number, []byte("before")))
	receive(t, top.peerConn)
	top.peer.send(t, peerAddr, relayed, 0, []byte("back"))
	receive(t, top.clientConn)
	top.install(t, bound(0x4005, peerAddr, 2*time.Minute))
	top.client.send(t, clientAddr, listener, 0, channelData(ch.Number, []byte("after")))
	receive(t, top.peerConn)
	want := Counters{ToPeer: Flow{Packets: 2, Bytes: 11}, ToClient: Flow{Packets: 1, Bytes: 4}}
	if got, err := top.loader.Counters(ch); err != nil || got != want {
		t.Errorf("Counters after a refresh = %+v, %v; want %+v", got, err, want)
	}
}
