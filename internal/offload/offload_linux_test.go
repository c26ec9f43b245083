package offload

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/netnstest"
	"golang.org/x/sys/unix"
)

// family is the addressing of newTopology in one IP family: a client and
// a peer namespace, each joined to the edge namespace by a veth pair.
type family struct {
	name                                           string
	hook                                           Hook
	clientAddr, listener, relayed, peer, other     netip.AddrPort
	edgeClientNet, clientNet, edgePeerNet, peerNet string
}

var (
	ipv4 = family{
		name:          "IPv4",
		clientAddr:    netip.MustParseAddrPort("10.0.1.2:40000"),
		listener:      netip.MustParseAddrPort("10.0.1.1:3478"),
		relayed:       netip.MustParseAddrPort("10.0.2.1:49152"),
		peer:          netip.MustParseAddrPort("10.0.2.2:5000"),
		other:         netip.MustParseAddrPort("10.0.2.2:5001"),
		edgeClientNet: "10.0.1.1/24", clientNet: "10.0.1.2/24",
		edgePeerNet: "10.0.2.1/24", peerNet: "10.0.2.2/24",
	}
	ipv6 = family{
		name:          "IPv6",
		clientAddr:    netip.MustParseAddrPort("[fd00:1::2]:40000"),
		listener:      netip.MustParseAddrPort("[fd00:1::1]:3478"),
		relayed:       netip.MustParseAddrPort("[fd00:2::1]:49152"),
		peer:          netip.MustParseAddrPort("[fd00:2::2]:5000"),
		other:         netip.MustParseAddrPort("[fd00:2::2]:5001"),
		edgeClientNet: "fd00:1::1/64", clientNet: "fd00:1::2/64",
		edgePeerNet: "fd00:2::1/64", peerNet: "fd00:2::2/64",
	}
	families = []family{ipv4, ipv6}
)

// The edge namespace's TTL and hop limit, not the defaults, so that the
// tests see the program use the namespace's.
const (
	edgeTTL      = 51
	edgeHopLimit = 42
)

// The hooks a test runs at.
var (
	allHooks = []Hook{HookTC, HookXDP}
	tcOnly   = []Hook{HookTC}
)

// forFamilies runs test as a subtest for IPv4 and for IPv6 at each of
// hooks (f.hook).
func forFamilies(t *testing.T, hooks []Hook, test func(t *testing.T, f family)) {
	for _, h := range hooks {
		for _, f := range families {
			f.hook = h
			t.Run(strings.ToUpper(h.String())+"/"+f.name, func(t *testing.T) { test(t, f) })
		}
	}
}

// topology is the three namespaces with the program attached on the edge.
type topology struct {
	f      family
	net    *netnstest.Net
	edgeNS string // the edge namespace's name
	loader *Loader
	// client and peer send hand-built packets from their namespace.
	client, peer *rawSender
	// clientConn and peerConn (and otherConn, on f.other) receive in the
	// client's and the peer's namespace; edgeListener and edgeRelayed
	// stand for the user-space path on the edge.
	clientConn, peerConn, otherConn *net.UDPConn
	edgeListener, edgeRelayed       *net.UDPConn
	// peerWire sees the packets that reach the peer's interface.
	peerWire *capture
}

func newTopology(t *testing.T, f family) *topology {
	t.Helper()
	n := netnstest.New(t, "avedge-offload")
	n.Add("client")
	n.Add("edge")
	n.Add("peer")
	n.Link("edge", "client", f.edgeClientNet, f.clientNet)
	n.Link("edge", "peer", f.edgePeerNet, f.peerNet)
	n.Sysctl("edge", "net.ipv4.ip_default_ttl", strconv.Itoa(edgeTTL))
	n.Sysctl("edge", "net.ipv6.conf.all.hop_limit", strconv.Itoa(edgeHopLimit))
	top := topology{f: f, edgeNS: n.Name("edge"), net: n}
	var err error
	inNS(t, n.Name("edge"), func() {
		top.loader, err = Open(Options{Interfaces: []string{"client", "peer"}, Hook: f.hook, MaxEntries: 1024, SnapshotEvery: 50 * time.Millisecond})
		if err != nil {
			return
		}
		top.edgeListener = listenUDP(t, f.listener)
		top.edgeRelayed = listenUDP(t, f.relayed)
	})
	if errors.Is(err, ErrUnsupported) {
		skipUnsupported(t, err)
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
		top.clientConn = listenUDP(t, f.clientAddr)
	})
	inNS(t, n.Name("peer"), func() {
		top.peer = newRawSender(t)
		top.peerConn = listenUDP(t, f.peer)
		top.otherConn = listenUDP(t, f.other)
	})
	if f.hook == HookXDP {
		// The frames the XDP program redirects to a veth reach its
		// other end only if that end runs NAPI: GRO on turns it on.
		inNS(t, n.Name("client"), func() { enableGRO(t, "edge") })
		inNS(t, n.Name("peer"), func() { enableGRO(t, "edge") })
		top.learnNeighbours(t)
	}
	// Opened last, so that the first packet it sees is a test's.
	inNS(t, n.Name("peer"), func() { top.peerWire = newCapture(t, "edge") })
	return &top
}

