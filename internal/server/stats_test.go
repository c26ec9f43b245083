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

// TestAllocationKinds: allocations are counted live and created by client
// transport, relayed transport and family, and ended by reason; a dual
// allocation that drops a family moves to the other one.
func TestAllocationKinds(t *testing.T) {
	requireIPv6(t)
	se := newStreamEdge(t, withIPv6)
	u, p := se.credential("alice", time.Hour)
	var (
		udp4   = stats.KindOf(stats.DialectRFC, stats.TransportUDP, stats.RelayUDP, stats.FamilyIPv4)
		udp6   = stats.KindOf(stats.DialectRFC, stats.TransportUDP, stats.RelayUDP, stats.FamilyIPv6)
		dual   = stats.KindOf(stats.DialectRFC, stats.TransportUDP, stats.RelayUDP, stats.FamilyDual)
		tcp4   = stats.KindOf(stats.DialectRFC, stats.TransportTCP, stats.RelayTCP, stats.FamilyIPv4)
		tlsUDP = stats.KindOf(stats.DialectRFC, stats.TransportTLS, stats.RelayUDP, stats.FamilyIPv4)
	)
	want := func(live, created map[stats.AllocationKind]int64) {
		t.Helper()
		st := se.srv.Stats()
		for k := range stats.AllocationKind(stats.NumAllocationKinds) {
			if st.AllocationsByKind[k] != live[k] || int64(st.AllocationsCreated[k]) != created[k] {
				t.Errorf("%s/%s/%s: %d live, %d created; want %d, %d", k.Transport(), k.Relay(), k.Family(),
					st.AllocationsByKind[k], st.AllocationsCreated[k], live[k], created[k])
			}
		}
	}

	c4 := se.newClient(u, p)
	c4.allocate()
	c6 := se.newClient(u, p)
	c6.allocate(askIPv6)
	cd := se.newClient(u, p)
	cd.allocateAll(alsoIPv6)
	ct := se.newStreamClient(u, p)
	ct.allocateTCP()
	cs := se.newStreamClientOver(true, u, p)
	wantCode(t, cs.do(stun.MethodAllocate, udpTransport), 0)
	want(map[stats.AllocationKind]int64{udp4: 1, udp6: 1, dual: 1, tcp4: 1, tlsUDP: 1},
		map[stats.AllocationKind]int64{udp4: 1, udp6: 1, dual: 1, tcp4: 1, tlsUDP: 1})
	if n := se.srv.Stats().Allocations; n != 5 {
		t.Fatalf("%d allocations, want 5", n)
	}
	ports := func(want int) {
		t.Helper()
		if got := se.srv.env.quota.Ports(defaultOwner("alice")); got != want {
			t.Fatalf("alice holds %d ports, want %d", got, want)
		}
	}
	ports(6) // the dual allocation holds two

	// The dual one gives up IPv6: it is an IPv4 one now.
	wantCode(t, cd.do(stun.MethodRefresh, askIPv6, stunproto.Lifetime{}), 0)
	want(map[stats.AllocationKind]int64{udp4: 2, udp6: 1, tcp4: 1, tlsUDP: 1},
		map[stats.AllocationKind]int64{udp4: 1, udp6: 1, dual: 1, tcp4: 1, tlsUDP: 1})
	ports(5)

	wantCode(t, c4.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	se.waitEnded()
	ct.conn.Close()
	se.waitEnded()
	se.clk.Advance(time.Hour)
	for range 3 {
		se.waitEnded()
	}
	want(nil, map[stats.AllocationKind]int64{udp4: 1, udp6: 1, dual: 1, tcp4: 1, tlsUDP: 1})
	ports(0)
	st := se.srv.Stats()
	for r, n := range map[stats.EndReason]uint64{stats.EndRefreshZero: 1, stats.EndConnectionClosed: 1, stats.EndExpired: 3, stats.EndShutdown: 0} {
		if got := st.Ended(r); got != n {
			t.Errorf("ended %q: %d, want %d", r, got, n)
		}
	}
}

// authDelta returns how the authentication results changed while fn ran.
func (e *testEdge) authDelta(fn func()) map[stats.AuthResult]uint64 {
	return statsDelta(e, stats.NumAuthResults, stats.Stats.Authenticated, fn)
}

// dropsDelta returns how the drop counters changed while fn ran.
func (e *testEdge) dropsDelta(fn func()) map[stats.DropReason]uint64 {
	return statsDelta(e, stats.NumDropReasons, stats.Stats.Dropped, fn)
}

// statsDelta returns how the counters count(stats, k), for k below n,
// changed while fn ran; the unchanged ones are left out.
func statsDelta[K ~int | ~uint8](e *testEdge, n K, count func(stats.Stats, K) uint64, fn func()) map[K]uint64 {
	before := e.srv.Stats()
	fn()
	after := e.srv.Stats()
	d := map[K]uint64{}
	for k := K(0); k < n; k++ {
		if v := count(after, k) - count(before, k); v != 0 {
			d[k] = v
		}
	}
	return d
}

// TestAuthResults: each outcome of authentication is counted under its
// result.
func TestAuthResults(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(e *testEdge)
		want map[stats.AuthResult]uint64
	}{
		{"challenge", func(e *testEdge) {
			u, p := e.credential("alice", time.Hour)
			c := e.newClient(u, p)
			wantCode(t, c.roundTrip(c.build(stun.MethodAllocate, udpTransport)), stun.CodeUnauthorized)
		}, map[stats.AuthResult]uint64{stats.AuthChallenge: 1}},
		{"ok", func(e *testEdge) {
			u, p := e.credential("alice", time.Hour)
			e.newClient(u, p).allocate()
		}, map[stats.AuthResult]uint64{stats.AuthChallenge: 1, stats.AuthOK: 1}},
		{"bad integrity", func(e *testEdge) {
			u, _ := e.credential("alice", time.Hour)
			wantCode(t, e.newClient(u, "wrong").do(stun.MethodAllocate, udpTransport), stun.CodeUnauthorized)
		}, map[stats.AuthResult]uint64{stats.AuthChallenge: 1, stats.AuthBadIntegrity: 1}},
		{"unknown user", func(e *testEdge) {
			wantCode(t, e.newClient("nobody", "x").do(stun.MethodAllocate, udpTransport), stun.CodeUnauthorized)
		}, map[stats.AuthResult]uint64{stats.AuthChallenge: 1, stats.AuthUnknownUser: 1}},
		{"another realm", func(e *testEdge) {
			u, p := e.credential("alice", time.Hour)
			c := e.newClient(u, p)
			wantCode(t, c.do(stun.MethodRefresh), stun.CodeAllocMismatch)
			c.realm = "elsewhere.test"
			wantCode(t, c.roundTrip(c.build(stun.MethodAllocate, udpTransport)), stun.CodeUnauthorized)
		}, map[stats.AuthResult]uint64{stats.AuthChallenge: 1, stats.AuthOK: 1, stats.AuthUnknownUser: 1}},
		{"expired credential", func(e *testEdge) {
			u, p := e.credential("alice", -time.Second)
			wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport), stun.CodeUnauthorized)
		}, map[stats.AuthResult]uint64{stats.AuthChallenge: 1, stats.AuthExpiredCredential: 1}},
		{"expiry too far ahead", func(e *testEdge) {
			u, p := e.credential("alice", 9*time.Hour)
			wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport), stun.CodeUnauthorized)
		}, map[stats.AuthResult]uint64{stats.AuthChallenge: 1, stats.AuthExpiryTooFarAhead: 1}},
		{"stale nonce", func(e *testEdge) {
			u, p := e.credential("alice", 8*time.Hour)
			c := e.newClient(u, p)
			wantCode(t, c.do(stun.MethodRefresh), stun.CodeAllocMismatch)
			e.clk.Advance(11 * time.Minute)
			wantCode(t, c.roundTrip(c.build(stun.MethodRefresh)), stun.CodeStaleNonce)
		}, map[stats.AuthResult]uint64{stats.AuthChallenge: 1, stats.AuthOK: 1, stats.AuthStaleNonce: 1}},
		{"replayed nonce", func(e *testEdge) {
			u, p := e.credential("alice", time.Hour)
			victim := e.newClient(u, p)
			wantCode(t, victim.do(stun.MethodRefresh), stun.CodeAllocMismatch)
			wantCode(t, e.newClient("", "").roundTrip(victim.build(stun.MethodAllocate, udpTransport)), stun.CodeStaleNonce)
		}, map[stats.AuthResult]uint64{stats.AuthChallenge: 1, stats.AuthOK: 1, stats.AuthBadNonce: 1}},
		{"bad request", func(e *testEdge) {
			u, p := e.credential("alice", time.Hour)
			c := e.newClient(u, p)
			m, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), udpTransport,
				stun.NewUsername(u), stun.NewRealm(testRealm), stun.NewShortTermIntegrity(p), stun.Fingerprint)
			if err != nil {
				t.Fatal(err)
			}
			wantCode(t, c.roundTrip(m), stun.CodeBadRequest)
		}, map[stats.AuthResult]uint64{stats.AuthBadRequest: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEdge(t, nil)
			got := e.authDelta(func() { tc.run(e) })
			if len(got) != len(tc.want) {
				t.Fatalf("results %v, want %v", got, tc.want)
			}
			for r, n := range tc.want {
				if got[r] != n {
					t.Fatalf("results %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestRefusals: each policy or resource refusal gets its answer and is
// counted under its cause, and only there.
func TestRefusals(t *testing.T) {
	other := netip.MustParseAddrPort("192.0.2.1:5000") // denied by loopbackPolicy
	for _, tc := range []struct {
		name  string
		mod   func(*Options)
		run   func(e *testEdge) *stun.Message
		cause stats.RefusalCause
		code  stun.ErrorCode
	}{
		{"peer denied", nil, func(e *testEdge) *stun.Message {
			c := e.alice()
			c.allocate()
			return c.do(stun.MethodCreatePermission, peerAttr(other))
		}, stats.RefusedPeerDenied, stun.CodeForbidden},
		{"user quota", func(o *Options) { o.AllocationsPerUser = 1 }, func(e *testEdge) *stun.Message {
			e.alice().allocate()
			return e.alice().do(stun.MethodAllocate, udpTransport)
		}, stats.RefusedUserQuota, stun.CodeAllocQuotaReached},
		{"ports per user", func(o *Options) { o.PortsPerUser = 1 }, func(e *testEdge) *stun.Message {
			return e.alice().do(stun.MethodAllocate, udpTransport, stunproto.EvenPort{ReservePort: true})
		}, stats.RefusedPortsPerUser, stun.CodeAllocQuotaReached},
		{"allocations total", func(o *Options) { o.AllocationsTotal = 1 }, func(e *testEdge) *stun.Message {
			e.alice().allocate()
			u, p := e.credential("bob", time.Hour)
			return e.newClient(u, p).do(stun.MethodAllocate, udpTransport)
		}, stats.RefusedAllocationsTotal, stun.CodeInsufficientCapacity},
		{"no relay port", func(o *Options) { o.PortMax = o.PortMin }, func(e *testEdge) *stun.Message {
			e.alice().allocate()
			return e.alice().do(stun.MethodAllocate, udpTransport)
		}, stats.RefusedNoRelayPort, stun.CodeInsufficientCapacity},
		{"reservation", nil, func(e *testEdge) *stun.Message {
			return e.alice().do(stun.MethodAllocate, udpTransport, stunproto.ReservationToken{1, 2, 3})
		}, stats.RefusedReservation, stun.CodeInsufficientCapacity},
		{"permissions limit", func(o *Options) { o.Allocation.MaxPermissions = 1 }, func(e *testEdge) *stun.Message {
			c := e.alice()
			c.allocate()
			return c.do(stun.MethodCreatePermission, peerAttr(netip.MustParseAddrPort("127.0.0.2:1")),
				peerAttr(netip.MustParseAddrPort("127.0.0.3:1")))
		}, stats.RefusedPermissionsLimit, stun.CodeInsufficientCapacity},
		{"channels limit", func(o *Options) { o.Allocation.MaxChannels = 1 }, func(e *testEdge) *stun.Message {
			c := e.alice()
			c.allocate()
			wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(netip.MustParseAddrPort("127.0.0.2:1"))), 0)
			return c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4001), peerAttr(netip.MustParseAddrPort("127.0.0.3:1")))
		}, stats.RefusedChannelsLimit, stun.CodeInsufficientCapacity},
		{"draining", nil, func(e *testEdge) *stun.Message {
			e.alice().allocate()
			e.srv.Drain()
			return e.alice().do(stun.MethodAllocate, udpTransport)
		}, stats.RefusedDraining, stun.CodeInsufficientCapacity},
		{"redirected", func(o *Options) { o.AlternateServers = []netip.AddrPort{netip.MustParseAddrPort("198.51.100.8:3478")} },
			func(e *testEdge) *stun.Message {
				e.alice().allocate()
				e.srv.Drain()
				return e.alice().do(stun.MethodAllocate, udpTransport)
			}, stats.RefusedRedirected, stun.CodeTryAlternate},
	} {
		// A redirect also counts under the cause that sent the client on.
		also := map[stats.RefusalCause]stats.RefusalCause{stats.RefusedRedirected: stats.RefusedDraining}
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEdge(t, tc.mod)
			wantCode(t, tc.run(e), tc.code)
			st := e.srv.Stats()
			for c := range stats.RefusalCause(stats.NumRefusalCauses) {
				want := uint64(0)
				if a, ok := also[tc.cause]; c == tc.cause || (ok && c == a) {
					want = 1
				}
				if got := st.Refused(c); got != want {
					t.Errorf("refusals %q = %d, want %d", c, got, want)
				}
			}
		})
	}
}

