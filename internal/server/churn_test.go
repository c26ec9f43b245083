package server

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// BenchmarkAllocateCycle is the control path that `avedge bench churn`
// loads: an Allocate answered with 401, the authenticated Allocate, and a
// Refresh with lifetime 0, each from a new client address. The client's
// own message building is outside the timer.
func BenchmarkAllocateCycle(b *testing.B) {
	f := newSocketFreeWorker(b)
	transport := stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP}
	type packet struct {
		buf    []byte
		off, n int
	}
	build := func(setters ...stun.Setter) packet {
		m := stun.MustBuild(append(setters, stun.Fingerprint)...)
		buf, off, n := packetBuf(m.Raw)
		return packet{buf, off, n}
	}
	deliver := func(client netip.AddrPort, p packet) *stun.Message {
		f.w.handleClient(f.l, client, p.buf, p.off, p.n, 0)
		m := &stun.Message{Raw: append([]byte(nil), f.lsock.lastWrite()...)}
		if err := m.Decode(); err != nil {
			b.Fatal(err)
		}
		return m
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		client := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(1024+i%60000))
		first := build(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), transport)
		b.StartTimer()
		r := deliver(client, first)
		b.StopTimer()
		var nonce stun.Nonce
		if err := nonce.GetFrom(r); err != nil {
			b.Fatalf("no NONCE in %v", r)
		}
		auth := []stun.Setter{stun.NewUsername(f.username), stun.NewRealm(testRealm), nonce,
			stun.NewLongTermIntegrity(f.username, testRealm, f.password)}
		alloc := build(append([]stun.Setter{stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), transport}, auth...)...)
		b.StartTimer()
		if r := deliver(client, alloc); r.Type.Class != stun.ClassSuccessResponse {
			b.Fatalf("allocate: %v", r)
		}
		b.StopTimer()
		refresh := build(append([]stun.Setter{stun.TransactionID, stun.NewType(stun.MethodRefresh, stun.ClassRequest), stunproto.Lifetime{}}, auth...)...)
		b.StartTimer()
		if r := deliver(client, refresh); r.Type.Class != stun.ClassSuccessResponse {
			b.Fatalf("refresh: %v", r)
		}
	}
}