// learnNeighbours has the edge's stack resolve the client's and the
// peer's MAC addresses (a datagram from its user-space path to each), as
// the XDP program needs them to be known before it relays; the client and
// the peer receive the datagrams.
func (top *topology) learnNeighbours(t *testing.T) {
	t.Helper()
	f := top.f
	if _, err := top.edgeListener.WriteToUDPAddrPort([]byte("hello client"), f.clientAddr); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, top.clientConn); string(got.data) != "hello client" {
		t.Fatalf("client got %q", got.data)
	}
	if _, err := top.edgeRelayed.WriteToUDPAddrPort([]byte("hello peer"), f.peer); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, top.peerConn); string(got.data) != "hello peer" {
		t.Fatalf("peer got %q", got.data)
	}
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

// bound is channel number of the topology's client to peer.
func (top *topology) bound(number uint16, peer netip.AddrPort, lifetime time.Duration) Channel {
	return Channel{Client: top.f.clientAddr, Listener: top.f.listener, Number: number, Relayed: top.f.relayed, Peer: peer, Lifetime: lifetime}
}

// hops is the TTL or hop limit the program must give relayed packets.
func (top *topology) hops() byte {
	if top.f.clientAddr.Addr().Is4() {
		return edgeTTL
	}
	return edgeHopLimit
}

// checkRelayed fails t unless got is payload from from with tos and the
// edge's TTL or hop limit, and for IPv6 without a flow label.
func (top *topology) checkRelayed(t *testing.T, got datagram, payload []byte, from netip.AddrPort, tos byte) {
	t.Helper()
	if !bytes.Equal(got.data, payload) || got.from != from || got.tos != tos || got.hops != top.hops() {
		t.Fatalf("got % x... (%d bytes) from %v tos %#x hops %d, want % x... (%d bytes) from %v tos %#x hops %d",
			got.data[:min(8, len(got.data))], len(got.data), got.from, got.tos, got.hops,
			payload[:min(8, len(payload))], len(payload), from, tos, top.hops())
	}
	if from.Addr().Is6() && (!got.flowSeen || got.flow != 0) {
		t.Fatalf("flow label %#x (reported: %v), want 0 (reported, as the Traffic Class is not 0)", got.flow, got.flowSeen)
	}
}

// TestNextProgram: a packet the program leaves alone goes on to the next
// program at the hook (TCX_NEXT), not straight to the stack: with a
// second Loader attached after the first, as another edge on the same host
// would be, a channel only the second holds is relayed in the kernel by
// the second, both ways.
func TestNextProgram(t *testing.T) {
	forFamilies(t, tcOnly, func(t *testing.T, f family) {
		top := newTopology(t, f)
		var second *Loader
		var err error
		inNS(t, top.edgeNS, func() {
			second, err = Open(Options{Interfaces: []string{"client", "peer"}, MaxEntries: 16})
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := second.Close(); err != nil {
				t.Error(err)
			}
		})
		ch := top.bound(0x4001, f.peer, time.Minute)
		if err := second.Install(ch); err != nil {
			t.Fatal(err)
		}
		const tos = 0xB9 // not 0, so that an IPv6 receiver reports the flow label
		top.client.send(t, f.clientAddr, f.listener, tos, channelData(ch.Number, []byte("to the peer")))
		top.checkRelayed(t, receive(t, top.peerConn), []byte("to the peer"), f.relayed, tos)
		top.peer.send(t, f.peer, f.relayed, tos, []byte("to the client"))
		top.checkRelayed(t, receive(t, top.clientConn), channelData(ch.Number, []byte("to the client")), f.listener, tos)
		st, err := second.Stats()
		if err != nil || st.ToPeer != 1 || st.ToClient != 1 {
			t.Errorf("second program's stats %+v, %v; want 1 relayed each way", st, err)
		}
		if st := top.stats(t); st.ToPeer != 0 || st.ToClient != 0 {
			t.Errorf("first program's stats %+v, want nothing relayed", st)
		}
	})
}

