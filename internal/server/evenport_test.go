package server

import (
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// reserveToken reads the RESERVATION-TOKEN of an Allocate success response.
func reserveToken(t *testing.T, r *stun.Message) stunproto.ReservationToken {
	t.Helper()
	var tok stunproto.ReservationToken
	if err := tok.GetFrom(r); err != nil {
		t.Fatalf("RESERVATION-TOKEN: %v", err)
	}
	return tok
}

// TestEvenPortReservation: EVEN-PORT with the R bit gives an even port and
// reserves the next one under a token; another client, on another 5-tuple
// and possibly another worker, gets exactly that port with the token, once
// (RFC 8656 §7.2).
func TestEvenPortReservation(t *testing.T) {
	requireIPv6(t)
	e := newTestEdge(t, withIPv6)
	for _, tc := range []struct {
		name  string
		attrs []stun.Setter
		from  string
	}{
		{"ipv4", nil, "127.0.0.1"},
		{"ipv6", []stun.Setter{stunproto.RequestedAddressFamily(stunproto.FamilyIPv6)}, "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, p := e.credential("rtp", time.Hour)
			rtp := e.newClient(u, p)
			relayed, r := rtp.allocateAll(append(tc.attrs, stunproto.EvenPort{ReservePort: true})...)
			if relayed[0].Port()%2 != 0 {
				t.Fatalf("EVEN-PORT R=1 gave odd port %v", relayed[0])
			}
			tok := reserveToken(t, r)

			u2, p2 := e.credential("rtcp", time.Hour)
			rtcp := e.newClientFrom(tc.from, u2, p2)
			got := rtcp.allocate(tok)
			if got.Addr() != relayed[0].Addr() || got.Port() != relayed[0].Port()+1 {
				t.Fatalf("token gave %v, want %v's next port", got, relayed[0])
			}
			// The reserved address is really bound now: the OS refuses it.
			if c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(got)); err == nil {
				c.Close()
				t.Fatalf("relayed address %v of the token is not bound", got)
			}
			// A token is good for one allocation.
			reuse := e.newClient(u2, p2)
			wantCode(t, reuse.do(stun.MethodAllocate, udpTransport, tok), stun.CodeInsufficientCapacity)
		})
	}
	if n := e.srv.env.reservations.Len(); n != 0 {
		t.Fatalf("%d reservations left after both were claimed", n)
	}
}

// TestReservationExpiry: an unclaimed reservation lasts 30 seconds; then
// its token gets 508 and the port returns to the pool.
func TestReservationExpiry(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.PortMax = o.PortMin + 1 }) // one even/odd pair
	u, p := e.credential("alice", time.Hour)
	_, r := e.newClient(u, p).allocateAll(stunproto.EvenPort{ReservePort: true})
	tok := reserveToken(t, r)
	// Both ports are held: the even one by the allocation, the odd one by
	// the reservation.
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport), stun.CodeInsufficientCapacity)

	e.clk.Advance(30 * time.Second)
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport, tok), stun.CodeInsufficientCapacity)
	got := e.newClient(u, p).allocate()
	if int(got.Port()) != e.opts.PortMin+1 {
		t.Fatalf("after the reservation expired, Allocate got %v, want port %d back from the pool", got, e.opts.PortMin+1)
	}
}

// TestReservationOutlivesItsAllocation: the reservation is server-wide and
// held for its 30 seconds even when the allocation that made it ends.
func TestReservationOutlivesItsAllocation(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed, r := c.allocateAll(stunproto.EvenPort{ReservePort: true})
	tok := reserveToken(t, r)
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	e.waitEnded()
	e.clk.Advance(29 * time.Second)
	if got := e.newClient(u, p).allocate(tok); got.Port() != relayed[0].Port()+1 {
		t.Fatalf("token gave %v, want port %d", got, relayed[0].Port()+1)
	}
}

// TestEvenPortWithoutPair: R=1 needs a free even/odd pair, else 508 (RFC
// 8656 §7.2 step 8); R=0 needs only an even port with a free successor.
func TestEvenPortWithoutPair(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.PortMin++; o.PortMax = o.PortMin + 1 }) // odd, even: no pair
	u, p := e.credential("alice", time.Hour)
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport, stunproto.EvenPort{ReservePort: true}), stun.CodeInsufficientCapacity)
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport, stunproto.EvenPort{}), stun.CodeInsufficientCapacity)
	// Nothing was taken by the refusals: both ports are still there.
	if a, b := e.newClient(u, p).allocate(), e.newClient(u, p).allocate(); a.Port() == b.Port() {
		t.Fatalf("two allocations on port %d", a.Port())
	}
	if got := e.srv.Stats().Allocations; got != 2 {
		t.Fatalf("allocations = %d, want 2", got)
	}
}

// TestAllocateRetransmissionKeepsToken: a retransmitted Allocate that is no
// longer in the response cache is answered from the allocation, with the
// same relayed address and RESERVATION-TOKEN.
func TestAllocateRetransmissionKeepsToken(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	wantCode(t, c.do(stun.MethodRefresh), stun.CodeAllocMismatch) // learns the nonce
	req := c.build(stun.MethodAllocate, udpTransport, stunproto.EvenPort{ReservePort: true})
	first := c.roundTrip(req)
	wantCode(t, first, 0)
	e.clk.Advance(answerCacheTTL + time.Second)
	second := c.roundTrip(req)
	wantCode(t, second, 0)
	var r1, r2 stunproto.XORRelayedAddress
	if r1.GetFrom(first) != nil || r2.GetFrom(second) != nil || r1 != r2 || reserveToken(t, first) != reserveToken(t, second) {
		t.Fatalf("retransmission answered %v/%x, first answer %v/%x", r2.Addr, reserveToken(t, second), r1.Addr, reserveToken(t, first))
	}
	if got := e.srv.Stats().Allocations; got != 1 {
		t.Fatalf("allocations = %d, want 1", got)
	}
}
