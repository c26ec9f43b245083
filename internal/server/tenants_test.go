package server

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/sessions"
	"github.com/avedge/avedge/internal/stunproto"
)

// defaultOwner is the quota owner of identity in the default tenant.
func defaultOwner(identity string) string { return quotaOwner(&auth.Result{Identity: identity}) }

// Tenants of tenantEdge: "b" bound to the listener on 127.0.0.2, "c"
// served on the shared listener to clients that name its realm.
const (
	realmB = "b.avedge.test"
	realmC = "c.avedge.test"
)

var (
	secretB = auth.Secret{ID: "kb", Value: []byte("tenant-b-secret-0123456789")}
	secretC = auth.Secret{ID: "kc", Value: []byte("tenant-c-secret-0123456789")}
)

// tenantEdge is a test edge with the tenants b and c beside the default
// one: b, of realm realmB, is bound to a second listener on 127.0.0.2 and
// allows one allocation per user and two in all; c, of realm realmC, two
// per user, each allocation capped at capRate; the default tenant twelve,
// uncapped.
type tenantEdge struct {
	*testEdge
	addrB netip.AddrPort // b's listener
}

// newTenantEdge is a test edge with tenants b (bound to its own listener)
// and c (capped), then mods applied to its options.
func newTenantEdge(t *testing.T, mods ...func(*Options)) *tenantEdge {
	t.Helper()
	requireBind(t, "udp4", net.ParseIP("127.0.0.2"))
	kb, err := auth.NewKeyring([]auth.Secret{secretB})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := auth.NewKeyring([]auth.Secret{secretC})
	if err != nil {
		t.Fatal(err)
	}
	listenerB := netip.MustParseAddrPort("127.0.0.2:0")
	e := newTestEdgeAuth(t, func(o *auth.Options) {
		o.Tenants = []auth.TenantOptions{
			{Name: "b", Realm: realmB, Keyring: kb, Bound: true},
			{Name: "c", Realm: realmC, Keyring: kc},
		}
	}, func(o *Options) {
		o.Listeners = append(o.Listeners, listenerB)
		o.Tenants = []Tenant{
			{Name: "b", UDPListeners: []netip.AddrPort{listenerB}, Quotas: Quotas{AllocationsPerUser: 1, AllocationsTotal: 2, PortsPerUser: 2}},
			{Name: "c", Quotas: Quotas{AllocationsPerUser: 2, PortsPerUser: 4}, BandwidthPerAllocation: mustBandwidth(t, capRate)},
		}
		for _, mod := range mods {
			mod(o)
		}
	})
	return &tenantEdge{testEdge: e, addrB: e.srv.Addrs()[1]}
}