// TestRelay relays both ways through the kernel, with the TOS byte or
// Traffic Class (DSCP and ECN) carried over, the edge's TTL or hop limit,
// no IPv6 flow label, counters that match what was sent, and what the
// program must leave to user space reaching the edge's sockets.
func TestRelay(t *testing.T) {
	forFamilies(t, allHooks, func(t *testing.T, f family) {
		top := newTopology(t, f)
		ch := top.bound(0x4001, f.peer, time.Minute)
		top.install(t, ch)

		var want Counters
		for i, size := range []int{1, 3, 160, 1000, 1400} {
			payload := bytes.Repeat([]byte{byte(i + 1)}, size)
			const tos = 0xB9 // DSCP EF, ECN ECT(1)
			top.client.send(t, f.clientAddr, f.listener, tos, channelData(ch.Number, payload))
			top.checkRelayed(t, receive(t, top.peerConn), payload, f.relayed, tos)
			want.ToPeer.Packets++
			want.ToPeer.Bytes += uint64(size)
		}
		for i, size := range []int{0, 2, 200, 1200, 1448} {
			payload := bytes.Repeat([]byte{byte(0x80 + i)}, size)
			const tos = 0x2A // DSCP AF11, ECN ECT(0)
			top.peer.send(t, f.peer, f.relayed, tos, payload)
			top.checkRelayed(t, receive(t, top.clientConn), channelData(ch.Number, payload), f.listener, tos)
			want.ToClient.Packets++
			want.ToClient.Bytes += uint64(size)
		}
		if got, err := top.loader.Counters(ch); err != nil || got != want {
			t.Errorf("Counters = %+v, %v; want %+v", got, err, want)
		}

		// A channel with no entry, and a peer with no permission, go to
		// user space unchanged (the flow label too: the receiving
		// socket does report one).
		unbound := channelData(0x4002, []byte("to user space"))
		top.client.send(t, f.clientAddr, f.listener, 0, unbound)
		got := receive(t, top.edgeListener)
		if !bytes.Equal(got.data, unbound) || got.from != f.clientAddr || got.hops != 64 {
			t.Errorf("edge listener got %q from %v hops %d, want %q from %v hops 64", got.data, got.from, got.hops, unbound, f.clientAddr)
		}
		if f.clientAddr.Addr().Is6() && got.flow != testFlowLabel {
			t.Errorf("edge listener got flow label %#x, want %#x", got.flow, testFlowLabel)
		}
		top.peer.send(t, f.other, f.relayed, 0, []byte("no permission"))
		if got := receive(t, top.edgeRelayed); string(got.data) != "no permission" || got.from != f.other {
			t.Errorf("edge relayed socket got %q from %v", got.data, got.from)
		}
		// A datagram whose checksum the sender left to the NIC (an
		// ordinary socket over a veth: CHECKSUM_PARTIAL) goes to user
		// space too, at TC. XDP cannot tell such a datagram (there is
		// no skb yet): local senders must send complete checksums
		// (docs/offload.md), so the XDP hook is not tried with one.
		wantPartial := uint64(0)
		if f.hook == HookTC {
			partial := channelData(ch.Number, []byte("checksum offloaded"))
			if _, err := top.clientConn.WriteToUDPAddrPort(partial, f.listener); err != nil {
				t.Fatal(err)
			}
			if got := receive(t, top.edgeListener); !bytes.Equal(got.data, partial) {
				t.Errorf("edge listener got %q, want %q", got.data, partial)
			}
			wantPartial = 1
		}

		st := top.stats(t)
		if st.ToPeer != want.ToPeer.Packets || st.ToClient != want.ToClient.Packets || st.PassPartial != wantPartial || st.Expired != 0 || st.Errors != 0 || st.PassNoNeighbour != 0 {
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
		top.client.send(t, f.clientAddr, f.listener, 0, removed)
		if got := receive(t, top.edgeListener); !bytes.Equal(got.data, removed) {
			t.Errorf("after Remove the edge listener got %q, want %q", got.data, removed)
		}
	})
}

// TestChannelRange relays on the first and the last channel number of
// RFC 8656 (0x4000 and 0x7FFF), both ways.
func TestChannelRange(t *testing.T) {
	forFamilies(t, allHooks, func(t *testing.T, f family) {
		top := newTopology(t, f)
		for i, number := range []uint16{0x4000, 0x7FFF} {
			peer := []netip.AddrPort{f.peer, f.other}[i]
			peerConn := []*net.UDPConn{top.peerConn, top.otherConn}[i]
			ch := top.bound(number, peer, time.Minute)
			top.install(t, ch)
			top.client.send(t, f.clientAddr, f.listener, 0x88, channelData(number, []byte("to the peer")))
			top.checkRelayed(t, receive(t, peerConn), []byte("to the peer"), f.relayed, 0x88)
			top.peer.send(t, peer, f.relayed, 0x88, []byte("to the client"))
			top.checkRelayed(t, receive(t, top.clientConn), channelData(number, []byte("to the client")), f.listener, 0x88)
			want := Counters{ToPeer: Flow{Packets: 1, Bytes: 11}, ToClient: Flow{Packets: 1, Bytes: 13}}
			if got, err := top.loader.Counters(ch); err != nil || got != want {
				t.Errorf("channel %#04x: Counters = %+v, %v; want %+v", number, got, err, want)
			}
		}
	})
}

// TestPassToUserSpace: on a bound channel, what the program must not
// rewrite reaches the edge's stack unchanged: IPv6 with an extension header
// in front of UDP, a zero UDP checksum (valid over IPv4, so the edge's
// socket gets it; invalid over IPv6, so the edge's stack drops it and only
// the program's counter shows it passed), and a peer's datagram too big
// for the client's interface with the ChannelData header.
func TestPassToUserSpace(t *testing.T) {
	forFamilies(t, allHooks, func(t *testing.T, f family) {
		top := newTopology(t, f)
		ch := top.bound(0x4010, f.peer, time.Minute)
		top.install(t, ch)
		if f.clientAddr.Addr().Is6() {
			ext := channelData(ch.Number, []byte("behind destination options"))
			top.client.sendPacket(t, f.listener.Addr(), udp6(f.clientAddr, f.listener, 0, 0, true, ext))
			if got := receive(t, top.edgeListener); !bytes.Equal(got.data, ext) {
				t.Errorf("edge listener got %q, want %q", got.data, ext)
			}
		}
		var pkt []byte
		noSum := channelData(ch.Number, []byte("no checksum"))
		if f.clientAddr.Addr().Is4() {
			pkt = udp4(f.clientAddr, f.listener, 0, noSum)
			pkt[20+6], pkt[20+7] = 0, 0
		} else {
			pkt = udp6(f.clientAddr, f.listener, 0, 0, false, noSum)
			pkt[40+6], pkt[40+7] = 0, 0
		}
		top.client.sendPacket(t, f.listener.Addr(), pkt)
		waitFor(t, "a datagram without checksum passed", func() bool { return top.stats(t).PassNoChecksum == 1 })
		if f.clientAddr.Addr().Is4() {
			if got := receive(t, top.edgeListener); !bytes.Equal(got.data, noSum) {
				t.Errorf("edge listener got %q, want %q", got.data, noSum)
			}
		}
		// A peer datagram that fills the MTU (1500) cannot take the
		// ChannelData header: the edge's socket gets it.
		full := bytes.Repeat([]byte{0x5A}, 1500-ipHeaderLen(f)-8)
		top.peer.send(t, f.peer, f.relayed, 0, full)
		if got := receive(t, top.edgeRelayed); !bytes.Equal(got.data, full) {
			t.Errorf("edge relayed socket got %d bytes, want the %d of a full datagram", len(got.data), len(full))
		}
		// Nothing reached the peer: the first datagram it gets is the
		// next one relayed.
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(ch.Number, []byte("relayed")))
		if got := receive(t, top.peerConn); string(got.data) != "relayed" {
			t.Errorf("peer got %q, want %q", got.data, "relayed")
		}
		if st := top.stats(t); st.ToPeer != 1 || st.PassNoChecksum != 1 || st.PassMTU != 1 || st.Errors != 0 {
			t.Errorf("Stats = %+v", st)
		}
	})
}