// alice returns a new client with a credential of identity alice.
func (e *testEdge) alice() *client {
	e.t.Helper()
	u, p := e.credential("alice", time.Hour)
	return e.newClient(u, p)
}

// TestPortsPerUser: a user's relay ports are counted exactly: one per
// relayed address, one more while its reservation is held; a reservation
// claimed by its own user at the limit is allowed and moves its port to
// the new allocation; one claimed by another user moves it to that user;
// one that expires gives it back; a refused Allocate counts nothing; and
// everything returns to 0.
func TestPortsPerUser(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.PortsPerUser = 3 })
	ports := func(user string, want int) {
		t.Helper()
		if got := e.srv.env.quota.Ports(defaultOwner(user)); got != want {
			t.Fatalf("%s holds %d ports, want %d", user, got, want)
		}
	}
	u, p := e.credential("alice", time.Hour)
	ub, pb := e.credential("bob", time.Hour)

	// An RTP/RTCP pair: 2 ports, one of them reserved.
	rtp := e.newClient(u, p)
	_, r := rtp.allocateAll(stunproto.EvenPort{ReservePort: true})
	tok := reserveToken(t, r)
	ports("alice", 2)
	plain := e.newClient(u, p)
	plain.allocate()
	ports("alice", 3)
	// At the limit: a new port is refused and nothing is counted...
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport), stun.CodeAllocQuotaReached)
	ports("alice", 3)
	// ...but claiming its own reservation takes no new port.
	rtcp := e.newClient(u, p)
	rtcp.allocate(tok)
	ports("alice", 3)
	if n := e.srv.Stats().Refused(stats.RefusedPortsPerUser); n != 1 {
		t.Fatalf("ports_per_user refusals = %d, want 1", n)
	}
	for _, c := range []*client{rtp, plain, rtcp} {
		wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
		e.waitEnded()
	}
	ports("alice", 0)

	// Bob claims Alice's reservation: the port becomes his.
	_, r = e.newClient(u, p).allocateAll(stunproto.EvenPort{ReservePort: true})
	tok = reserveToken(t, r)
	ports("alice", 2)
	bob := e.newClient(ub, pb)
	bob.allocate(tok)
	ports("alice", 1)
	ports("bob", 1)
	wantCode(t, bob.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	e.waitEnded()
	ports("bob", 0)

	// A reservation that expires gives its port back, also after its
	// allocation ended.
	c := e.newClient(u, p)
	_, r = c.allocateAll(stunproto.EvenPort{ReservePort: true})
	tok = reserveToken(t, r)
	ports("alice", 3)
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	e.waitEnded()
	ports("alice", 2) // the earlier allocation (1) and the reservation (1)
	e.clk.Advance(allocation.ReservationHold)
	// An Allocate hands expired reservations back first; the stale token
	// is refused and counts nothing.
	wantCode(t, e.newClient(ub, pb).do(stun.MethodAllocate, udpTransport, tok), stun.CodeInsufficientCapacity)
	ports("alice", 1)
	ports("bob", 0)
	e.clk.Advance(time.Hour) // the last allocation expires
	e.waitEnded()
	ports("alice", 0)
	if st := e.srv.Stats().Ports; st.InUse != 0 || st.Reserved != 0 {
		t.Fatalf("port pools %+v, want none in use or reserved", st)
	}
}

// TestPortStats: the port gauges follow allocations and reservations.
func TestPortStats(t *testing.T) {
	e := newTestEdge(t, nil)
	want := func(inUse, reserved uint64) {
		t.Helper()
		st := e.srv.Stats().Ports
		if st.InUse != inUse || st.Reserved != reserved || st.Quarantined != 0 || st.Capacity != testPortSpan {
			t.Fatalf("ports %+v, want %d in use, %d reserved, capacity %d", st, inUse, reserved, testPortSpan)
		}
	}
	want(0, 0)
	c := e.alice()
	c.allocateAll(stunproto.EvenPort{ReservePort: true})
	want(1, 1)
	e.alice().allocate()
	want(2, 1)
	wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	e.waitEnded()
	want(1, 1)
}
