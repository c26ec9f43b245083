package server

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
)

// deniedPeer is a peer address loopbackPolicy denies.
var deniedPeer = netip.MustParseAddrPort("192.0.2.1:5000")

// wantPeerGot reads one datagram at p and checks it is data from from.
func wantPeerGot(t *testing.T, p *peer, data []byte, from netip.AddrPort) {
	t.Helper()
	got, src := p.read()
	if !bytes.Equal(got, data) || src != from {
		t.Fatalf("peer %v got %q from %v, want %q from %v", p.addr(), got, src, data, from)
	}
}

// TestMSSend: a Send request is never answered; its DATA reaches the peer
// from the relayed address, which the peer's answer comes back to as a Data
// Indication. A peer on another port of the same IP that the client never
// sent to is not relayed: the dialect's permissions are transport
// addresses.
func TestMSSend(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.allocate()
	p1, p2 := newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.1")

	c.send(p1.addr(), []byte("hello"))
	wantPeerGot(t, p1, []byte("hello"), c.relayed)
	// The Send was handled (the peer has its data): the next thing the
	// client gets must be the barrier's answer, not an answer to the Send.
	c.barrier()

	p1.sendTo([]byte("pong"), c.relayed)
	_, b := c.next()
	wantDataIndication(t, b, p1.addr(), []byte("pong"))

	drops := e.dropsDelta(func() {
		// Both reach the same relay socket in this order: once p1's
		// arrives, p2's has been handled.
		p2.sendTo([]byte("intruder"), c.relayed)
		p1.sendTo([]byte("friend"), c.relayed)
		_, b = c.next()
	})
	wantDataIndication(t, b, p1.addr(), []byte("friend"))
	if len(drops) != 1 || drops[stats.DropNoPermission] != 1 {
		t.Fatalf("drops %v, want one no_permission", drops)
	}

	// Once the client has numbered a request, an unnumbered one (which
	// could be replayed at will) is dropped.
	drops = e.dropsDelta(func() {
		c.writeMsg(c.build(msturn.SendRequest, newTxID(), msStr(msturn.AttrUsername, c.user),
			msAddr(msturn.AttrDestinationAddress, p1.addr()), msBytes(msturn.AttrData, []byte("unnumbered")), msSign(c.key())))
		c.barrier()
	})
	if len(drops) != 1 || drops[stats.DropBadSequence] != 1 {
		t.Fatalf("drops %v, want one bad_sequence", drops)
	}
	if st := e.srv.Stats(); st.ToPeerPackets != 1 || st.ToClientPackets != 2 {
		t.Fatalf("relayed %d packets to peers and %d to the client, want 1 and 2", st.ToPeerPackets, st.ToClientPackets)
	}
}

// TestMSSendUnnumbered: a client of the dialect's first version, which
// numbers nothing, relays with unnumbered Send requests.
func TestMSSendUnnumbered(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.allocate()
	p1 := newPeer(t, "127.0.0.1")
	for _, data := range []string{"one", "two"} {
		c.writeMsg(c.build(msturn.SendRequest, newTxID(), msStr(msturn.AttrUsername, c.user),
			msAddr(msturn.AttrDestinationAddress, p1.addr()), msBytes(msturn.AttrData, []byte(data)), msSign(c.key())))
		wantPeerGot(t, p1, []byte(data), c.relayed)
	}
}