// TestExpired: an entry whose permission has passed on the kernel clock
// (user space having missed its removal) drops the packets of both
// directions and counts them.
func TestExpired(t *testing.T) {
	forFamilies(t, allHooks, func(t *testing.T, f family) {
		top := newTopology(t, f)
		ch := top.bound(0x4003, f.peer, -time.Second)
		top.install(t, ch)
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(ch.Number, []byte("late")))
		top.peer.send(t, f.peer, f.relayed, 0, []byte("late too"))
		waitFor(t, "two expired drops", func() bool { return top.stats(t).Expired == 2 })

		// Neither reached anyone: the next datagrams each side receives
		// are the ones sent on a live entry.
		top.install(t, top.bound(0x4003, f.peer, time.Minute))
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(ch.Number, []byte("live")))
		if got := receive(t, top.peerConn); string(got.data) != "live" {
			t.Errorf("peer got %q, want %q", got.data, "live")
		}
		top.peer.send(t, f.peer, f.relayed, 0, []byte("live too"))
		if got := receive(t, top.clientConn); !bytes.Equal(got.data, channelData(ch.Number, []byte("live too"))) {
			t.Errorf("client got %q", got.data)
		}
		if st := top.stats(t); st.Expired != 2 || st.ToPeer != 1 || st.ToClient != 1 {
			t.Errorf("Stats = %+v", st)
		}
	})
}

