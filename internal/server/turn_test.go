package server

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

var udpTransport = stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP}

// allocate creates an allocation for c and returns its relayed address.
func (c *client) allocate(attrs ...stun.Setter) netip.AddrPort {
	c.t.Helper()
	relayed, _ := c.allocateAll(attrs...)
	if len(relayed) != 1 {
		c.t.Fatalf("%d relayed addresses, want 1", len(relayed))
	}
	return relayed[0]
}

// allocateAll creates an allocation for c and returns every relayed address
// of the success response, with the response.
func (c *client) allocateAll(attrs ...stun.Setter) ([]netip.AddrPort, *stun.Message) {
	c.t.Helper()
	r := c.do(stun.MethodAllocate, append([]stun.Setter{udpTransport}, attrs...)...)
	wantCode(c.t, r, 0)
	var relayed []netip.AddrPort
	for _, a := range r.Attributes {
		if a.Type != stun.AttrXORRelayedAddress {
			continue
		}
		// One attribute at a time: GetFrom reads the first of a type.
		one := &stun.Message{TransactionID: r.TransactionID}
		one.Add(a.Type, a.Value)
		var x stunproto.XORRelayedAddress
		if err := x.GetFrom(one); err != nil {
			c.t.Fatalf("XOR-RELAYED-ADDRESS: %v", err)
		}
		relayed = append(relayed, x.Addr)
	}
	if len(relayed) == 0 {
		c.t.Fatal("no XOR-RELAYED-ADDRESS")
	}
	return relayed, r
}

func TestBinding(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newClient("", "")
	m := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	r := c.roundTrip(m)
	wantCode(t, r, 0)
	var mapped stunproto.XORMappedAddress
	if err := mapped.GetFrom(r); err != nil {
		t.Fatal(err)
	}
	if mapped.Addr != c.addr() {
		t.Fatalf("XOR-MAPPED-ADDRESS %v, want %v", mapped.Addr, c.addr())
	}
	if err := stun.Fingerprint.Check(r); err != nil {
		t.Fatalf("FINGERPRINT: %v", err)
	}
	if r.Contains(stun.AttrSoftware) {
		t.Fatal("Binding response carries SOFTWARE: answers to unauthenticated requests should stay small")
	}
}

func TestBindingUnknownComprehensionRequired(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newClient("", "")
	m := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.RawAttribute{Type: 0x7777, Value: []byte{1, 2, 3, 4}},
		stun.RawAttribute{Type: 0xC001, Value: []byte{1}}) // 0xC001 is comprehension-optional: ignored
	r := c.roundTrip(m)
	wantCode(t, r, stun.CodeUnknownAttribute)
	var ua stun.UnknownAttributes
	if err := ua.GetFrom(r); err != nil {
		t.Fatal(err)
	}
	if len(ua) != 1 || ua[0] != 0x7777 {
		t.Fatalf("UNKNOWN-ATTRIBUTES %v, want [0x7777]", ua)
	}
}

func TestAllocateChallenge(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	r := c.roundTrip(c.build(stun.MethodAllocate, udpTransport))
	wantCode(t, r, stun.CodeUnauthorized)
	var realm stun.Realm
	var nonce stun.Nonce
	if err := realm.GetFrom(r); err != nil || realm.String() != testRealm {
		t.Fatalf("REALM %q, %v", realm, err)
	}
	if err := nonce.GetFrom(r); err != nil || !bytes.HasPrefix(nonce, []byte("obMatJos2")) {
		t.Fatalf("NONCE %q, %v: want the RFC 8489 nonce cookie", nonce, err)
	}
	var algs stunproto.PasswordAlgorithms
	if err := algs.GetFrom(r); err != nil || len(algs) != 2 {
		t.Fatalf("PASSWORD-ALGORITHMS %v, %v", algs, err)
	}
	if r.Contains(stun.AttrMessageIntegrity) {
		t.Fatal("401 to an unauthenticated request carries MESSAGE-INTEGRITY")
	}
	if r.Contains(stun.AttrSoftware) {
		t.Fatal("401 carries SOFTWARE: answers to unauthenticated requests should stay small")
	}
	if got := e.srv.Stats().Allocations; got != 0 {
		t.Fatalf("allocations = %d after a 401", got)
	}
}