// TestMSSendDropped: a Send that fails its checks is dropped unanswered and
// counted (or refused, for a peer the policy denies), and relays nothing;
// the next good Send goes through.
func TestMSSendDropped(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.allocate()
	p := newPeer(t, "127.0.0.1")
	c.send(p.addr(), []byte("first"))
	wantPeerGot(t, p, []byte("first"), c.relayed)
	for _, tc := range []struct {
		name string
		msg  func() []byte
		drop stats.DropReason
	}{
		{"bad integrity", func() []byte {
			pass := c.pass
			c.pass = "wrong"
			defer func() { c.pass = pass }()
			return c.sendMsg(p.addr(), []byte("x"), c.nextSeq())
		}, stats.DropBadIntegrity},
		{"no integrity", func() []byte {
			return c.build(msturn.SendRequest, newTxID(), msStr(msturn.AttrUsername, c.user), msAddr(msturn.AttrDestinationAddress, p.addr()),
				msSeq(c.nextSeq()), msBytes(msturn.AttrData, []byte("x")))
		}, stats.DropBadIntegrity},
		{"another USERNAME", func() []byte {
			return c.build(msturn.SendRequest, newTxID(), msStr(msturn.AttrUsername, "mallory"), msAddr(msturn.AttrDestinationAddress, p.addr()),
				msSeq(c.nextSeq()), msBytes(msturn.AttrData, []byte("x")), msSign(c.key()))
		}, stats.DropBadIntegrity},
		{"another connection ID", func() []byte {
			s := c.seq
			s.ConnID[0] ^= 0xFF
			s.Number++
			return c.sendMsg(p.addr(), []byte("x"), s)
		}, stats.DropBadSequence},
		{"older number", func() []byte {
			s := c.seq
			s.Number--
			return c.sendMsg(p.addr(), []byte("x"), s)
		}, stats.DropBadSequence},
		{"repeated number", func() []byte { return c.sendMsg(p.addr(), []byte("x"), c.seq) }, stats.DropBadSequence},
		{"missing DATA", func() []byte {
			return c.build(msturn.SendRequest, newTxID(), msStr(msturn.AttrUsername, c.user), msAddr(msturn.AttrDestinationAddress, p.addr()),
				msSeq(c.nextSeq()), msSign(c.key()))
		}, stats.DropBadIndication},
		{"missing DESTINATION-ADDRESS", func() []byte {
			return c.build(msturn.SendRequest, newTxID(), msStr(msturn.AttrUsername, c.user), msSeq(c.nextSeq()),
				msBytes(msturn.AttrData, []byte("x")), msSign(c.key()))
		}, stats.DropBadIndication},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drops := e.dropsDelta(func() {
				c.writeMsg(tc.msg())
				c.send(p.addr(), []byte("after "+tc.name))
				// The dropped Send relayed nothing: the peer's next
				// datagram is the good one's.
				wantPeerGot(t, p, []byte("after "+tc.name), c.relayed)
			})
			if len(drops) != 1 || drops[tc.drop] != 1 {
				t.Fatalf("drops %v, want one %v", drops, tc.drop)
			}
		})
	}
	before := e.srv.Stats()
	c.send(deniedPeer, []byte("denied"))
	c.send(p.addr(), []byte("allowed"))
	wantPeerGot(t, p, []byte("allowed"), c.relayed)
	c.barrier() // and nothing answered the Sends
	after := e.srv.Stats()
	if n := after.Refused(stats.RefusedPeerDenied) - before.Refused(stats.RefusedPeerDenied); n != 1 {
		t.Fatalf("peer_denied refusals: %d, want 1", n)
	}
	if n := after.ToPeerPackets - before.ToPeerPackets; n != 1 {
		t.Fatalf("%d packets relayed, want only the allowed one", n)
	}
}

// TestMSSendWithoutAllocation: a Send from a 5-tuple without an
// allocation is dropped unanswered.
func TestMSSendWithoutAllocation(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.challenge()
	drops := e.dropsDelta(func() {
		c.send(netip.MustParseAddrPort("127.0.0.1:9"), []byte("x"))
		c.barrier()
	})
	if len(drops) != 1 || drops[stats.DropNoAllocation] != 1 {
		t.Fatalf("drops %v, want one no_allocation", drops)
	}
}