// TestExpiresOnKernelClock: a channel installed with a short lifetime
// relays until then; once CLOCK_MONOTONIC has passed its expiry, with
// nobody calling Remove (user space missed it), the kernel drops the
// packets of both directions and counts exactly those, and neither the
// edge's sockets nor the client and the peer get them.
func TestExpiresOnKernelClock(t *testing.T) {
	forFamilies(t, allHooks, func(t *testing.T, f family) {
		top := newTopology(t, f)
		const lifetime = 300 * time.Millisecond
		ch := top.bound(0x4006, f.peer, lifetime)
		top.install(t, ch)
		// Install read the clock before this: the entry's expiry is at
		// or before end.
		end := monotonic(t) + lifetime
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(ch.Number, []byte("in time")))
		if got := receive(t, top.peerConn); string(got.data) != "in time" {
			t.Fatalf("peer got %q, want %q", got.data, "in time")
		}
		top.peer.send(t, f.peer, f.relayed, 0, []byte("in time too"))
		if got := receive(t, top.clientConn); !bytes.Equal(got.data, channelData(ch.Number, []byte("in time too"))) {
			t.Fatalf("client got %q", got.data)
		}

		for now := monotonic(t); now < end; now = monotonic(t) {
			time.Sleep(end - now) // a clock deadline: no event to wait for
		}
		const n = 5
		for i := range n {
			top.client.send(t, f.clientAddr, f.listener, 0, channelData(ch.Number, []byte{byte(i)}))
			top.peer.send(t, f.peer, f.relayed, 0, []byte{byte(i)})
		}
		waitFor(t, "the expired drops", func() bool { return top.stats(t).Expired >= 2*n })

		// User space catches up: the next datagrams go to the edge's
		// sockets, and are the first they get.
		if err := top.loader.Remove(ch); err != nil {
			t.Fatal(err)
		}
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(ch.Number, []byte("removed")))
		if got := receive(t, top.edgeListener); !bytes.Equal(got.data, channelData(ch.Number, []byte("removed"))) {
			t.Errorf("edge listener got %q first", got.data)
		}
		top.peer.send(t, f.peer, f.relayed, 0, []byte("removed"))
		if got := receive(t, top.edgeRelayed); string(got.data) != "removed" {
			t.Errorf("edge relayed socket got %q first", got.data)
		}
		// And a new binding relays again: the client and the peer get
		// its datagrams first.
		top.install(t, top.bound(0x4006, f.peer, time.Minute))
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(ch.Number, []byte("rebound")))
		if got := receive(t, top.peerConn); string(got.data) != "rebound" {
			t.Errorf("peer got %q first", got.data)
		}
		top.peer.send(t, f.peer, f.relayed, 0, []byte("rebound"))
		if got := receive(t, top.clientConn); !bytes.Equal(got.data, channelData(ch.Number, []byte("rebound"))) {
			t.Errorf("client got %q first", got.data)
		}
		if st := top.stats(t); st.Expired != 2*n || st.ToPeer != 2 || st.ToClient != 2 || st.Errors != 0 {
			t.Errorf("Stats = %+v, want %d expired, 2 relayed each way", st, 2*n)
		}
	})
}

