package server

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/msdialect"
)

// msFake is an [MS-TURN] allocation made on a socketFreeWorker through
// handleClient, as a client makes one: the 401 round trip, then the
// authenticated Allocate.
type msFake struct {
	*socketFreeWorker
	client netip.AddrPort // the MS-TURN client (f.client holds an RFC TURN allocation)
	s      *session
	relay  *fakeSocket
	realm  string
	nonce  string
	key    []byte
	seq    msturn.Sequence // MS-SEQUENCE-NUMBER of the Allocate's answer
}

// newMSFake makes an MS-TURN allocation for client on a fresh
// socketFreeWorker.
func newMSFake(tb testing.TB, client netip.AddrPort) *msFake {
	tb.Helper()
	return newMSFakeWith(tb, client, nil)
}

// newMSFakeWith is newMSFake with the worker's dialect handler set up by
// setup (nil: as it comes) before the allocation is made.
func newMSFakeWith(tb testing.TB, client netip.AddrPort, setup func(*msdialect.Handler)) *msFake {
	tb.Helper()
	f := &msFake{socketFreeWorker: newSocketFreeWorker(tb), client: client}
	f.w.env.msTurn = true // the fake's env is built field by field: the dialect is off in it
	if setup != nil {
		setup(f.w.ms)
	}
	r := f.handle(tb, msBuild(tb, msturn.AllocateRequest, newTxID(), msU32(msturn.AttrMSVersion, 1)))
	if r == nil || r.Type != msturn.AllocateError {
		tb.Fatal("no 401 to the first Allocate")
	}
	realm, _ := r.Get(msturn.AttrRealm)
	nonce, _ := r.Get(msturn.AttrNonce)
	f.realm, f.nonce = string(realm), string(nonce)
	f.key = msturn.Key(f.username, f.realm, f.password)
	r = f.handle(tb, f.allocateMsg(tb, newTxID()))
	if r == nil || r.Type != msturn.AllocateResponse {
		tb.Fatal("the authenticated Allocate failed")
	}
	var err error
	if f.seq, err = r.Sequence(); err != nil {
		tb.Fatalf("MS-SEQUENCE-NUMBER: %v", err)
	}
	if f.s = f.w.lookup(f.l, client); f.s == nil || f.s.ms == nil {
		tb.Fatal("no MS-TURN session after the Allocate")
	}
	f.relay = f.s.relays[famV4].sock.(*fakeSocket)
	return f
}

// allocateMsg is an authenticated Allocate of the fake's client.
func (f *msFake) allocateMsg(tb testing.TB, id msturn.TxID, extra ...msAttr) []byte {
	attrs := []msAttr{msU32(msturn.AttrMSVersion, 1), msStr(msturn.AttrRealm, f.realm),
		msStr(msturn.AttrNonce, f.nonce), msStr(msturn.AttrUsername, f.username)}
	return msBuild(tb, msturn.AllocateRequest, id, append(append(attrs, extra...), msSign(f.key))...)
}

// handle hands msg to handleClient from the fake's client and returns
// the answer written to the client, or nil.
func (f *msFake) handle(tb testing.TB, msg []byte) *msturn.Message {
	tb.Helper()
	before := f.lsock.writes
	buf, off, n := packetBuf(msg)
	f.w.handleClient(f.l, f.client, buf, off, n, 0)
	if f.lsock.writes == before {
		return nil
	}
	return msDecode(tb, append([]byte(nil), f.lsock.lastWrite()...))
}

// sendMsg is a Send of data to dest, numbered with seq when seq is
// valid (Number > 0).
func (f *msFake) sendMsg(tb testing.TB, dest netip.AddrPort, data []byte, seq msturn.Sequence) []byte {
	attrs := []msAttr{msStr(msturn.AttrUsername, f.username), msAddr(msturn.AttrDestinationAddress, dest)}
	if seq.Number > 0 {
		attrs = append(attrs, msSeq(seq))
	}
	attrs = append(attrs, msBytes(msturn.AttrData, data), msSign(f.key))
	return msBuild(tb, msturn.SendRequest, newTxID(), attrs...)
}

// sadMsg is a Set Active Destination to dest numbered seq.
func (f *msFake) sadMsg(tb testing.TB, dest netip.AddrPort, seq msturn.Sequence) []byte {
	return msBuild(tb, msturn.SetActiveDestination, newTxID(), msStr(msturn.AttrUsername, f.username), msSeq(seq),
		msAddr(msturn.AttrDestinationAddress, dest), msSign(f.key))
}