// tenantClient returns a client of identity with a credential of secret,
// talking to the listener at server.
func (e *tenantEdge) tenantClient(secret auth.Secret, identity string, server netip.AddrPort) *client {
	e.t.Helper()
	u, p, err := auth.Issue(secret, identity, e.clk.Now().Add(time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	c := e.newClient(u, p)
	c.server = server
	return c
}

// challengeRealm sends c's unauthenticated Allocate and returns the REALM
// of the 401, keeping its realm and nonce for the next request.
func challengeRealm(t *testing.T, c *client) string {
	t.Helper()
	r := c.roundTrip(c.build(stun.MethodAllocate, udpTransport))
	wantCode(t, r, stun.CodeUnauthorized)
	var realm stun.Realm
	var nonce stun.Nonce
	if realm.GetFrom(r) != nil || nonce.GetFrom(r) != nil {
		t.Fatal("401 without REALM or NONCE")
	}
	c.realm, c.nonce = realm.String(), nonce.String()
	return c.realm
}

// TestTenantRealmByListener: a listener bound to a tenant challenges with
// its realm and takes its credentials only; the shared listener
// challenges with the default realm, and serves an unbound tenant to a
// client that names its realm.
func TestTenantRealmByListener(t *testing.T) {
	e := newTenantEdge(t)

	b := e.tenantClient(secretB, "alice", e.addrB)
	if got := challengeRealm(t, b); got != realmB {
		t.Fatalf("REALM on b's listener = %q, want %q", got, realmB)
	}
	wantCode(t, b.do(stun.MethodAllocate, udpTransport), 0)

	d := e.tenantClient(e.secret, "alice", e.addr)
	if got := challengeRealm(t, d); got != testRealm {
		t.Fatalf("REALM on the shared listener = %q, want %q", got, testRealm)
	}
	wantCode(t, d.do(stun.MethodAllocate, udpTransport), 0)

	// A client configured with c's realm names it after the first 401.
	c := e.tenantClient(secretC, "alice", e.addr)
	challengeRealm(t, c)
	c.realm = realmC
	wantCode(t, c.do(stun.MethodAllocate, udpTransport), 0)

	// b's secret does not authenticate in another realm, nor on the
	// shared listener in its own (b is bound); the default tenant's does
	// not on b's listener.
	for _, tc := range []struct {
		name   string
		secret auth.Secret
		server netip.AddrPort
		realm  string
	}{
		{"b's secret in c's realm", secretB, e.addr, realmC},
		{"b's secret in the default realm", secretB, e.addr, testRealm},
		{"b's realm on the shared listener", secretB, e.addr, realmB},
		{"default secret on b's listener", e.secret, e.addrB, testRealm},
		{"c's secret on b's listener", secretC, e.addrB, realmC},
	} {
		x := e.tenantClient(tc.secret, "mallory", tc.server)
		challengeRealm(t, x)
		x.realm = tc.realm
		r := x.roundTrip(x.build(stun.MethodAllocate, udpTransport))
		if got := errorCode(r); got != stun.CodeUnauthorized {
			t.Errorf("%s: error code %d, want 401", tc.name, got)
		}
	}
	if n := e.srv.Stats().Allocations; n != 3 {
		t.Errorf("%d allocations, want 3", n)
	}
}

// TestTenantQuotas: each tenant's users hit its own per-user quota, the
// tenant its own total, while the other tenants' users still allocate.
func TestTenantQuotas(t *testing.T) {
	e := newTenantEdge(t)
	allocate := func(secret auth.Secret, identity string, server netip.AddrPort, realm string) stun.ErrorCode {
		t.Helper()
		c := e.tenantClient(secret, identity, server)
		challengeRealm(t, c)
		c.realm = realm
		return errorCode(c.do(stun.MethodAllocate, udpTransport))
	}
	if got := allocate(secretB, "alice", e.addrB, realmB); got != 0 {
		t.Fatalf("b's alice: code %d", got)
	}
	if got := allocate(secretB, "alice", e.addrB, realmB); got != stun.CodeAllocQuotaReached {
		t.Errorf("b's alice, second allocation: code %d, want 486", got)
	}
	// alice of the other tenants is another user, under other quotas.
	for i := range 3 {
		if got := allocate(e.secret, "alice", e.addr, testRealm); got != 0 {
			t.Errorf("default alice, allocation %d: code %d", i+1, got)
		}
	}
	for i := range 2 {
		if got := allocate(secretC, "alice", e.addr, realmC); got != 0 {
			t.Errorf("c's alice, allocation %d: code %d", i+1, got)
		}
	}
	if got := allocate(secretC, "alice", e.addr, realmC); got != stun.CodeAllocQuotaReached {
		t.Errorf("c's alice, third allocation: code %d, want 486", got)
	}
	// b's total is two.
	if got := allocate(secretB, "bob", e.addrB, realmB); got != 0 {
		t.Errorf("b's bob: code %d", got)
	}
	if got := allocate(secretB, "carol", e.addrB, realmB); got != stun.CodeInsufficientCapacity {
		t.Errorf("b's carol beyond b's total: code %d, want 508", got)
	}
	if got := allocate(e.secret, "carol", e.addr, testRealm); got != 0 {
		t.Errorf("default carol while b is full: code %d", got)
	}
	st := e.srv.Stats()
	if n := st.Allocations; n != 8 {
		t.Errorf("%d allocations, want 8", n)
	}
	if n := st.Refused(stats.RefusedUserQuota); n != 2 {
		t.Errorf("%d refusals for the per-user quota, want 2", n)
	}
	udp4 := stats.KindOf(stats.DialectRFC, stats.TransportUDP, stats.RelayUDP, stats.FamilyIPv4)
	want := map[string]int64{auth.DefaultTenant: 4, "b": 2, "c": 2}
	if len(st.Tenants) != len(want) {
		t.Fatalf("stats of %d tenants, want %d", len(st.Tenants), len(want))
	}
	for _, ts := range st.Tenants {
		if got := ts.AllocationsByKind[udp4]; got != want[ts.Name] {
			t.Errorf("tenant %q: %d live allocations, want %d", ts.Name, got, want[ts.Name])
		}
		if got := ts.AllocationsCreated[udp4]; got != uint64(want[ts.Name]) {
			t.Errorf("tenant %q: %d allocations created, want %d", ts.Name, got, want[ts.Name])
		}
	}
}

// TestTenantRecords: records name the tenant of the allocation.
func TestTenantRecords(t *testing.T) {
	e := newTenantEdge(t)
	for _, tc := range []struct {
		secret auth.Secret
		server netip.AddrPort
		realm  string
		tenant string
	}{
		{secretB, e.addrB, realmB, "b"},
		{secretC, e.addr, realmC, "c"},
		{e.secret, e.addr, testRealm, auth.DefaultTenant},
	} {
		c := e.tenantClient(tc.secret, "alice", tc.server)
		challengeRealm(t, c)
		c.realm = tc.realm
		wantCode(t, c.do(stun.MethodAllocate, udpTransport), 0)
		wantCode(t, c.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
		if r := e.waitEnded(); r.Tenant != tc.tenant || r.Identity != "alice" {
			t.Errorf("record of %s: tenant %q, identity %q; want %q, alice", tc.realm, r.Tenant, r.Identity, tc.tenant)
		}
	}
	for _, ts := range e.srv.Stats().Tenants {
		if n := ts.AllocationsEnded[stats.EndRefreshZero]; n != 1 {
			t.Errorf("tenant %q: %d allocations ended by a refresh, want 1", ts.Name, n)
		}
	}
}

// TestTenantBandwidth: a tenant's bandwidth cap holds its allocations to
// the burst, while the default tenant's, uncapped, relay everything (a
// few packets more than the burst, few enough for the peer's socket
// buffer).
func TestTenantBandwidth(t *testing.T) {
	const sent = capBurst + 15
	e := newTenantEdge(t)
	for _, tc := range []struct {
		secret auth.Secret
		realm  string
		want   int
	}{
		{secretC, realmC, capBurst},
		{e.secret, testRealm, sent},
	} {
		c := e.tenantClient(tc.secret, "alice", e.addr)
		challengeRealm(t, c)
		c.realm = tc.realm
		wantCode(t, c.do(stun.MethodAllocate, udpTransport), 0)
		p := newPeer(t, "127.0.0.1")
		c.bound(p)
		c.sendChannel(sent)
		if got := p.count(); got != tc.want {
			t.Errorf("realm %s: the peer got %d packets, want %d", tc.realm, got, tc.want)
		}
	}
	if n := e.srv.Stats().Dropped(stats.DropBandwidth); n != sent-capBurst {
		t.Errorf("%d bandwidth drops, want %d", n, sent-capBurst)
	}
}

// TestTenantMSTURN: an [MS-TURN] client on a listener bound to a tenant
// is challenged with the tenant's realm and allocates with its
// credential.
func TestTenantMSTURN(t *testing.T) {
	e := newTenantEdge(t)
	u, p, err := auth.Issue(secretB, "alice", e.clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c := e.newMSClient(u, p)
	c.server = e.addrB
	c.allocate()
	if c.realm != realmB {
		t.Errorf("[MS-TURN] REALM on b's listener = %q, want %q", c.realm, realmB)
	}
	ms := stats.KindOf(stats.DialectMSTURN, stats.TransportUDP, stats.RelayUDP, stats.FamilyIPv4)
	if ts := e.srv.Stats().Tenants[1]; ts.Name != "b" || ts.AllocationsByKind[ms] != 1 {
		t.Errorf("tenant %q: %d live [MS-TURN] allocations, want b and 1", ts.Name, ts.AllocationsByKind[ms])
	}
}

// TestEndTenantIdentity: ending an identity of one tenant leaves the same
// identity of the other tenants alone; EndIdentity ends it in all.
func TestEndTenantIdentity(t *testing.T) {
	e := newTenantEdge(t)
	for _, tc := range []struct {
		secret auth.Secret
		realm  string
	}{{secretC, realmC}, {e.secret, testRealm}} {
		c := e.tenantClient(tc.secret, "alice", e.addr)
		challengeRealm(t, c)
		c.realm = tc.realm
		wantCode(t, c.do(stun.MethodAllocate, udpTransport), 0)
	}
	ctx := t.Context()
	list, err := e.srv.Sessions(ctx, sessions.Filter{Identity: "alice"})
	if err != nil || len(list) != 2 || list[0].Tenant == list[1].Tenant ||
		!slices.ContainsFunc(list, func(s sessions.Session) bool { return s.Tenant == "c" }) ||
		!slices.ContainsFunc(list, func(s sessions.Session) bool { return s.Tenant == auth.DefaultTenant }) {
		t.Fatalf("sessions of alice: %+v, %v; want one of c and one of the default tenant", list, err)
	}
	if n, err := e.srv.EndTenantIdentity(ctx, "c", "alice", stats.EndRevoked); n != 1 || err != nil {
		t.Fatalf("EndTenantIdentity(c, alice) = %d, %v; want 1", n, err)
	}
	if r := e.waitEnded(); r.Tenant != "c" || r.Reason != stats.EndRevoked.String() {
		t.Errorf("record of tenant %q, reason %q; want c, revoked", r.Tenant, r.Reason)
	}
	if _, err := e.srv.EndTenantIdentity(ctx, "nobody", "alice", stats.EndRevoked); !errors.Is(err, ErrUnknownTenant) {
		t.Errorf("unknown tenant: err %v, want ErrUnknownTenant", err)
	}
	if n, err := e.srv.EndIdentity(ctx, "alice", stats.EndRevoked); n != 1 || err != nil {
		t.Errorf("EndIdentity(alice) = %d, %v; want the default tenant's 1", n, err)
	}
}

// TestTenantOptions: New refuses tenants that Auth lacks and tenant
// listeners that are no listener's or bound twice.
func TestTenantOptions(t *testing.T) {
	kb, err := auth.NewKeyring([]auth.Secret{secretB})
	if err != nil {
		t.Fatal(err)
	}
	withB := func(o *auth.Options) { o.Tenants = []auth.TenantOptions{{Name: "b", Realm: realmB, Keyring: kb}} }
	other := netip.MustParseAddrPort("127.0.0.3:3478")
	for _, tc := range []struct {
		name    string
		tenants []Tenant
		streams []StreamListener
		want    error
	}{
		{"unknown tenant", []Tenant{{Name: "x"}}, nil, ErrUnknownTenant},
		{"the default tenant", []Tenant{{Name: auth.DefaultTenant}}, nil, ErrUnknownTenant},
		{"no such listener", []Tenant{{Name: "b", UDPListeners: []netip.AddrPort{other}}}, nil, ErrTenantListener},
		{"bound twice", []Tenant{{Name: "b", UDPListeners: []netip.AddrPort{other}}, {Name: "b", UDPListeners: []netip.AddrPort{other}}}, nil, ErrTenantListener},
		{"unknown stream tenant", nil, []StreamListener{{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Plain: true, Tenant: "x"}}, ErrUnknownTenant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStoppedEdgeAuth(t, withB, nil)
			opts := e.opts
			opts.Tenants, opts.StreamListeners = tc.tenants, tc.streams
			if s, err := New(opts); !errors.Is(err, tc.want) {
				if s != nil {
					s.Close()
				}
				t.Errorf("New: err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestTenantPeers: a tenant's peer additions apply to its allocations
// only and outlast a reload of the edge's policy: b's allow list opens a
// range the edge's policy refuses, b's deny list closes one it allows,
// and the default tenant keeps the edge's policy.
func TestTenantPeers(t *testing.T) {
	requireBind(t, "udp4", net.ParseIP("127.0.0.2"))
	kb, err := auth.NewKeyring([]auth.Secret{secretB})
	if err != nil {
		t.Fatal(err)
	}
	listenerB := netip.MustParseAddrPort("127.0.0.2:0")
	opened, closed := netip.MustParseAddrPort("127.0.0.4:5000"), netip.MustParseAddrPort("127.0.0.3:5000")
	// The edge relays to 127.0.0.0/30 only (127.0.0.4 is default-denied
	// loopback).
	base := policy.NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/30")}, nil, true)
	e := newTestEdgeAuth(t, func(o *auth.Options) {
		o.Tenants = []auth.TenantOptions{{Name: "b", Realm: realmB, Keyring: kb, Bound: true}}
	}, func(o *Options) {
		o.Policy = base
		o.Listeners = append(o.Listeners, listenerB)
		o.Tenants = []Tenant{{Name: "b", UDPListeners: []netip.AddrPort{listenerB},
			PeerAllow: []netip.Prefix{netip.PrefixFrom(opened.Addr(), 32)},
			PeerDeny:  []netip.Prefix{netip.PrefixFrom(closed.Addr(), 32)}}}
	})
	te := &tenantEdge{testEdge: e, addrB: e.srv.Addrs()[1]}
	def := te.tenantClient(e.secret, "alice", e.addr)
	def.allocate()
	b := te.tenantClient(secretB, "bob", te.addrB)
	b.realm = realmB
	b.allocate()
	check := func(when string) {
		t.Helper()
		for _, tc := range []struct {
			c    *client
			who  string
			peer netip.AddrPort
			want stun.ErrorCode
		}{
			{def, "default", opened, stun.CodeForbidden},
			{def, "default", closed, 0},
			{b, "b", opened, 0},
			{b, "b", closed, stun.CodeForbidden},
		} {
			r := tc.c.do(stun.MethodCreatePermission, peerAttr(tc.peer))
			if code := errorCode(r); code != tc.want {
				t.Errorf("%s: tenant %s's CreatePermission for %v: %d, want %d", when, tc.who, tc.peer, code, tc.want)
			}
		}
	}
	check("at start")
	// A reload of the edge's policy (a new one, the same ranges): b's
	// additions still apply to b only.
	if err := e.srv.SetPolicy(policy.NewPeerPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/30")}, nil, true)); err != nil {
		t.Fatal(err)
	}
	check("after a reload")
}