func TestAllocateWrongPassword(t *testing.T) {
	e := newTestEdge(t, nil)
	u, _ := e.credential("alice", time.Hour)
	c := e.newClient(u, "not-the-password")
	r := c.do(stun.MethodAllocate, udpTransport)
	wantCode(t, r, stun.CodeUnauthorized)
	if got := e.srv.Stats().Allocations; got != 0 {
		t.Fatalf("allocations = %d after a wrong HMAC", got)
	}
}

func TestAllocateCredentialLifetimes(t *testing.T) {
	e := newTestEdge(t, nil)
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want stun.ErrorCode
	}{
		{"valid", time.Hour, 0},
		{"expired", -time.Second, stun.CodeUnauthorized},
		{"too far ahead", 9 * time.Hour, stun.CodeUnauthorized},
		{"at the maximum", 8 * time.Hour, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, p := e.credential("alice-"+tc.name, tc.ttl)
			c := e.newClient(u, p)
			wantCode(t, c.do(stun.MethodAllocate, udpTransport), tc.want)
		})
	}
}

func TestAllocateStaticUser(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newClient("static", "static-password")
	c.allocate()
}

func TestAllocateResponse(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	r := c.do(stun.MethodAllocate, udpTransport)
	wantCode(t, r, 0)
	var relayed stunproto.XORRelayedAddress
	var mapped stunproto.XORMappedAddress
	var lifetime stunproto.Lifetime
	if err := relayed.GetFrom(r); err != nil {
		t.Fatal(err)
	}
	if err := mapped.GetFrom(r); err != nil || mapped.Addr != c.addr() {
		t.Fatalf("XOR-MAPPED-ADDRESS %v (%v), want %v", mapped.Addr, err, c.addr())
	}
	if err := lifetime.GetFrom(r); err != nil || lifetime.Duration != 600*time.Second {
		t.Fatalf("LIFETIME %v (%v), want 600s", lifetime.Duration, err)
	}
	if relayed.Addr.Addr() != e.opts.RelayAddr || int(relayed.Addr.Port()) < e.opts.PortMin || int(relayed.Addr.Port()) > e.opts.PortMax {
		t.Fatalf("relayed %v outside %v:%d-%d", relayed.Addr, e.opts.RelayAddr, e.opts.PortMin, e.opts.PortMax)
	}
	if err := stun.NewLongTermIntegrity(u, testRealm, p).Check(r); err != nil {
		t.Fatalf("response MESSAGE-INTEGRITY: %v", err)
	}
	if err := stun.Fingerprint.Check(r); err != nil {
		t.Fatalf("response FINGERPRINT: %v", err)
	}
	// A second Allocate on the same 5-tuple is a 437.
	wantCode(t, c.do(stun.MethodAllocate, udpTransport), stun.CodeAllocMismatch)
}

func TestAllocateLifetimeBounds(t *testing.T) {
	e := newTestEdge(t, nil)
	for _, tc := range []struct {
		req, want time.Duration
	}{
		{10 * time.Second, 600 * time.Second},
		{1200 * time.Second, 1200 * time.Second},
		{99999 * time.Second, 3600 * time.Second},
	} {
		u, p := e.credential("alice", time.Hour)
		c := e.newClient(u, p)
		r := c.do(stun.MethodAllocate, udpTransport, stunproto.Lifetime{Duration: tc.req})
		wantCode(t, r, 0)
		var lifetime stunproto.Lifetime
		if err := lifetime.GetFrom(r); err != nil || lifetime.Duration != tc.want {
			t.Errorf("requested %v: granted %v (%v), want %v", tc.req, lifetime.Duration, err, tc.want)
		}
	}
}

