package server

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/stunproto"
)

const audioPayload = 172 // bytes of a 20 ms Opus frame in RTP, roughly

// packetBuf returns a buffer laid out as the data path delivers it: the
// datagram at datapath.Headroom with tailroom after it.
func packetBuf(datagram []byte) ([]byte, int, int) {
	buf := make([]byte, datapath.Headroom+len(datagram)+datapath.Tailroom)
	copy(buf[datapath.Headroom:], datagram)
	return buf, datapath.Headroom, len(datagram)
}

func TestFastPathDoesNotAllocate(t *testing.T) {
	f := newSocketFreeWorker(t)
	relay := f.s.relays[famV4].sock.(*fakeSocket)
	other := netip.MustParseAddrPort("127.0.0.1:50002")
	if err := f.s.alloc.AddPermission(other.Addr(), f.clk.Now()); err != nil {
		t.Fatal(err)
	}
	cd, off, n := packetBuf(channelData(0x4000, make([]byte, audioPayload)))
	fromPeer, poff, pn := packetBuf(make([]byte, audioPayload))
	send := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(f.peer), stunproto.Data(make([]byte, audioPayload)))
	sbuf, soff, sn := packetBuf(send.Raw)
	sendDF := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(f.peer), stunproto.Data(make([]byte, audioPayload)), stunproto.DontFragment{})
	dfbuf, dfoff, dfn := packetBuf(sendDF.Raw)
	const ef = 0xB8 // DSCP EF, carried over in every case

	for _, tc := range []struct {
		name  string
		run   func()
		out   *fakeSocket
		to    netip.AddrPort
		check func(b []byte) bool
	}{
		{"ChannelData client to peer", func() { f.w.handleClient(f.l, f.client, cd, off, n, ef) }, relay, f.peer,
			func(b []byte) bool { return len(b) == audioPayload }},
		{"peer to client as ChannelData", func() { f.w.handlePeer(f.s, f.peer, fromPeer, poff, pn, ef) }, f.lsock, f.client,
			func(b []byte) bool { return len(b) == audioPayload+4 && b[0] == 0x40 && b[1] == 0x00 }},
		{"peer to client as Data indication", func() { f.w.handlePeer(f.s, other, fromPeer, poff, pn, ef) }, f.lsock, f.client,
			func(b []byte) bool { return stunproto.Classify(b) == stunproto.KindSTUN && len(b) > audioPayload+20 }},
		{"Send indication client to peer", func() { f.w.handleClient(f.l, f.client, sbuf, soff, sn, ef) }, relay, f.peer,
			func(b []byte) bool { return len(b) == audioPayload }},
		{"Send indication with DONT-FRAGMENT", func() { f.w.handleClient(f.l, f.client, dfbuf, dfoff, dfn, ef) }, relay, f.peer,
			func(b []byte) bool { return len(b) == audioPayload && relay.df }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.out.writes
			tc.run()
			if tc.out.writes != before+1 || tc.out.to != tc.to || tc.out.tos != ef || !tc.check(tc.out.lastWrite()) {
				t.Fatalf("the packet was not forwarded (%d writes, to %v, TOS %#x)", tc.out.writes-before, tc.out.to, tc.out.tos)
			}
			before = tc.out.writes
			if allocs := testing.AllocsPerRun(1000, tc.run); allocs != 0 {
				t.Fatalf("%v allocations per packet, want 0", allocs)
			}
			if got := tc.out.writes - before; got != 1001 { // AllocsPerRun runs once more to warm up
				t.Fatalf("%d packets forwarded while measuring, want 1001", got)
			}
		})
	}
	if relay.dfCalls != 1 {
		t.Fatalf("DF switched %d times, want once for the first Send with DONT-FRAGMENT", relay.dfCalls)
	}
}

func BenchmarkChannelDataToPeer(b *testing.B) {
	f := newSocketFreeWorker(b)
	buf, off, n := packetBuf(channelData(0x4000, make([]byte, audioPayload)))
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handleClient(f.l, f.client, buf, off, n, 0)
	}
}

func BenchmarkChannelDataToClient(b *testing.B) {
	f := newSocketFreeWorker(b)
	buf, off, n := packetBuf(make([]byte, audioPayload))
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handlePeer(f.s, f.peer, buf, off, n, 0)
	}
}

func BenchmarkSendIndicationToPeer(b *testing.B) {
	f := newSocketFreeWorker(b)
	send := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(f.peer), stunproto.Data(make([]byte, audioPayload)))
	buf, off, n := packetBuf(send.Raw)
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handleClient(f.l, f.client, buf, off, n, 0)
	}
}

func BenchmarkDataIndicationToClient(b *testing.B) {
	f := newSocketFreeWorker(b)
	other := netip.MustParseAddrPort("127.0.0.1:50002")
	if err := f.s.alloc.AddPermission(other.Addr(), f.clk.Now()); err != nil {
		b.Fatal(err)
	}
	buf, off, n := packetBuf(make([]byte, audioPayload))
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handlePeer(f.s, other, buf, off, n, 0)
	}
}
