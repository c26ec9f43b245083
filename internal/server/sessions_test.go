package server

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/sessions"
	"github.com/avedge/avedge/internal/turntest"
)

// TestSessionsList: the live allocations are listed with their user,
// identity, dialect, transport, addresses, peers (with channels) and
// traffic, oldest first, and filtered by user or identity.
func TestSessionsList(t *testing.T) {
	e := newTestEdge(t, nil)
	ua, pa := e.credential("alice", time.Hour)
	alice := e.newClient(ua, pa)
	relayed := alice.allocate()
	p1 := newPeer(t, "127.0.0.1")
	alice.bound(p1)
	alice.send(channelData(0x4000, []byte("hello")))
	if b, _ := p1.read(); string(b) != "hello" {
		t.Fatalf("peer got %q", b)
	}
	alice.barrier()
	e.clk.Advance(time.Second)
	ub, pb := e.credential("bob", time.Hour)
	bob := e.newMSClient(ub, pb)
	bob.allocate()

	all, err := e.srv.Sessions(context.Background(), sessions.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Identity != "alice" || all[1].Identity != "bob" {
		t.Fatalf("sessions %+v, want alice's then bob's", all)
	}
	a := all[0]
	switch {
	case len(a.ID) != 16 || a.ID == all[1].ID:
		t.Errorf("IDs %q and %q, want two distinct 16-digit ones", a.ID, all[1].ID)
	case a.User != ua || a.Dialect != "rfc" || a.Transport != "udp" || a.RelayProtocol != "udp":
		t.Errorf("alice's session %+v", a)
	case a.Client != alice.addr() || len(a.Relayed) != 1 || a.Relayed[0] != relayed:
		t.Errorf("addresses: client %v relayed %v, want %v and %v", a.Client, a.Relayed, alice.addr(), relayed)
	case len(a.Peers) != 1 || a.Peers[0].Address != p1.addr().Addr() || len(a.Peers[0].Channels) != 1 ||
		a.Peers[0].Channels[0] != (sessions.Channel{Number: 0x4000, Peer: p1.addr()}):
		t.Errorf("peers %+v, want %v with channel 0x4000", a.Peers, p1.addr())
	case a.ToPeerPackets != 1 || a.ToPeerBytes != 5:
		t.Errorf("to peer %d packets, %d bytes; want 1 and 5", a.ToPeerPackets, a.ToPeerBytes)
	case !a.Start.Before(all[1].Start) || !a.Expires.After(a.Start):
		t.Errorf("start %v (bob's %v), expires %v", a.Start, all[1].Start, a.Expires)
	}
	if b := all[1]; b.Dialect != "ms-turn" || len(b.Peers) != 0 {
		t.Errorf("bob's session %+v", b)
	}
	for _, f := range []sessions.Filter{{Identity: "bob"}, {User: ub}} {
		got, err := e.srv.Sessions(context.Background(), f)
		if err != nil || len(got) != 1 || got[0].Identity != "bob" {
			t.Errorf("filter %+v: %+v, %v; want bob's only", f, got, err)
		}
	}
	if got, err := e.srv.Sessions(context.Background(), sessions.Filter{Identity: "carol"}); err != nil || len(got) != 0 {
		t.Errorf("carol: %+v, %v; want none", got, err)
	}
}

// TestEndSession: an operator ends one session: its relay port closes,
// its record says "ended by operator", its client's next Refresh gets
// 437; the other session lives on. An unknown ID is ErrNotFound.
func TestEndSession(t *testing.T) {
	e := newTestEdge(t, nil)
	alice := e.newClient(e.credential("alice", time.Hour))
	relayed := alice.allocate()
	bob := e.newClient(e.credential("bob", time.Hour))
	bob.allocate()
	list, err := e.srv.Sessions(context.Background(), sessions.Filter{Identity: "alice"})
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions %+v, %v", list, err)
	}
	if err := e.srv.EndSession(context.Background(), list[0].ID); err != nil {
		t.Fatal(err)
	}
	if rec := e.waitEnded(); rec.Reason != "ended by operator" || rec.Relayed != relayed {
		t.Fatalf("record %+v, want alice's allocation ended by operator", rec)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(relayed))
	if err != nil {
		t.Fatalf("relay port still bound after the end: %v", err)
	}
	conn.Close()
	wantCode(t, alice.do(stun.MethodRefresh), stun.CodeAllocMismatch)
	wantCode(t, bob.do(stun.MethodRefresh), 0)
	for _, id := range []string{list[0].ID, "0000000000000000", "not-an-id", ""} {
		if err := e.srv.EndSession(context.Background(), id); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("EndSession(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

// TestEndIdentity: every session of an identity ends, over UDP, TCP and
// RFC 6062 (the TCP client's connection closes, and so do the peer data
// connection and its client side), with the given reason; others stay.
func TestEndIdentity(t *testing.T) {
	se := newStreamEdge(t, nil)
	u, p := se.credential("mallory", time.Hour)
	udp := se.newClient(u, p)
	udp.allocate()
	tcp := se.newStreamClient(u, p)
	tcp.allocateUDP()
	data, sink := se.dataPairFor(t, u, p)
	bob := se.newClient(se.credential("bob", time.Hour))
	bob.allocate()

	n, err := se.srv.EndIdentity(context.Background(), "mallory", stats.EndRevoked)
	if err != nil || n != 3 {
		t.Fatalf("EndIdentity = %d, %v; want 3 ended", n, err)
	}
	for range 3 {
		if rec := se.waitEnded(); rec.Identity != "mallory" || rec.Reason != "revoked" {
			t.Fatalf("record %+v, want one of mallory's, revoked", rec)
		}
	}
	turntest.WantClosed(t, tcp.conn)
	turntest.WantClosed(t, data)
	turntest.WantClosed(t, sink)
	wantCode(t, udp.do(stun.MethodRefresh), stun.CodeAllocMismatch)
	wantCode(t, bob.do(stun.MethodRefresh), 0)
	if st := se.srv.Stats(); st.AllocationsEnded[stats.EndRevoked] != 3 {
		t.Errorf("revoked ends %d, want 3", st.AllocationsEnded[stats.EndRevoked])
	}
}

// TestConnectionBindPastExpiry: an RFC 6062 allocation connects to a peer
// and binds the data connection with its credential after that expired.
func TestConnectionBindPastExpiry(t *testing.T) {
	se := newStreamEdge(t, nil)
	u, p := se.credential("alice", time.Minute)
	c := se.newStreamClient(u, p)
	c.allocateTCP()
	se.clk.Advance(2 * time.Minute)
	peer := turntest.NewTCPPeer(t, false)
	r := c.connect(peer.Addr())
	wantCode(t, r, 0)
	resp, _ := se.bind(connectionID(t, r), u, p)
	wantCode(t, resp, 0)
	other := se.newStreamClient(u, p)
	wantCode(t, other.do(stun.MethodAllocate, tcpTransport), stun.CodeUnauthorized)
}