func TestAllocateRejections(t *testing.T) {
	e := newTestEdge(t, nil)
	for _, tc := range []struct {
		name  string
		attrs []stun.Setter
		want  stun.ErrorCode
	}{
		{"no REQUESTED-TRANSPORT", nil, stun.CodeBadRequest},
		// RFC 6062 §5.1: TCP over a UDP control transport is a 400; a
		// protocol neither UDP nor TCP a 442.
		{"TCP transport over UDP", []stun.Setter{stunproto.RequestedTransport{Protocol: stunproto.ProtoTCP}}, stun.CodeBadRequest},
		{"SCTP transport", []stun.Setter{stunproto.RequestedTransport{Protocol: 132}}, stun.CodeUnsupportedTransProto},
		{"IPv6 family not offered", []stun.Setter{udpTransport, stunproto.RequestedAddressFamily(stunproto.FamilyIPv6)}, stun.CodeAddrFamilyNotSupported},
		{"unknown family", []stun.Setter{udpTransport, stunproto.RequestedAddressFamily(3)}, stun.CodeAddrFamilyNotSupported},
		{"malformed family", []stun.Setter{udpTransport, stun.RawAttribute{Type: stun.AttrRequestedAddressFamily, Value: []byte{1}}}, stun.CodeBadRequest},
		{"both family attributes", []stun.Setter{udpTransport, stunproto.RequestedAddressFamily(stunproto.FamilyIPv4), stunproto.AdditionalAddressFamily(stunproto.FamilyIPv6)}, stun.CodeBadRequest},
		{"additional family IPv4", []stun.Setter{udpTransport, stunproto.AdditionalAddressFamily(stunproto.FamilyIPv4)}, stun.CodeBadRequest},
		{"additional family unknown", []stun.Setter{udpTransport, stunproto.AdditionalAddressFamily(3)}, stun.CodeBadRequest},
		{"EVEN-PORT R with additional family", []stun.Setter{udpTransport, stunproto.EvenPort{ReservePort: true}, stunproto.AdditionalAddressFamily(stunproto.FamilyIPv6)}, stun.CodeBadRequest},
		{"malformed EVEN-PORT", []stun.Setter{udpTransport, stun.RawAttribute{Type: stun.AttrEvenPort, Value: []byte{0x80, 0}}}, stun.CodeBadRequest},
		{"malformed DONT-FRAGMENT", []stun.Setter{udpTransport, stun.RawAttribute{Type: stun.AttrDontFragment, Value: []byte{1}}}, stun.CodeBadRequest},
		{"unknown reservation token", []stun.Setter{udpTransport, stunproto.ReservationToken{1, 2, 3, 4, 5, 6, 7, 8}}, stun.CodeInsufficientCapacity},
		{"malformed reservation token", []stun.Setter{udpTransport, stun.RawAttribute{Type: stun.AttrReservationToken, Value: []byte{1, 2, 3, 4}}}, stun.CodeBadRequest},
		{"token with EVEN-PORT", []stun.Setter{udpTransport, stunproto.ReservationToken{1}, stunproto.EvenPort{}}, stun.CodeBadRequest},
		{"token with requested family", []stun.Setter{udpTransport, stunproto.ReservationToken{1}, stunproto.RequestedAddressFamily(stunproto.FamilyIPv4)}, stun.CodeBadRequest},
		{"token with additional family", []stun.Setter{udpTransport, stunproto.ReservationToken{1}, stunproto.AdditionalAddressFamily(stunproto.FamilyIPv6)}, stun.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, p := e.credential("alice", time.Hour)
			c := e.newClient(u, p)
			wantCode(t, c.do(stun.MethodAllocate, tc.attrs...), tc.want)
		})
	}
	if got := e.srv.Stats().Allocations; got != 0 {
		t.Fatalf("allocations = %d after rejections", got)
	}
}

func TestAllocateEvenPort(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	relayed := e.newClient(u, p).allocate(stunproto.EvenPort{})
	if relayed.Port()%2 != 0 {
		t.Fatalf("EVEN-PORT allocation got odd port %d", relayed.Port())
	}
}

func TestAllocateRetransmission(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	wantCode(t, c.do(stun.MethodRefresh), stun.CodeAllocMismatch) // learns the nonce; no allocation yet
	req := c.build(stun.MethodAllocate, udpTransport)
	first := c.roundTrip(req)
	wantCode(t, first, 0)
	second := c.roundTrip(req) // the same bytes again: a retransmission
	if !bytes.Equal(first.Raw, second.Raw) {
		t.Fatal("retransmitted Allocate got a different response")
	}
	if got := e.srv.Stats().Allocations; got != 1 {
		t.Fatalf("allocations = %d after a retransmission, want 1", got)
	}
}

