package server

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

func peerAttr(a netip.AddrPort) *stunproto.XORPeerAddress {
	return &stunproto.XORPeerAddress{Addr: a}
}

func channelData(num uint16, payload []byte) []byte {
	b := make([]byte, 4+len(payload))
	binary.BigEndian.PutUint16(b, num)
	binary.BigEndian.PutUint16(b[2:], uint16(len(payload)))
	copy(b[4:], payload)
	return b
}

// barrier makes sure the server has handled everything c sent before: the
// client's packets reach one worker in order, so the answer to a Binding
// request comes after they were processed.
func (c *client) barrier() {
	c.t.Helper()
	wantCode(c.t, c.roundTrip(stun.MustBuild(stun.TransactionID, stun.BindingRequest)), 0)
}

func TestCreatePermissionAndSendIndication(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()
	p1, p2 := newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.2")

	// Without a permission a Send indication is dropped and counted.
	send := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(p1.addr()), stunproto.Data("dropped"), stun.Fingerprint)
	c.send(send.Raw)
	c.barrier()
	if got := e.srv.Stats().Dropped(stats.DropNoPermission); got != 1 {
		t.Fatalf("no_permission drops = %d, want 1", got)
	}

	// One CreatePermission with two XOR-PEER-ADDRESS attributes.
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(p1.addr()), peerAttr(p2.addr())), 0)
	for _, pp := range []*peer{p1, p2} {
		send := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
			peerAttr(pp.addr()), stunproto.Data("hello "+pp.addr().String()), stun.Fingerprint)
		c.send(send.Raw)
		got, from := pp.read()
		if string(got) != "hello "+pp.addr().String() || from != relayed {
			t.Fatalf("peer got %q from %v, want the payload from %v", got, from, relayed)
		}
	}

	// The peer answers; without a channel it arrives as a Data indication.
	p1.sendTo([]byte("pong"), relayed)
	m := c.readMessage()
	if m.Type != stun.NewType(stun.MethodData, stun.ClassIndication) {
		t.Fatalf("got %v, want a Data indication", m.Type)
	}
	var from stunproto.XORPeerAddress
	var data stunproto.Data
	if from.GetFrom(m) != nil || data.GetFrom(m) != nil {
		t.Fatal("Data indication without XOR-PEER-ADDRESS or DATA")
	}
	if from.Addr != p1.addr() || string(data) != "pong" {
		t.Fatalf("Data indication from %v with %q", from.Addr, data)
	}
}

func TestPeerWithoutPermissionIsDropped(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()
	stranger, friend := newPeer(t, "127.0.0.3"), newPeer(t, "127.0.0.4")
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(friend.addr())), 0)
	// Both datagrams reach the same relay socket in this order, so once the
	// friend's arrives, the stranger's has been handled.
	stranger.sendTo([]byte("intruder"), relayed)
	friend.sendTo([]byte("friend"), relayed)
	m := c.readMessage()
	var data stunproto.Data
	if err := data.GetFrom(m); err != nil || string(data) != "friend" {
		t.Fatalf("client got %q (%v), want only the permitted peer's data", data, err)
	}
	if got := e.srv.Stats().Dropped(stats.DropNoPermission); got != 1 {
		t.Fatalf("no_permission drops = %d, want 1", got)
	}
}

func TestChannelDataBothWays(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()
	pr := newPeer(t, "127.0.0.1")
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4001), peerAttr(pr.addr())), 0)

	payload := bytes.Repeat([]byte{0xAB}, 171) // odd length: no padding on UDP
	c.send(channelData(0x4001, payload))
	got, from := pr.read()
	if !bytes.Equal(got, payload) || from != relayed {
		t.Fatalf("peer got %d bytes from %v", len(got), from)
	}
	pr.sendTo([]byte("media back"), relayed)
	b := c.read()
	num, back, err := stunproto.ParseChannelData(b)
	if err != nil || num != 0x4001 || string(back) != "media back" {
		t.Fatalf("client got channel %#x %q (%v)", num, back, err)
	}
	// An unbound channel number is dropped and counted.
	c.send(channelData(0x4002, payload))
	c.barrier()
	if got := e.srv.Stats().Dropped(stats.DropNoChannel); got != 1 {
		t.Fatalf("no_channel drops = %d, want 1", got)
	}
	st := e.srv.Stats()
	if st.ToPeerPackets != 1 || st.ToClientPackets != 1 || st.ToPeerBytes != 171 {
		t.Fatalf("stats %+v", st)
	}
}

