package server

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/stunproto"
)

// TestAllocateSHA256 authenticates with PASSWORD-ALGORITHM SHA-256 and
// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §9.2) and checks that the answer is
// signed the same way.
func TestAllocateSHA256(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	c.sha256 = true
	r := c.do(stun.MethodAllocate, udpTransport)
	wantCode(t, r, 0)
	if !r.Contains(stun.AttrMessageIntegritySHA256) {
		t.Fatal("response to an MI-SHA256 request lacks MESSAGE-INTEGRITY-SHA256")
	}
	key := auth.Key(stunproto.AlgSHA256, u, testRealm, p)
	if err := stunproto.NewMessageIntegritySHA256(key).Check(r); err != nil {
		t.Fatalf("response MESSAGE-INTEGRITY-SHA256: %v", err)
	}
	// The same request signed with a wrong password is refused.
	c2 := e.newClient(u, "wrong")
	c2.sha256 = true
	wantCode(t, c2.do(stun.MethodAllocate, udpTransport), stun.CodeUnauthorized)
}

// TestPasswordAlgorithmBidDown refuses a request whose PASSWORD-ALGORITHMS
// differs from what the server offered (RFC 8489 §9.2.4: a bid-down attack).
func TestPasswordAlgorithmBidDown(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	wantCode(t, c.do(stun.MethodRefresh), stun.CodeAllocMismatch) // learn the nonce
	m := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), udpTransport,
		stun.NewUsername(u), stun.NewRealm(c.realm), stun.NewNonce(c.nonce),
		stunproto.PasswordAlgorithms{{Algorithm: stunproto.AlgMD5}}, // the server offered SHA-256 and MD5
		stunproto.PasswordAlgorithm{Algorithm: stunproto.AlgMD5},
		stun.NewLongTermIntegrity(u, c.realm, p), stun.Fingerprint)
	wantCode(t, c.roundTrip(m), stun.CodeBadRequest)
	if got := e.srv.Stats().Allocations; got != 0 {
		t.Fatalf("allocations = %d after a bid-down attempt", got)
	}
}

// TestIPv6Client allocates from a client on ::1: the relayed address is IPv4
// (RFC 6156 §4.2 default) and media flows to an IPv4 peer.
func TestIPv6Client(t *testing.T) {
	requireIPv6(t)
	e := newTestEdge(t, func(o *Options) {
		o.Listeners = []netip.AddrPort{netip.MustParseAddrPort("[::1]:0")}
	})
	u, p := e.credential("alice", time.Hour)
	conn, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, server: e.addr, user: u, pass: p}
	relayed := c.allocate()
	if !relayed.Addr().Is4() {
		t.Fatalf("relayed address %v is not IPv4", relayed)
	}
	pr := newPeer(t, "127.0.0.1")
	wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(pr.addr())), 0)
	c.send(channelData(0x4000, []byte("from ::1")))
	if got, from := pr.read(); string(got) != "from ::1" || from != relayed {
		t.Fatalf("peer got %q from %v", got, from)
	}
	pr.sendTo([]byte("to ::1"), relayed)
	if num, payload, err := stunproto.ParseChannelData(c.read()); err != nil || num != 0x4000 || string(payload) != "to ::1" {
		t.Fatalf("client got channel %#x %q (%v)", num, payload, err)
	}
}
