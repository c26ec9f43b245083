package server

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
	"github.com/avedge/avedge/internal/turntest"
)

// TestMSRejectsRFCRequests: an allocation made in the [MS-TURN] dialect
// cannot be used with RFC TURN requests from its 5-tuple, which would skip
// the dialect's integrity, sequence numbers and transport-address
// permissions: CreatePermission gets 437, and a Send indication (which
// carries no integrity) to another port of a permitted IP is dropped.
func TestMSRejectsRFCRequests(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newMSClient(u, p)
	c.allocate()
	p1, p2 := newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.1")
	c.send(p1.addr(), []byte("hello"))
	wantPeerGot(t, p1, []byte("hello"), c.relayed)

	rfc := &client{t: t, conn: c.udp, server: c.server, user: u, pass: p}
	wantCode(t, rfc.do(stun.MethodCreatePermission, &stunproto.XORPeerAddress{Addr: p2.addr()}), stun.CodeAllocMismatch)
	drops := e.dropsDelta(func() {
		ind := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
			&stunproto.XORPeerAddress{Addr: p2.addr()}, stunproto.Data("forged"), stun.Fingerprint)
		c.writeRaw(ind.Raw)
		c.barrier()
	})
	if len(drops) != 1 || drops[stats.DropBadIndication] != 1 {
		t.Fatalf("drops %v, want one bad_indication", drops)
	}
	if st := e.srv.Stats(); st.ToPeerPackets != 1 {
		t.Fatalf("%d packets relayed to peers, want only the Send's", st.ToPeerPackets)
	}
}

// TestMSPolicyRecheck: a refresh applies the current peer policy to the
// peers the client sent to: after SetPolicy denies the active destination,
// the next refresh takes its role and permission away, and raw data no
// longer flows either way.
func TestMSPolicyRecheck(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.allocate()
	p1 := newPeer(t, "127.0.0.1")
	c.send(p1.addr(), []byte("hello"))
	wantPeerGot(t, p1, []byte("hello"), c.relayed)
	c.wantSuccess(c.sad(p1.addr()), msturn.SetActiveDestResponse)
	c.writeRaw([]byte("raw"))
	wantPeerGot(t, p1, []byte("raw"), c.relayed)

	if err := e.srv.SetPolicy(policyDefaultOnly()); err != nil {
		t.Fatal(err)
	}
	c.wantSuccess(c.roundTrip(c.allocateMsg(newTxID())), msturn.AllocateResponse)
	drops := e.dropsDelta(func() {
		c.writeRaw([]byte("raw again"))
		p1.sendTo([]byte("from p1"), c.relayed)
		c.barrier()
	})
	if drops[stats.DropNoPermission] < 1 {
		t.Fatalf("drops %v, want the raw data dropped for want of a permission", drops)
	}
	if st := e.srv.Stats(); st.ToPeerPackets != 2 || st.ToClientPackets != 0 {
		t.Fatalf("relayed %d to peers and %d to the client, want 2 and 0", st.ToPeerPackets, st.ToClientPackets)
	}
}

// TestMSFramingNeedsPlain: a TLS-only listener takes the dialect after
// pseudo-TLS only; framed MS-TURN in the clear is closed as not TURN.
func TestMSFramingNeedsPlain(t *testing.T) {
	se := newStreamEdge(t, func(o *Options) { o.StreamListeners[0].Plain = false })
	conn := se.dial(false)
	c := &msClient{t: t, stream: conn, server: se.tcp, version: 1}
	c.writeMsg(c.build(msturn.AllocateRequest, newTxID(), c.versionAttr()...))
	turntest.WantClosed(t, conn)
	waitFor(t, func() bool { return se.srv.Stats().Stream.NotTURN == 1 })
}

// TestExpiredMSAllocationFreesItsTuple: an [MS-TURN] allocation over UDP
// that expired, and that the tick has not reaped yet, ends at its client's
// next datagram, counted as expired: an RFC Allocate from the same 5-tuple
// then gets a new allocation, as it would after an expired RFC one.
func TestExpiredMSAllocationFreesItsTuple(t *testing.T) {
	client := netip.MustParseAddrPort("127.0.0.1:41000")
	f := newMSFake(t, client)
	f.clk.Advance(11 * time.Minute) // the default lifetime is 10 minutes; no tick runs here
	rfc := func(attrs ...stun.Setter) *stun.Message {
		t.Helper()
		m := stun.MustBuild(append([]stun.Setter{stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest),
			stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP}}, attrs...)...)
		before := f.lsock.writes
		buf, off, n := packetBuf(m.Raw)
		f.w.handleClient(f.l, client, buf, off, n, 0)
		if f.lsock.writes == before {
			t.Fatal("no answer")
		}
		r := &stun.Message{Raw: append([]byte(nil), f.lsock.lastWrite()...)}
		if err := r.Decode(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	challenge := rfc(stun.Fingerprint)
	var realm stun.Realm
	var nonce stun.Nonce
	if realm.GetFrom(challenge) != nil || nonce.GetFrom(challenge) != nil {
		t.Fatalf("challenge %v without REALM and NONCE", challenge)
	}
	r := rfc(stun.NewUsername(f.username), realm, nonce,
		stun.NewLongTermIntegrity(f.username, realm.String(), f.password), stun.Fingerprint)
	if code := errorCode(r); code != 0 || r.Type.Class != stun.ClassSuccessResponse {
		t.Fatalf("RFC Allocate on the expired MS allocation's 5-tuple: %v (code %v), want success", r.Type, code)
	}
	s := f.w.lookup(f.l, client)
	if s == nil || s.ms != nil {
		t.Fatalf("session %+v, want a new RFC allocation", s)
	}
	if n := f.w.c.ended[stats.EndExpired].Load(); n != 1 {
		t.Fatalf("%d allocations ended expired, want the MS one", n)
	}
}