func TestReplayFromAnotherAddress(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	victim := e.newClient(u, p)
	wantCode(t, victim.do(stun.MethodRefresh), stun.CodeAllocMismatch) // learns realm and nonce
	captured := victim.build(stun.MethodAllocate, udpTransport)

	attacker := e.newClient("", "")
	r := attacker.roundTrip(captured)
	if code := errorCode(r); code != stun.CodeStaleNonce && code != stun.CodeUnauthorized {
		t.Fatalf("replayed Allocate from another address: code %d, want 438 or 401", code)
	}
	if r.Contains(stun.AttrXORRelayedAddress) {
		t.Fatal("replayed Allocate got a relayed address")
	}
	if got := e.srv.Stats().Allocations; got != 0 {
		t.Fatalf("allocations = %d after a replay", got)
	}
}

func TestStaleNonce(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", 8*time.Hour)
	c := e.newClient(u, p)
	c.allocate(stunproto.Lifetime{Duration: time.Hour})
	e.clk.Advance(11 * time.Minute) // past the 10-minute nonce lifetime, within the allocation's
	r := c.roundTrip(c.build(stun.MethodRefresh))
	wantCode(t, r, stun.CodeStaleNonce)
	var nonce stun.Nonce
	if err := nonce.GetFrom(r); err != nil || nonce.String() == c.nonce {
		t.Fatalf("438 must carry a fresh nonce: %q, %v", nonce, err)
	}
	wantCode(t, c.do(stun.MethodRefresh), 0) // retries with the new nonce
}

func TestRefresh(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()

	r := c.do(stun.MethodRefresh, stunproto.Lifetime{Duration: 1800 * time.Second})
	wantCode(t, r, 0)
	var lifetime stunproto.Lifetime
	if err := lifetime.GetFrom(r); err != nil || lifetime.Duration != 1800*time.Second {
		t.Fatalf("LIFETIME %v, %v", lifetime.Duration, err)
	}
	// Lifetime 0 deletes the allocation and frees its port.
	r = c.do(stun.MethodRefresh, stunproto.Lifetime{})
	wantCode(t, r, 0)
	if err := lifetime.GetFrom(r); err != nil || lifetime.Duration != 0 {
		t.Fatalf("LIFETIME after delete %v, %v", lifetime.Duration, err)
	}
	rec := e.waitEnded()
	if rec.Reason != "refresh 0" || rec.Relayed != relayed || rec.Client != c.addr() {
		t.Fatalf("record %+v", rec)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(relayed))
	if err != nil {
		t.Fatalf("relay port still open after deletion: %v", err)
	}
	conn.Close()
	wantCode(t, c.do(stun.MethodRefresh), stun.CodeAllocMismatch)
}

func TestRefreshWrongCredentials(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	c.allocate()
	c.user, c.pass = e.credential("bob", time.Hour)
	wantCode(t, c.do(stun.MethodRefresh), stun.CodeWrongCredentials)
}

func TestAllocationExpiry(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", 8*time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()
	e.clk.Advance(601 * time.Second)
	rec := e.waitEnded() // the worker's tick ends it with the fake clock's time
	if rec.Reason != "expired" || rec.Relayed != relayed {
		t.Fatalf("record %+v", rec)
	}
	wantCode(t, c.do(stun.MethodRefresh), stun.CodeAllocMismatch)
}

func TestQuotas(t *testing.T) {
	e := newTestEdge(t, func(o *Options) {
		o.AllocationsPerUser = 2
		o.AllocationsTotal = 3
	})
	u, p := e.credential("alice", time.Hour)
	e.newClient(u, p).allocate()
	e.newClient(u, p).allocate()
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport), stun.CodeAllocQuotaReached)
	u2, p2 := e.credential("bob", time.Hour)
	e.newClient(u2, p2).allocate()
	wantCode(t, e.newClient(u2, p2).do(stun.MethodAllocate, udpTransport), stun.CodeInsufficientCapacity)
}

func TestPortExhaustion(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.PortMax = o.PortMin + 1 })
	u, p := e.credential("alice", time.Hour)
	a := e.newClient(u, p).allocate()
	b := e.newClient(u, p).allocate()
	if a == b {
		t.Fatalf("two allocations share relayed address %v", a)
	}
	wantCode(t, e.newClient(u, p).do(stun.MethodAllocate, udpTransport), stun.CodeInsufficientCapacity)
}
