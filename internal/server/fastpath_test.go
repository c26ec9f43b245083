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
	relay := f.s.relay.(*fakeSocket)
	other := netip.MustParseAddrPort("127.0.0.1:50002")
	if err := f.s.alloc.AddPermission(other.Addr(), f.clk.Now()); err != nil {
		t.Fatal(err)
	}
	cd, off, n := packetBuf(channelData(0x4000, make([]byte, audioPayload)))
	fromPeer, poff, pn := packetBuf(make([]byte, audioPayload))
	send := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(f.peer), stunproto.Data(make([]byte, audioPayload)))
	sbuf, soff, sn := packetBuf(send.Raw)

	for _, tc := range []struct {
		name  string
		run   func()
		check func() bool
	}{
		{"ChannelData client to peer", func() { f.w.handleClient(f.l, f.client, cd, off, n) },
			func() bool { return relay.to == f.peer && relay.n == audioPayload }},
		{"peer to client as ChannelData", func() { f.w.handlePeer(f.s, f.peer, fromPeer, poff, pn) },
			func() bool { return f.lsock.to == f.client && f.lsock.n == audioPayload+4 }},
		{"peer to client as Data indication", func() { f.w.handlePeer(f.s, other, fromPeer, poff, pn) },
			func() bool { return f.lsock.to == f.client && f.lsock.n > audioPayload+20 }},
		{"Send indication client to peer", func() { f.w.handleClient(f.l, f.client, sbuf, soff, sn) },
			func() bool { return relay.to == f.peer && relay.n == audioPayload }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.run()
			if !tc.check() {
				t.Fatal("the packet was not forwarded")
			}
			if allocs := testing.AllocsPerRun(1000, tc.run); allocs != 0 {
				t.Fatalf("%v allocations per packet, want 0", allocs)
			}
		})
	}
}

func BenchmarkChannelDataToPeer(b *testing.B) {
	f := newSocketFreeWorker(b)
	buf, off, n := packetBuf(channelData(0x4000, make([]byte, audioPayload)))
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handleClient(f.l, f.client, buf, off, n)
	}
}

func BenchmarkChannelDataToClient(b *testing.B) {
	f := newSocketFreeWorker(b)
	buf, off, n := packetBuf(make([]byte, audioPayload))
	b.ReportAllocs()
	b.SetBytes(audioPayload)
	for b.Loop() {
		f.w.handlePeer(f.s, f.peer, buf, off, n)
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
		f.w.handleClient(f.l, f.client, buf, off, n)
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
		f.w.handlePeer(f.s, other, buf, off, n)
	}
}