// monotonic is CLOCK_MONOTONIC, the clock of the entries' expiry.
func monotonic(t *testing.T) time.Duration {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// TestRebind: installing the channel again with another peer takes effect
// on the next packet, and the old peer's datagrams go to user space.
func TestRebind(t *testing.T) {
	forFamilies(t, allHooks, func(t *testing.T, f family) {
		top := newTopology(t, f)
		top.install(t, top.bound(0x4004, f.peer, time.Minute))
		// The old binding relays first, so that the rebinding changes a
		// channel in use.
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(0x4004, []byte("to the old peer")))
		if got := receive(t, top.peerConn); string(got.data) != "to the old peer" {
			t.Fatalf("old peer got %q", got.data)
		}
		rebound := top.bound(0x4004, f.other, time.Minute)
		top.install(t, rebound)
		if got, err := top.loader.Counters(rebound); err != nil || got != (Counters{}) {
			t.Errorf("Counters after the rebinding = %+v, %v; want zero", got, err)
		}
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(0x4004, []byte("to the new peer")))
		if got := receive(t, top.otherConn); string(got.data) != "to the new peer" || got.from != f.relayed {
			t.Errorf("new peer got %q from %v", got.data, got.from)
		}
		top.peer.send(t, f.peer, f.relayed, 0, []byte("old peer"))
		if got := receive(t, top.edgeRelayed); string(got.data) != "old peer" {
			t.Errorf("edge relayed socket got %q, want the old peer's datagram", got.data)
		}
		top.peer.send(t, f.other, f.relayed, 0, []byte("new peer"))
		if got := receive(t, top.clientConn); !bytes.Equal(got.data, channelData(0x4004, []byte("new peer"))) {
			t.Errorf("client got %q", got.data)
		}
	})
}

// TestInstallRejects checks the channels Install refuses.
func TestInstallRejects(t *testing.T) {
	top := newTopology(t, ipv4)
	v6 := netip.MustParseAddrPort("[2001:db8::1]:5000")
	zoned := netip.MustParseAddrPort("[fe80::1%client]:5000")
	mixed := top.bound(0x4001, v6, time.Minute)
	mixed.Relayed = netip.MustParseAddrPort("[2001:db8::2]:49152")
	for _, c := range []Channel{
		top.bound(0x3fff, ipv4.peer, time.Minute),
		top.bound(0x8000, ipv4.peer, time.Minute),
		top.bound(0x4001, v6, time.Minute),
		mixed,
		{Client: zoned, Listener: zoned, Number: 0x4001, Relayed: zoned, Peer: zoned, Lifetime: time.Minute},
	} {
		if err := top.loader.Install(c); !errors.Is(err, ErrChannel) {
			t.Errorf("Install(%v %v %#04x to %v %v) = %v, want ErrChannel", c.Client, c.Listener, c.Number, c.Relayed, c.Peer, err)
		}
	}
	unroutable := top.bound(0x4001, netip.MustParseAddrPort("192.0.2.1:5000"), time.Minute)
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
			skipUnsupported(t, err)
		}
		if !errors.Is(err, ErrInterface) {
			t.Errorf("Open(%q) = %v, want ErrInterface", names, err)
		}
	}
}