// TestMSFastPathDoesNotAllocate: what an MS-TURN session relays per packet
// costs no allocation: a peer's datagram to the client as a Data
// Indication or, from the active destination, raw; the client's raw
// datagrams (also those that look like RFC STUN or ChannelData) to the
// active destination; and an unnumbered Send request.
func TestMSFastPathDoesNotAllocate(t *testing.T) {
	f := newMSFake(t, netip.MustParseAddrPort("127.0.0.1:40010"))
	active, other := netip.MustParseAddrPort("127.0.0.1:50010"), netip.MustParseAddrPort("127.0.0.1:50011")
	seq := f.seq
	for _, dest := range []netip.AddrPort{active, other} {
		seq.Number++
		if f.handle(t, f.sendMsg(t, dest, []byte("check"), seq)) != nil {
			t.Fatal("a Send was answered")
		}
	}
	seq.Number++
	if r := f.handle(t, f.sadMsg(t, active, seq)); r == nil || r.Type != msturn.SetActiveDestResponse {
		t.Fatal("Set Active Destination failed")
	}

	fromPeer, poff, pn := packetBuf(make([]byte, audioPayload))
	rtp := make([]byte, audioPayload)
	rtp[0] = 0x80
	raw, roff, rn := packetBuf(rtp)
	ice := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint).Raw
	iceBuf, ioff, in := packetBuf(ice)
	cd, coff, cn := packetBuf(channelData(0x4000, make([]byte, audioPayload)))
	// A client that numbers nothing (once a client has numbered a
	// request, unnumbered ones are dropped): its own allocation.
	g := newMSFake(t, netip.MustParseAddrPort("127.0.0.1:40011"))
	sbuf, soff, sn := packetBuf(g.sendMsg(t, other, make([]byte, audioPayload), msturn.Sequence{}))
	const ef = 0xB8

	for _, tc := range []struct {
		name  string
		run   func()
		out   *fakeSocket
		to    netip.AddrPort
		check func(b []byte) bool
	}{
		{"peer to client as Data Indication", func() { f.w.handlePeer(f.s, other, fromPeer, poff, pn, ef) }, f.lsock, f.client,
			func(b []byte) bool {
				var m msturn.Message
				if m.Decode(b) != nil || m.Type != msturn.DataIndication {
					return false
				}
				d, _ := m.Get(msturn.AttrData)
				from, _ := m.Address(msturn.AttrRemoteAddress)
				return len(d) == audioPayload && from == other
			}},
		{"active destination to client raw", func() { f.w.handlePeer(f.s, active, fromPeer, poff, pn, ef) }, f.lsock, f.client,
			func(b []byte) bool { return len(b) == audioPayload }},
		{"client raw to the active destination", func() { f.w.handleClient(f.l, f.client, raw, roff, rn, ef) }, f.relay, active,
			func(b []byte) bool { return len(b) == audioPayload && b[0] == 0x80 }},
		{"client ICE check to the active destination", func() { f.w.handleClient(f.l, f.client, iceBuf, ioff, in, ef) }, f.relay, active,
			func(b []byte) bool { return string(b) == string(ice) }},
		{"client ChannelData-like data to the active destination", func() { f.w.handleClient(f.l, f.client, cd, coff, cn, ef) },
			f.relay, active, func(b []byte) bool { return len(b) == audioPayload+4 }},
		{"unnumbered Send to a peer", func() { g.w.handleClient(g.l, g.client, sbuf, soff, sn, ef) }, g.relay, other,
			func(b []byte) bool { return len(b) == audioPayload }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.out.writes
			tc.run()
			if tc.out.writes != before+1 || tc.out.to != tc.to || tc.out.tos != ef || !tc.check(tc.out.lastWrite()) {
				t.Fatalf("the packet was not relayed (%d writes, to %v, TOS %#x): % x", tc.out.writes-before, tc.out.to,
					tc.out.tos, tc.out.lastWrite())
			}
			before = tc.out.writes
			if allocs := testing.AllocsPerRun(1000, tc.run); allocs != 0 {
				t.Fatalf("%v allocations per packet, want 0", allocs)
			}
			if got := tc.out.writes - before; got != 1001 { // AllocsPerRun runs once more to warm up
				t.Fatalf("%d packets relayed while measuring, want 1001", got)
			}
		})
	}
}

func BenchmarkMSDataIndicationToClient(b *testing.B) {
	f := newMSFake(b, netip.MustParseAddrPort("127.0.0.1:40010"))
	other := netip.MustParseAddrPort("127.0.0.1:50011")
	if f.handle(b, f.sendMsg(b, other, []byte("check"), msturn.Sequence{})) != nil {
		b.Fatal("a Send was answered")
	}
	buf, off, n := packetBuf(make([]byte, audioPayload))
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handlePeer(f.s, other, buf, off, n, 0)
	}
}

// msActiveFake is newMSFake with active as the active destination.
func msActiveFake(b *testing.B, active netip.AddrPort) *msFake {
	f := newMSFake(b, netip.MustParseAddrPort("127.0.0.1:40010"))
	seq := f.seq
	seq.Number++
	if r := f.handle(b, f.sadMsg(b, active, seq)); r == nil || r.Type != msturn.SetActiveDestResponse {
		b.Fatal("Set Active Destination failed")
	}
	return f
}

func BenchmarkMSRawToPeer(b *testing.B) {
	f := msActiveFake(b, netip.MustParseAddrPort("127.0.0.1:50010"))
	rtp := make([]byte, audioPayload)
	rtp[0] = 0x80
	buf, off, n := packetBuf(rtp)
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handleClient(f.l, f.client, buf, off, n, 0)
	}
}

func BenchmarkMSRawToClient(b *testing.B) {
	active := netip.MustParseAddrPort("127.0.0.1:50010")
	f := msActiveFake(b, active)
	buf, off, n := packetBuf(make([]byte, audioPayload))
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handlePeer(f.s, active, buf, off, n, 0)
	}
}

// BenchmarkMSSendToPeer is a Send request with its HMAC-SHA1 check: what
// an MS client pays per packet before Set Active Destination.
func BenchmarkMSSendToPeer(b *testing.B) {
	f := newMSFake(b, netip.MustParseAddrPort("127.0.0.1:40010"))
	buf, off, n := packetBuf(f.sendMsg(b, netip.MustParseAddrPort("127.0.0.1:50011"), make([]byte, audioPayload), msturn.Sequence{}))
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handleClient(f.l, f.client, buf, off, n, 0)
	}
}