// TestMSSetActiveDestination: Set Active Destination is answered 0x0106
// (MAGIC-COOKIE, MS-SEQUENCE-NUMBER, MESSAGE-INTEGRITY), a retransmission
// with the same bytes; afterwards the client's datagrams that are not
// messages of the dialect, whatever they look like, reach the active
// destination unchanged, and its datagrams reach the client raw, while
// the other peers' still come as Data Indications. A refused one (a
// denied peer: 0x0116 403) leaves the active destination as it was; a
// new one moves it.
func TestMSSetActiveDestination(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.allocate()
	p1, p2 := newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.2")
	c.send(p1.addr(), []byte("check 1"))
	wantPeerGot(t, p1, []byte("check 1"), c.relayed)
	c.send(p2.addr(), []byte("check 2"))
	wantPeerGot(t, p2, []byte("check 2"), c.relayed)

	req := c.sadMsg(p1.addr(), c.nextSeq())
	r := c.roundTrip(req)
	c.wantSuccess(r, msturn.SetActiveDestResponse)
	wantAttrs(t, r, msturn.AttrMagicCookie, msturn.AttrMSSequenceNumber, msturn.AttrMessageIntegrity)
	if got, _ := r.Sequence(); got != c.seq {
		t.Fatalf("MS-SEQUENCE-NUMBER %x/%d, want the request's %x/%d", got.ConnID, got.Number, c.seq.ConnID, c.seq.Number)
	}
	c.writeMsg(req)
	if _, again := c.next(); !bytes.Equal(again, r.Raw) {
		t.Fatalf("retransmitted Set Active Destination answered\n% x\nwant\n% x", again, r.Raw)
	}

	binding := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint).Raw
	sendInd := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(p2.addr()), stun.Fingerprint).Raw
	for _, raw := range [][]byte{
		[]byte("\x80\x00RTP-ish media"),
		binding,                             // an ICE check: RFC STUN with cookie 0x2112A442
		sendInd,                             // an RFC Send indication: not for the server now
		channelData(0x4000, []byte("abcd")), // valid ChannelData
		{0x40, 0x01, 0xFF, 0xFF, 'x'},       // broken ChannelData
		// An Allocate of the dialect whose first attribute holds
		// another cookie, and a STUN header with a wrong length.
		append(append([]byte{0x00, 0x03, 0x00, 0x08}, make([]byte, 16)...), 0x00, 0x0f, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x42),
		append([]byte{0x00, 0x01, 0x00, 0x08}, make([]byte, 28)...),
	} {
		c.writeRaw(raw)
		wantPeerGot(t, p1, raw, c.relayed)
	}
	p1.sendTo([]byte("raw back"), c.relayed)
	if _, b := c.next(); string(b) != "raw back" {
		t.Fatalf("client got % x from the active destination, want the raw datagram", b)
	}
	p2.sendTo([]byte("from p2"), c.relayed)
	_, b := c.next()
	wantDataIndication(t, b, p2.addr(), []byte("from p2"))

	before := e.srv.Stats().Refused(stats.RefusedPeerDenied)
	r = c.sad(deniedPeer)
	msWantError(t, r, msturn.SetActiveDestError, 403)
	c.wantSigned(r)
	if n := e.srv.Stats().Refused(stats.RefusedPeerDenied) - before; n != 1 {
		t.Fatalf("peer_denied refusals: %d, want 1", n)
	}
	c.writeRaw([]byte("still p1"))
	wantPeerGot(t, p1, []byte("still p1"), c.relayed)

	c.wantSuccess(c.sad(p2.addr()), msturn.SetActiveDestResponse)
	c.writeRaw([]byte("now p2"))
	wantPeerGot(t, p2, []byte("now p2"), c.relayed)
	p1.sendTo([]byte("p1 again"), c.relayed)
	_, b = c.next()
	wantDataIndication(t, b, p1.addr(), []byte("p1 again"))
}

// TestMSRawBeforeSetActiveDestination: without an active destination, a
// client's raw datagram goes nowhere and is counted.
func TestMSRawBeforeSetActiveDestination(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.allocate()
	p := newPeer(t, "127.0.0.1")
	c.send(p.addr(), []byte("check"))
	wantPeerGot(t, p, []byte("check"), c.relayed)
	drops := e.dropsDelta(func() {
		c.writeRaw(channelData(0x4000, []byte("abcd")))
		c.send(p.addr(), []byte("next"))
		wantPeerGot(t, p, []byte("next"), c.relayed)
	})
	if len(drops) != 1 || drops[stats.DropNoPermission] != 1 {
		t.Fatalf("drops %v, want one no_permission", drops)
	}
}

// TestMSSetActiveDestinationSequence: a Set Active Destination is a
// retransmission when it repeats the last one's sequence number and
// transaction ID, and then gets the same answer, a refusal too; the last
// number in another transaction, or an older one, is dropped unanswered
// and counted.
func TestMSSetActiveDestinationSequence(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.allocate()
	p := newPeer(t, "127.0.0.1")

	refused := c.sadMsg(deniedPeer, c.nextSeq())
	r := c.roundTrip(refused)
	msWantError(t, r, msturn.SetActiveDestError, 403)
	c.writeMsg(refused)
	if _, again := c.next(); !bytes.Equal(again, r.Raw) {
		t.Fatalf("retransmitted refused Set Active Destination answered\n% x\nwant\n% x", again, r.Raw)
	}

	req := c.sadMsg(p.addr(), c.nextSeq())
	r = c.roundTrip(req)
	c.wantSuccess(r, msturn.SetActiveDestResponse)
	last := c.seq
	older := last
	older.Number--
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"last number, another transaction", c.sadMsg(p.addr(), last)},
		{"older number", c.sadMsg(p.addr(), older)},
	} {
		drops := e.dropsDelta(func() {
			c.writeMsg(tc.msg)
			c.barrier()
		})
		if len(drops) != 1 || drops[stats.DropBadSequence] != 1 {
			t.Fatalf("%s: drops %v, want one bad_sequence", tc.name, drops)
		}
	}
	c.writeMsg(req)
	if _, again := c.next(); !bytes.Equal(again, r.Raw) {
		t.Fatalf("retransmitted Set Active Destination answered\n% x\nwant\n% x", again, r.Raw)
	}
}