// TestRefreshKeepsCounters: installing a channel again for the same peer
// (a refresh of its permission) keeps what it counted.
func TestRefreshKeepsCounters(t *testing.T) {
	forFamilies(t, allHooks, func(t *testing.T, f family) {
		top := newTopology(t, f)
		ch := top.bound(0x4005, f.peer, time.Minute)
		top.install(t, ch)
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(ch.Number, []byte("before")))
		receive(t, top.peerConn)
		top.peer.send(t, f.peer, f.relayed, 0, []byte("back"))
		receive(t, top.clientConn)
		top.install(t, top.bound(0x4005, f.peer, 2*time.Minute))
		top.client.send(t, f.clientAddr, f.listener, 0, channelData(ch.Number, []byte("after")))
		receive(t, top.peerConn)
		want := Counters{ToPeer: Flow{Packets: 2, Bytes: 11}, ToClient: Flow{Packets: 1, Bytes: 4}}
		if got, err := top.loader.Counters(ch); err != nil || got != want {
			t.Errorf("Counters after a refresh = %+v, %v; want %+v", got, err, want)
		}
	})
}

// TestFailedInstallKeepsReturn: an install that fails half-way (its
// client entry does not fit: the map is full) leaves the return entry it
// replaced as it was, so the channel that held it still relays back.
func TestFailedInstallKeepsReturn(t *testing.T) {
	forFamilies(t, tcOnly, func(t *testing.T, f family) {
		top := newTopology(t, f)
		ch := top.bound(0x4006, f.peer, time.Minute)
		top.install(t, ch)
		// Fill to_peer (1024 entries) with channels to another peer.
		for i := 1; i < 1024; i++ {
			c := top.bound(0x4006, f.other, time.Minute)
			c.Client = netip.AddrPortFrom(f.clientAddr.Addr(), uint16(41000+i))
			c.Relayed = netip.AddrPortFrom(f.relayed.Addr(), uint16(50000+i))
			top.install(t, c)
		}
		// Another client's channel to the same relayed address and peer:
		// its return entry replaces ch's, then its client entry fails.
		thief := ch
		thief.Client = netip.AddrPortFrom(f.clientAddr.Addr(), 40999)
		if err := top.loader.Install(thief); err == nil {
			t.Fatal("an install into a full map succeeded")
		}
		const tos = 0xB9 // not 0, so that an IPv6 receiver reports the flow label
		top.peer.send(t, f.peer, f.relayed, tos, []byte("still mine"))
		top.checkRelayed(t, receive(t, top.clientConn), channelData(ch.Number, []byte("still mine")), f.listener, tos)
	})
}

// ipHeaderLen is the length of f's IP header without options.
func ipHeaderLen(f family) int {
	if f.clientAddr.Addr().Is4() {
		return 20
	}
	return 40
}

// TestPadded: ChannelData a client padded to a multiple of 4 bytes (RFC
// 8656 §12.5) reaches the peer without the padding, whatever the padding
// bytes hold (the peer's stack checks the fixed checksum); a length that
// matches the datagram neither exactly nor so padded goes to user space.
func TestPadded(t *testing.T) {
	forFamilies(t, allHooks, func(t *testing.T, f family) {
		top := newTopology(t, f)
		ch := top.bound(0x4020, f.peer, time.Minute)
		top.install(t, ch)
		var want Flow
		for _, size := range []int{1, 2, 3, 5, 6, 7, 161, 1399} {
			payload := bytes.Repeat([]byte{byte(size)}, size)
			padded := channelData(ch.Number, payload)
			for len(padded)%4 != 0 {
				padded = append(padded, 0xA5+byte(len(padded)))
			}
			top.client.send(t, f.clientAddr, f.listener, 0x48, padded)
			top.checkRelayed(t, receive(t, top.peerConn), payload, f.relayed, 0x48)
			// The padding is gone from the wire too, not only
			// from what the peer's stack delivers.
			if wire := top.peerWire.nextUDP(t, f.peer.Port()); !bytes.HasSuffix(wire, payload) || len(wire) != ipHeaderLen(f)+8+size {
				t.Fatalf("%d bytes on the peer's wire, want %d ending in the payload", len(wire), ipHeaderLen(f)+8+size)
			}
			want.Packets++
			want.Bytes += uint64(size)
		}
		if got, err := top.loader.Counters(ch); err != nil || got.ToPeer != want {
			t.Errorf("Counters = %+v, %v; want ToPeer %+v", got, err, want)
		}
		for _, bad := range [][]byte{
			append(channelData(ch.Number, []byte("abcde")), 0, 0, 0, 0, 0, 0, 0), // padded to 16, not 12
			channelData(ch.Number, []byte("abcdefgh"))[:10],                      // truncated
		} {
			top.client.send(t, f.clientAddr, f.listener, 0, bad)
			if got := receive(t, top.edgeListener); !bytes.Equal(got.data, bad) {
				t.Errorf("edge listener got % x, want % x", got.data, bad)
			}
		}
		if st := top.stats(t); st.ToPeer != want.Packets || st.Errors != 0 {
			t.Errorf("Stats = %+v", st)
		}
	})
}

