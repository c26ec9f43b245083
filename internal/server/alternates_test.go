package server

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// alternateOf returns the ALTERNATE-SERVER of a 300 answer.
func alternateOf(t *testing.T, r *stun.Message) netip.AddrPort {
	t.Helper()
	wantCode(t, r, stun.CodeTryAlternate)
	var alt stun.AlternateServer
	if err := alt.GetFrom(r); err != nil {
		t.Fatalf("ALTERNATE-SERVER: %v", err)
	}
	ip, _ := netip.AddrFromSlice(alt.IP)
	return netip.AddrPortFrom(ip.Unmap(), uint16(alt.Port))
}

// TestFullEdgeRedirects: an edge at allocations_total sends authenticated
// Allocates to the pool's IPv4 siblings in turn (signed 300 Try
// Alternate), counted as redirected; without siblings of the listener's
// family it answers 508. A drain without drain.alternate_servers uses the
// pool's siblings too.
func TestFullEdgeRedirects(t *testing.T) {
	s1, s2 := netip.MustParseAddrPort("198.51.100.11:3478"), netip.MustParseAddrPort("198.51.100.12:3478")
	e := newTestEdge(t, func(o *Options) {
		o.Workers = 1 // each worker takes the siblings in turn on its own
		o.AllocationsTotal = 1
		o.PoolAlternates = []netip.AddrPort{s1, netip.MustParseAddrPort("[2001:db8::11]:3478"), s2}
	})
	u, p := e.credential("alice", time.Hour)
	e.newClient(u, p).allocate()
	for _, want := range []netip.AddrPort{s1, s2, s1} {
		c := e.newClient(u, p)
		r := c.do(stun.MethodAllocate, udpTransport)
		if got := alternateOf(t, r); got != want {
			t.Fatalf("ALTERNATE-SERVER %v, want %v", got, want)
		}
		if !r.Contains(stun.AttrMessageIntegrity) {
			t.Fatal("300 not signed")
		}
	}
	st := e.srv.Stats()
	if got := st.Refused(RefusedRedirected); got != 3 {
		t.Errorf("redirected refusals = %d, want 3", got)
	}
	if got := st.Refused(RefusedAllocationsTotal); got != 0 {
		t.Errorf("allocations_total refusals = %d, want 0 (they were redirected)", got)
	}

	e.srv.Drain()
	if got := alternateOf(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport)); got != s2 {
		t.Fatalf("while draining: ALTERNATE-SERVER %v, want the pool's next sibling %v", got, s2)
	}
}

// TestFullEdgeWithoutSiblings: no sibling of the listener's family: 508.
func TestFullEdgeWithoutSiblings(t *testing.T) {
	e := newTestEdge(t, func(o *Options) {
		o.AllocationsTotal = 1
		o.PoolAlternates = []netip.AddrPort{netip.MustParseAddrPort("[2001:db8::11]:3478")}
	})
	u, p := e.credential("alice", time.Hour)
	e.newClient(u, p).allocate()
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport), stun.CodeInsufficientCapacity)
	if got := e.srv.Stats().Refused(RefusedAllocationsTotal); got != 1 {
		t.Errorf("allocations_total refusals = %d, want 1", got)
	}
}
