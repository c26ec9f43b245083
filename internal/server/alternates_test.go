package server

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
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
// Alternate), counted as redirected and as allocations_total; without siblings of the listener's
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
	if got := st.Refused(stats.RefusedRedirected); got != 3 {
		t.Errorf("redirected refusals = %d, want 3", got)
	}
	if got := st.Refused(stats.RefusedAllocationsTotal); got != 3 {
		t.Errorf("allocations_total refusals = %d, want 3 (the cause of the redirects)", got)
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
	if got := e.srv.Stats().Refused(stats.RefusedAllocationsTotal); got != 1 {
		t.Errorf("allocations_total refusals = %d, want 1", got)
	}
}

// TestRedirectOverTCPAndTLS: a client over TCP or TLS is sent to the
// sibling's address with the port of the listener it reached, where the
// sibling's TCP/TLS listener is (the configured port is the UDP one).
func TestRedirectOverTCPAndTLS(t *testing.T) {
	sibling := netip.MustParseAddrPort("198.51.100.11:3478")
	se := newStreamEdge(t, func(o *Options) {
		o.AllocationsTotal = 1
		o.PoolAlternates = []netip.AddrPort{sibling}
	})
	u, p := se.credential("alice", time.Hour)
	se.newClient(u, p).allocate()
	want := netip.AddrPortFrom(sibling.Addr(), se.tcp.Port())
	for _, useTLS := range []bool{false, true} {
		c := se.newStreamClientOver(useTLS, u, p)
		if got := alternateOf(t, c.do(stun.MethodAllocate, udpTransport)); got != want {
			t.Errorf("TLS %v: ALTERNATE-SERVER %v, want %v", useTLS, got, want)
		}
	}
}

// TestExpiredReservationFreesPortQuota: a user at quotas.ports_per_user
// whose reservation has expired, but not yet been reaped by the tick, can
// allocate: the Allocate hands expired reservations back before it checks
// the quota.
func TestExpiredReservationFreesPortQuota(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.PortsPerUser = 2 })
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	c.allocateAll(stunproto.EvenPort{ReservePort: true}) // 2 ports: the allocation and its reservation
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	e.waitEnded()
	e.clk.Advance(allocation.ReservationHold)
	e.newClient(u, p).allocateAll(stunproto.EvenPort{ReservePort: true})
	if got := e.srv.env.quota.Ports(defaultOwner("alice")); got != 2 {
		t.Fatalf("alice holds %d ports, want 2", got)
	}
}

// TestFrontListener: a front listener answers Binding, challenges an
// unauthenticated Allocate with 401 and sends an authenticated one on to
// the listener it names (signed 300 Try Alternate, counted as redirected);
// it creates no allocation.
func TestFrontListener(t *testing.T) {
	own := netip.MustParseAddrPort("127.0.0.1:3478")
	e := newTestEdge(t, func(o *Options) {
		o.FrontListeners = []FrontListener{{Addr: netip.MustParseAddrPort("127.0.0.1:0"), RedirectTo: own}}
	})
	addrs := e.srv.Addrs()
	front := addrs[len(addrs)-1]
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	c.server = front
	if r := c.roundTrip(stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)); r.Type != stun.BindingSuccess {
		t.Fatalf("Binding at the front listener: %v", r.Type)
	}
	wantCode(t, c.roundTrip(c.build(stun.MethodAllocate, udpTransport)), stun.CodeUnauthorized)
	r := c.do(stun.MethodAllocate, udpTransport)
	if got := alternateOf(t, r); got != own {
		t.Fatalf("ALTERNATE-SERVER %v, want %v", got, own)
	}
	if !r.Contains(stun.AttrMessageIntegrity) {
		t.Fatal("300 not signed")
	}
	st := e.srv.Stats()
	if st.Allocations != 0 || st.Refused(stats.RefusedRedirected) != 1 {
		t.Fatalf("%d allocations and %d redirects, want 0 and 1", st.Allocations, st.Refused(stats.RefusedRedirected))
	}
}