// TestXDPUnknownNextHop: at XDP, a channel whose next hops the edge's
// kernel has not resolved yet is left to user space (counted), both ways;
// once the edge's own sends have resolved them, the loader learns them and
// the program relays.
func TestXDPUnknownNextHop(t *testing.T) {
	forFamilies(t, []Hook{HookXDP}, func(t *testing.T, f family) {
		top := newTopology(t, f)
		top.net.MustExec("edge", "ip", "neigh", "flush", "all")
		ch := top.bound(0x4030, f.peer, time.Minute)
		top.install(t, ch)
		up := channelData(ch.Number, []byte("unknown peer MAC"))
		top.client.send(t, f.clientAddr, f.listener, 0, up)
		if got := receive(t, top.edgeListener); !bytes.Equal(got.data, up) {
			t.Fatalf("edge listener got %q, want %q", got.data, up)
		}
		top.peer.send(t, f.peer, f.relayed, 0, []byte("unknown client MAC"))
		if got := receive(t, top.edgeRelayed); string(got.data) != "unknown client MAC" {
			t.Fatalf("edge relayed socket got %q", got.data)
		}
		if st := top.stats(t); st.PassNoNeighbour != 2 || st.ToPeer != 0 || st.ToClient != 0 {
			t.Fatalf("Stats = %+v, want 2 left to user space for want of a next hop", st)
		}

		// User space relays them, which resolves the neighbours.
		top.learnNeighbours(t)
		relayedOnce(t, "the client's ChannelData", func() {
			top.client.send(t, f.clientAddr, f.listener, 0x2E, channelData(ch.Number, []byte("learnt")))
		}, top.peerConn, []byte("learnt"))
		relayedOnce(t, "the peer's datagram", func() {
			top.peer.send(t, f.peer, f.relayed, 0x2E, []byte("learnt too"))
		}, top.clientConn, channelData(ch.Number, []byte("learnt too")))
		if st := top.stats(t); st.ToPeer != 1 || st.ToClient != 1 || st.Errors != 0 {
			t.Errorf("Stats = %+v, want 1 relayed each way", st)
		}
	})
}

// relayedOnce sends (by send) until conn receives want, for up to five
// seconds: the loader learns a next hop from the kernel's notification
// (or, failing that, its next refresh, 50 ms here), which the test has
// no signal of; what is sent before goes to the edge's sockets.
func relayedOnce(t *testing.T, what string, send func(), conn *net.UDPConn, want []byte) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		send()
		if got, err := tryReceive(conn, 100*time.Millisecond); err == nil {
			if !bytes.Equal(got.data, want) {
				t.Fatalf("%s: got %q, want %q", what, got.data, want)
			}
			return
		}
	}
	t.Fatalf("%s: not relayed within five seconds", what)
}

// TestOpenRejectsGenericXDP: at XDP, an interface whose driver has no
// native XDP (a bridge) fails Open with ErrUnsupported naming it: the
// loader never falls back to generic XDP.
func TestOpenRejectsGenericXDP(t *testing.T) {
	n := netnstest.New(t, "avedge-offload")
	n.Add("edge")
	n.MustExec("edge", "ip", "link", "add", "br0", "type", "bridge")
	n.MustExec("edge", "ip", "link", "set", "br0", "up")
	var err error
	inNS(t, n.Name("edge"), func() {
		var l *Loader
		l, err = Open(Options{Interfaces: []string{"br0"}, Hook: HookXDP})
		if err == nil {
			l.Close()
		}
	})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `"br0"`) {
		t.Errorf("Open at XDP on a bridge = %v, want ErrUnsupported naming br0", err)
	}
}