func TestChannelBindRules(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	c.allocate()
	a, b := newPeer(t, "127.0.0.1").addr(), newPeer(t, "127.0.0.1").addr()
	for _, tc := range []struct {
		name string
		num  uint16
		peer netip.AddrPort
		want stun.ErrorCode
	}{
		{"bind", 0x4000, a, 0},
		{"rebind same pair refreshes", 0x4000, a, 0},
		{"number bound to another peer", 0x4000, b, stun.CodeBadRequest},
		{"peer bound to another number", 0x4001, a, stun.CodeBadRequest},
		{"second pair", 0x4FFF, b, 0},
		{"number below range", 0x3FFF, b, stun.CodeBadRequest},
		{"number above range", 0x5000, b, stun.CodeBadRequest},
		{"denied peer", 0x4002, netip.MustParseAddrPort("10.0.0.1:5000"), stun.CodeForbidden},
		{"IPv6 peer on an IPv4 relay", 0x4003, netip.MustParseAddrPort("[::1]:5000"), stun.CodePeerAddrFamilyMismatch},
	} {
		r := c.do(stun.MethodChannelBind, stunproto.ChannelNumber(tc.num), peerAttr(tc.peer))
		if got := errorCode(r); got != tc.want {
			t.Errorf("%s: code %d, want %d", tc.name, got, tc.want)
		}
	}
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4005)), stun.CodeBadRequest)
	wantCode(t, c.do(stun.MethodChannelBind, peerAttr(a)), stun.CodeBadRequest)
}

func TestPeerPolicyRefusals(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.Policy = policyDefaultOnly() })
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	c.allocate()
	for _, ip := range []string{
		"127.0.0.1", "10.0.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "224.0.0.1",
	} {
		r := c.do(stun.MethodCreatePermission, peerAttr(netip.AddrPortFrom(netip.MustParseAddr(ip), 9)))
		if got := errorCode(r); got != stun.CodeForbidden {
			t.Errorf("CreatePermission %s: code %d, want 403", ip, got)
		}
	}
	// IPv4-in-IPv6 forms of loopback are refused as well (here with 443
	// first where the family differs, so check the policy directly).
	for _, ip := range []string{"::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "::"} {
		if e.opts.Policy.Allowed(netip.MustParseAddr(ip)) {
			t.Errorf("policy allows %s", ip)
		}
	}
	// A permission with one good and one bad peer installs neither.
	good := netip.MustParseAddrPort("8.8.8.8:53")
	r := c.do(stun.MethodCreatePermission, peerAttr(good), peerAttr(netip.MustParseAddrPort("10.1.1.1:1")))
	wantCode(t, r, stun.CodeForbidden)
	send := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(good), stunproto.Data("x"), stun.Fingerprint)
	c.send(send.Raw)
	c.barrier()
	if got := e.srv.Stats().Dropped(stats.DropNoPermission); got != 1 {
		t.Fatalf("a refused CreatePermission installed a permission (no_permission drops = %d)", got)
	}
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(netip.MustParseAddrPort("127.0.0.1:9"))), stun.CodeForbidden)
}

func TestPermissionExpiry(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", 8*time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate(stunproto.Lifetime{Duration: time.Hour})
	pr := newPeer(t, "127.0.0.1")
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(pr.addr())), 0)
	e.clk.Advance(301 * time.Second)
	pr.sendTo([]byte("late"), relayed)
	friend := newPeer(t, "127.0.0.5")
	wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(friend.addr())), 0)
	friend.sendTo([]byte("fresh"), relayed)
	var data stunproto.Data
	if err := data.GetFrom(c.readMessage()); err != nil || string(data) != "fresh" {
		t.Fatalf("client got %q (%v) after the first permission expired", data, err)
	}
}

func TestUnknownMethodAndUnexpectedClasses(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newClient("", "")
	r := c.roundTrip(stun.MustBuild(stun.TransactionID, stun.NewType(stun.Method(0x0123), stun.ClassRequest), stun.Fingerprint))
	wantCode(t, r, stun.CodeBadRequest)
	c.send(stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodBinding, stun.ClassSuccessResponse)).Raw)
	c.barrier()
	if got := e.srv.Stats().Dropped(stats.DropUnexpected); got != 1 {
		t.Fatalf("unexpected drops = %d, want 1", got)
	}
}

func policyDefaultOnly() *policy.PeerPolicy { return policy.NewPeerPolicy(nil, nil, true) }

// TestPortQuarantineEnds: a relay port another program holds is taken out
// of the pool (the Allocate that found it gets 508 when it was the only
// one), counted as quarantined, and back in the pool portQuarantine later.
func TestPortQuarantineEnds(t *testing.T) {
	var port int
	e := newTestEdge(t, func(o *Options) {
		o.PortMax = o.PortMin // one relay port
		port = o.PortMin
	})
	other, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))))
	if err != nil {
		t.Fatal(err)
	}
	c := e.newClient(e.credential("alice", time.Hour))
	r := c.do(stun.MethodAllocate, stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP})
	wantCode(t, r, stun.CodeInsufficientCapacity)
	if q := e.srv.Stats().Ports.Quarantined; q != 1 {
		t.Fatalf("quarantined ports %d, want 1", q)
	}
	other.Close()
	e.clk.Advance(portQuarantine)
	waitFor(t, func() bool { return e.srv.Stats().Ports.Quarantined == 0 })
	if relayed := c.allocate(); int(relayed.Port()) != port {
		t.Fatalf("relayed %v, want port %d back from quarantine", relayed, port)
	}
}
