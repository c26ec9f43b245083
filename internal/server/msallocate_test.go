package server

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
)

// msValue returns the value of attribute t of m, failing when absent.
func msValue(t *testing.T, m *msturn.Message, at msturn.AttrType) []byte {
	t.Helper()
	v, err := m.Get(at)
	if err != nil {
		t.Fatalf("%#04x: attribute %#04x: %v", m.Type, at, err)
	}
	return v
}

// msNumber returns the 4-byte number attribute t of m.
func msNumber(t *testing.T, m *msturn.Message, at msturn.AttrType) uint32 {
	t.Helper()
	v, err := m.Uint32(at)
	if err != nil {
		t.Fatalf("%#04x: attribute %#04x: %v", m.Type, at, err)
	}
	return v
}

// wantAttrs checks the attribute types of m, in order.
func wantAttrs(t *testing.T, m *msturn.Message, want ...msturn.AttrType) {
	t.Helper()
	if got := msAttrTypes(t, m.Raw); !slices.Equal(got, want) {
		t.Fatalf("%#04x: attributes %#04x, want %#04x", m.Type, got, want)
	}
}

// plainAddr is the value of a plain IPv4 address attribute: reserved,
// family 1, port, address.
func plainAddr(a netip.AddrPort) []byte {
	ip := a.Addr().As4()
	return append([]byte{0, 1, byte(a.Port() >> 8), byte(a.Port())}, ip[:]...)
}

// TestMSChallenge: libnice's first Allocate (MAGIC-COOKIE and MS-VERSION
// only) gets an unsigned 401 Allocate error: MAGIC-COOKIE first,
// ERROR-CODE, REALM (0x0015, the dialect's number) naming the edge's
// realm, NONCE (0x0014) and MS-VERSION, unpadded (the realm's 11 bytes
// are followed at once by NONCE's header), counted as a challenge.
func TestMSChallenge(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	var r *msturn.Message
	got := e.authDelta(func() { r = c.challenge() })
	if len(got) != 1 || got[stats.AuthChallenge] != 1 {
		t.Fatalf("auth results %v, want one challenge", got)
	}
	wantAttrs(t, r, msturn.AttrMagicCookie, msturn.AttrErrorCode, msturn.AttrRealm, msturn.AttrNonce, msturn.AttrMSVersion)
	if got := r.Raw[20:28]; !bytes.Equal(got, []byte{0x00, 0x0f, 0x00, 0x04, 0x72, 0xc6, 0x4b, 0xc6}) {
		t.Fatalf("first attribute % x, want MAGIC-COOKIE", got)
	}
	if got := msValue(t, r, msturn.AttrErrorCode); !bytes.Equal(got, []byte("\x00\x00\x04\x01Unauthorized")) {
		t.Fatalf("ERROR-CODE %q", got)
	}
	if len(testRealm)%4 == 0 {
		t.Fatal("the test needs a realm whose length is not a multiple of 4")
	}
	at := bytes.Index(r.Raw, append([]byte{0x00, 0x15, 0x00, byte(len(testRealm))}, testRealm...))
	if at < 0 {
		t.Fatalf("no REALM %q (0x0015) in % x", testRealm, r.Raw)
	}
	if next := r.Raw[at+4+len(testRealm):]; next[0] != 0x00 || next[1] != 0x14 {
		t.Fatalf("after REALM: % x, want NONCE (0x0014) right after the value, unpadded", next[:4])
	}
	if len(msValue(t, r, msturn.AttrNonce)) == 0 {
		t.Fatal("empty NONCE")
	}
	if v := msNumber(t, r, msturn.AttrMSVersion); v != 1 {
		t.Fatalf("MS-VERSION %d, want 1", v)
	}
}

// TestMSAllocate: the authenticated Allocate is answered with MAPPED-ADDRESS
// (the relayed address, on the relay range), XOR-MAPPED-ADDRESS (the
// client's address, XORed with the transaction ID), LIFETIME,
// MS-SEQUENCE-NUMBER, MS-VERSION and MESSAGE-INTEGRITY keyed with
// MD5(user:realm:pass), and no other comprehension-required attribute; a
// retransmission gets the same bytes and no second allocation.
func TestMSAllocate(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.challenge()
	id := newTxID()
	req := c.allocateMsg(id)
	var r *msturn.Message
	got := e.authDelta(func() { r = c.roundTrip(req) })
	if len(got) != 1 || got[stats.AuthOK] != 1 {
		t.Fatalf("auth results %v, want one ok", got)
	}
	c.wantSuccess(r, msturn.AllocateResponse)
	wantAttrs(t, r, msturn.AttrMagicCookie, msturn.AttrMappedAddress, msturn.AttrXORMappedAddress, msturn.AttrLifetime,
		msturn.AttrMSSequenceNumber, msturn.AttrMSVersion, msturn.AttrMessageIntegrity)
	for _, at := range msAttrTypes(t, r.Raw) {
		if at < 0x8000 && !slices.Contains([]msturn.AttrType{msturn.AttrMappedAddress, msturn.AttrLifetime,
			msturn.AttrMagicCookie, msturn.AttrMessageIntegrity}, at) {
			t.Fatalf("comprehension-required attribute %#04x in the Allocate response", at)
		}
	}
	if r.IntegritySize() != 20 {
		t.Fatalf("MESSAGE-INTEGRITY of %d bytes, want 20 (HMAC-SHA1)", r.IntegritySize())
	}

	mapped := msValue(t, r, msturn.AttrMappedAddress)
	port := int(binary.BigEndian.Uint16(mapped[2:4]))
	if len(mapped) != 8 || mapped[0] != 0 || mapped[1] != 1 || !bytes.Equal(mapped[4:], []byte{127, 0, 0, 1}) ||
		port < e.opts.PortMin || port > e.opts.PortMax {
		t.Fatalf("MAPPED-ADDRESS % x, want 127.0.0.1 on ports %d-%d", mapped, e.opts.PortMin, e.opts.PortMax)
	}
	xor := msValue(t, r, msturn.AttrXORMappedAddress)
	var plain [8]byte
	copy(plain[:], xor)
	for i := range 2 {
		plain[2+i] ^= id[i]
	}
	for i := range 4 {
		plain[4+i] ^= id[i]
	}
	if want := plainAddr(c.addr()); len(xor) != 8 || !bytes.Equal(plain[:], want) {
		t.Fatalf("XOR-MAPPED-ADDRESS % x un-XORed % x, want % x (%v)", xor, plain, want, c.addr())
	}
	if v := msNumber(t, r, msturn.AttrLifetime); v != 600 {
		t.Fatalf("LIFETIME %d, want the default 600", v)
	}
	if v := msValue(t, r, msturn.AttrMSSequenceNumber); len(v) != 24 {
		t.Fatalf("MS-SEQUENCE-NUMBER of %d bytes, want 24", len(v))
	}
	if v := msNumber(t, r, msturn.AttrMSVersion); v != 1 {
		t.Fatalf("MS-VERSION %d, want 1", v)
	}

	c.writeMsg(req)
	if _, again := c.next(); !bytes.Equal(again, r.Raw) {
		t.Fatalf("retransmission answered\n% x\nwant the first answer\n% x", again, r.Raw)
	}
	c.barrier()
	st := e.srv.Stats()
	var created uint64
	for _, n := range st.AllocationsCreated {
		created += n
	}
	if st.Allocations != 1 || created != 1 {
		t.Fatalf("%d live allocations, %d created; want 1 and 1", st.Allocations, created)
	}
}

// TestMSVersion: the edge answers the client's MS-VERSION (1 without one),
// at most 4: it does not speak the multiplexed TURN of 5 and 6.
func TestMSVersion(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	for _, tc := range []struct{ sent, want uint32 }{{0, 1}, {1, 1}, {2, 2}, {4, 4}, {5, 4}, {6, 4}} {
		c := e.newMSClient(u, p)
		c.version = tc.sent
		if v := msNumber(t, c.challenge(), msturn.AttrMSVersion); v != tc.want {
			t.Errorf("MS-VERSION %d: the 401 says %d, want %d", tc.sent, v, tc.want)
		}
		if v := msNumber(t, c.allocate(), msturn.AttrMSVersion); v != tc.want {
			t.Errorf("MS-VERSION %d: the Allocate response says %d, want %d", tc.sent, v, tc.want)
		}
	}
}

// TestMSAllocateSHA256: with MS-VERSION 3, a 32-byte MESSAGE-INTEGRITY
// keyed with the nonce-derived HMAC-SHA256 key authenticates; the answer
// and the allocation's later requests use that key.
func TestMSAllocateSHA256(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	c.version, c.sha256 = 3, true
	r := c.allocate() // checks the answer's MESSAGE-INTEGRITY with the SHA-256 key
	if r.IntegritySize() != 32 {
		t.Fatalf("MESSAGE-INTEGRITY of %d bytes, want 32", r.IntegritySize())
	}
	if v := msNumber(t, r, msturn.AttrMSVersion); v != 3 {
		t.Fatalf("MS-VERSION %d, want 3", v)
	}
	p := newPeer(t, "127.0.0.1")
	c.send(p.addr(), []byte("sha-256"))
	if got, from := p.read(); string(got) != "sha-256" || from != c.relayed {
		t.Fatalf("peer got %q from %v, want the Send's data from %v", got, from, c.relayed)
	}
}

// TestMSAllocateErrors: each way an Allocate fails authentication gets its
// error code ([MS-TURN] §3.3.5.1) and is counted under its result; none
// of the answers to a request that did not authenticate is signed. A Stale
// Nonce carries a fresh NONCE, a realm not ours the 401 challenge naming
// ours; an unknown comprehension-required attribute gets 420 with
// UNKNOWN-ATTRIBUTES after authentication, signed.
func TestMSAllocateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		// req builds the request of c, which has taken the 401's realm
		// and nonce.
		req   func(e *testEdge, c *msClient) []byte
		code  int
		attrs []msturn.AttrType // after MAGIC-COOKIE and ERROR-CODE
		want  map[stats.AuthResult]uint64
	}{
		{"missing USERNAME", func(_ *testEdge, c *msClient) []byte {
			return c.build(msturn.AllocateRequest, newTxID(), msU32(msturn.AttrMSVersion, 1),
				msStr(msturn.AttrRealm, c.realm), msStr(msturn.AttrNonce, c.nonce), msSign(c.key()))
		}, msturn.CodeMissingUsername, nil, map[stats.AuthResult]uint64{stats.AuthBadRequest: 1}},
		{"missing REALM", func(_ *testEdge, c *msClient) []byte {
			return c.build(msturn.AllocateRequest, newTxID(), msU32(msturn.AttrMSVersion, 1),
				msStr(msturn.AttrNonce, c.nonce), msStr(msturn.AttrUsername, c.user), msSign(c.key()))
		}, msturn.CodeMissingRealm, nil, map[stats.AuthResult]uint64{stats.AuthBadRequest: 1}},
		{"missing NONCE", func(_ *testEdge, c *msClient) []byte {
			return c.build(msturn.AllocateRequest, newTxID(), msU32(msturn.AttrMSVersion, 1),
				msStr(msturn.AttrRealm, c.realm), msStr(msturn.AttrUsername, c.user), msSign(c.key()))
		}, msturn.CodeMissingNonce, nil, map[stats.AuthResult]uint64{stats.AuthBadRequest: 1}},
		{"wrong password", func(_ *testEdge, c *msClient) []byte {
			c.pass = "wrong"
			return c.allocateMsg(newTxID())
		}, msturn.CodeIntegrityFailure, nil, map[stats.AuthResult]uint64{stats.AuthBadIntegrity: 1}},
		{"unknown username", func(_ *testEdge, c *msClient) []byte {
			c.user = "nobody"
			return c.allocateMsg(newTxID())
		}, msturn.CodeUnknownUsername, nil, map[stats.AuthResult]uint64{stats.AuthUnknownUser: 1}},
		{"expired username", func(e *testEdge, c *msClient) []byte {
			c.user, c.pass = e.credential("alice", -time.Second)
			return c.allocateMsg(newTxID())
		}, msturn.CodeUnknownUsername, nil, map[stats.AuthResult]uint64{stats.AuthExpiredCredential: 1}},
		{"forged nonce", func(_ *testEdge, c *msClient) []byte {
			c.nonce = c.nonce[:len(c.nonce)-4] + "AAAA"
			return c.allocateMsg(newTxID())
		}, msturn.CodeStaleNonce, []msturn.AttrType{msturn.AttrRealm, msturn.AttrNonce, msturn.AttrMSVersion},
			map[stats.AuthResult]uint64{stats.AuthBadNonce: 1}},
		{"stale nonce", func(e *testEdge, c *msClient) []byte {
			e.clk.Advance(11 * time.Minute) // the nonce lifetime is 10 minutes
			return c.allocateMsg(newTxID())
		}, msturn.CodeStaleNonce, []msturn.AttrType{msturn.AttrRealm, msturn.AttrNonce, msturn.AttrMSVersion},
			map[stats.AuthResult]uint64{stats.AuthStaleNonce: 1}},
		{"another realm", func(_ *testEdge, c *msClient) []byte {
			c.realm = "elsewhere.test"
			return c.allocateMsg(newTxID())
		}, msturn.CodeUnauthorized, []msturn.AttrType{msturn.AttrRealm, msturn.AttrNonce, msturn.AttrMSVersion},
			map[stats.AuthResult]uint64{stats.AuthUnknownUser: 1}},
		{"unknown comprehension-required attribute", func(_ *testEdge, c *msClient) []byte {
			return c.allocateMsg(newTxID(), msBytes(0x0030, []byte{0, 0, 0, 0}))
		}, msturn.CodeUnknownAttribute, []msturn.AttrType{msturn.AttrUnknownAttributes, msturn.AttrMessageIntegrity},
			map[stats.AuthResult]uint64{stats.AuthOK: 1}},
		{"32-byte MESSAGE-INTEGRITY with MS-VERSION 1", func(_ *testEdge, c *msClient) []byte {
			c.sha256 = true
			return c.allocateMsg(newTxID())
		}, msturn.CodeBadRequest, nil, map[stats.AuthResult]uint64{stats.AuthBadRequest: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEdge(t, nil)
			c := e.newMSClient(e.credential("alice", time.Hour))
			c.challenge()
			sentNonce := ""
			var r *msturn.Message
			got := e.authDelta(func() {
				req := tc.req(e, c)
				sentNonce = c.nonce
				r = c.roundTrip(req)
			})
			msWantError(t, r, msturn.AllocateError, tc.code)
			wantAttrs(t, r, append([]msturn.AttrType{msturn.AttrMagicCookie, msturn.AttrErrorCode}, tc.attrs...)...)
			if len(got) != len(tc.want) {
				t.Fatalf("auth results %v, want %v", got, tc.want)
			}
			for res, n := range tc.want {
				if got[res] != n {
					t.Fatalf("auth results %v, want %v", got, tc.want)
				}
			}
			switch tc.code {
			case msturn.CodeStaleNonce:
				fresh := string(msValue(t, r, msturn.AttrNonce))
				if fresh == sentNonce {
					t.Fatal("438 repeats the rejected nonce")
				}
				// The fresh nonce works.
				c.nonce = fresh
				c.wantSuccess(c.roundTrip(c.allocateMsg(newTxID())), msturn.AllocateResponse)
			case msturn.CodeUnauthorized:
				if got := string(msValue(t, r, msturn.AttrRealm)); got != testRealm {
					t.Fatalf("401 names realm %q, want %q", got, testRealm)
				}
			case msturn.CodeUnknownAttribute:
				if got := msValue(t, r, msturn.AttrUnknownAttributes); !bytes.Equal(got, []byte{0x00, 0x30}) {
					t.Fatalf("UNKNOWN-ATTRIBUTES % x, want 00 30", got)
				}
				c.wantSigned(r)
			}
			if n := e.srv.Stats().Allocations; n != 0 && tc.code != msturn.CodeStaleNonce {
				t.Fatalf("%d allocations after a refused Allocate", n)
			}
		})
	}
}

// TestMSOptionalAttributes: the optional attributes MS clients send
// (MS-SERVICE-QUALITY, the bandwidth management attributes of
// [MS-TURNBWM], MS-IMPLEMENTATION-VERSION) do not stand in the way.
func TestMSOptionalAttributes(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", time.Hour))
	extra := []msAttr{
		msBytes(msturn.AttrMSServiceQuality, []byte{0, 1, 0, 0}), // audio, best effort
		msBytes(0x8056, []byte{0, 0, 0, 0}),                      // bandwidth admission control: reservation check
		msBytes(0x8057, make([]byte, 16)),                        // bandwidth reservation ID
		msBytes(0x8058, make([]byte, 16)),                        // bandwidth reservation amount
	}
	for at := msturn.AttrType(0x8059); at <= 0x8060; at++ { // site addresses and their responses
		extra = append(extra, msBytes(at, []byte{0, 1, 0x12, 0x34, 192, 0, 2, 1}))
	}
	extra = append(extra, msU32(0x8070, 3)) // MS-IMPLEMENTATION-VERSION
	var r *msturn.Message
	got := e.authDelta(func() { r = c.allocate(extra...) })
	if len(got) != 2 || got[stats.AuthChallenge] != 1 || got[stats.AuthOK] != 1 {
		t.Fatalf("auth results %v, want a challenge and an ok", got)
	}
	c.wantSuccess(r, msturn.AllocateResponse)
}

// TestMSRefresh: an Allocate on the 5-tuple of an allocation refreshes it
// (same relayed address, the new lifetime) with the nonce of the first
// 401 even after the nonce's lifetime; LIFETIME 0 deletes it (answered
// with LIFETIME 0, the relay port closed), and a retransmission gets the
// same answer; LIFETIME 0 without an allocation is 437.
func TestMSRefresh(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newMSClient(e.credential("alice", 8*time.Hour))
	r := c.allocate(msU32(msturn.AttrLifetime, 3600))
	relayed, seq := c.relayed, c.seq
	if v := msNumber(t, r, msturn.AttrLifetime); v != 3600 {
		t.Fatalf("LIFETIME %d, want 3600", v)
	}
	e.clk.Advance(11 * time.Minute) // the nonce is stale now; the allocation is not
	for _, tc := range []struct {
		attrs []msAttr
		want  uint32
	}{{[]msAttr{msU32(msturn.AttrLifetime, 3600)}, 3600}, {nil, 600}} {
		var r *msturn.Message
		got := e.authDelta(func() { r = c.roundTrip(c.allocateMsg(newTxID(), tc.attrs...)) })
		if len(got) != 1 || got[stats.AuthOK] != 1 {
			t.Fatalf("auth results %v, want one ok", got)
		}
		c.wantSuccess(r, msturn.AllocateResponse)
		if got, _ := r.Address(msturn.AttrMappedAddress); got != relayed {
			t.Fatalf("refresh: MAPPED-ADDRESS %v, want the allocation's %v", got, relayed)
		}
		if v := msNumber(t, r, msturn.AttrLifetime); v != tc.want {
			t.Fatalf("refresh: LIFETIME %d, want %d", v, tc.want)
		}
		if got, _ := r.Sequence(); got.ConnID != seq.ConnID {
			t.Fatal("refresh: another MS-SEQUENCE-NUMBER connection ID")
		}
	}
	if n := e.srv.Stats().Allocations; n != 1 {
		t.Fatalf("%d allocations after refreshes, want 1", n)
	}

	del := c.allocateMsg(newTxID(), msU32(msturn.AttrLifetime, 0))
	r = c.roundTrip(del)
	c.wantSuccess(r, msturn.AllocateResponse)
	wantAttrs(t, r, msturn.AttrMagicCookie, msturn.AttrLifetime, msturn.AttrMessageIntegrity)
	if v := msNumber(t, r, msturn.AttrLifetime); v != 0 {
		t.Fatalf("LIFETIME %d, want 0", v)
	}
	if rec := e.waitEnded(); rec.Reason != "refresh 0" || rec.Relayed != relayed {
		t.Fatalf("record %+v, want refresh 0 of %v", rec, relayed)
	}
	free, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(relayed))
	if err != nil {
		t.Fatalf("relay port not closed: %v", err)
	}
	free.Close()
	c.writeMsg(del)
	if _, again := c.next(); !bytes.Equal(again, r.Raw) {
		t.Fatalf("retransmitted deletion answered\n% x\nwant\n% x", again, r.Raw)
	}

	c.challenge() // the old nonce is good for the allocation's refreshes only
	r = c.roundTrip(c.allocateMsg(newTxID(), msU32(msturn.AttrLifetime, 0)))
	msWantError(t, r, msturn.AllocateError, msturn.CodeNoBinding)
	c.wantSigned(r)
	if n := e.srv.Stats().Allocations; n != 0 {
		t.Fatalf("%d allocations, want 0", n)
	}
}

// TestMSAllocateOnRFCAllocation: the dialects do not mix on one 5-tuple:
// an MS-TURN Allocate where an RFC TURN allocation lives gets a signed
// 437, and an RFC Allocate where an MS-TURN one lives gets 437 too.
func TestMSAllocateOnRFCAllocation(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	rfc := e.newClient(u, p)
	rfc.allocate()
	ms := e.msClientOn(rfc.conn, u, p)
	ms.challenge()
	r := ms.roundTrip(ms.allocateMsg(newTxID()))
	msWantError(t, r, msturn.AllocateError, msturn.CodeNoBinding)
	ms.wantSigned(r)

	ms = e.newMSClient(u, p)
	ms.allocate()
	rfc = &client{t: t, conn: ms.udp, server: e.addr, user: u, pass: p}
	wantCode(t, rfc.do(stun.MethodAllocate, udpTransport), stun.CodeAllocMismatch)
	if n := e.srv.Stats().Allocations; n != 2 {
		t.Fatalf("%d allocations, want 2", n)
	}
}

// TestMSRefusals: the quota and capacity refusals of RFC TURN apply to the
// dialect, answered in it and signed: 486 over allocations_per_user, 300
// with ALTERNATE-SERVER (0x000E, a plain address) to the pool's next
// sibling when full, 300 or 508 while draining; each counted under its
// cause.
func TestMSRefusals(t *testing.T) {
	sibling := netip.MustParseAddrPort("198.51.100.11:3478")
	for _, tc := range []struct {
		name   string
		mod    func(*Options)
		drain  bool
		code   int
		alt    netip.AddrPort
		causes map[stats.RefusalCause]uint64
	}{
		{"user quota", func(o *Options) { o.AllocationsPerUser = 1 }, false, msturn.CodeAllocationQuota, netip.AddrPort{},
			map[stats.RefusalCause]uint64{stats.RefusedUserQuota: 1}},
		{"full, pool sibling", func(o *Options) {
			o.AllocationsTotal = 1
			o.PoolAlternates = []netip.AddrPort{netip.MustParseAddrPort("[2001:db8::11]:3478"), sibling}
		}, false, msturn.CodeTryAlternate, sibling, map[stats.RefusalCause]uint64{stats.RefusedAllocationsTotal: 1, stats.RefusedRedirected: 1}},
		{"full, no sibling", func(o *Options) { o.AllocationsTotal = 1 }, false, msturn.CodeInsufficientCap, netip.AddrPort{},
			map[stats.RefusalCause]uint64{stats.RefusedAllocationsTotal: 1}},
		{"draining, sibling", func(o *Options) { o.AlternateServers = []netip.AddrPort{sibling} }, true,
			msturn.CodeTryAlternate, sibling, map[stats.RefusalCause]uint64{stats.RefusedDraining: 1, stats.RefusedRedirected: 1}},
		{"draining, no sibling", nil, true, msturn.CodeInsufficientCap, netip.AddrPort{},
			map[stats.RefusalCause]uint64{stats.RefusedDraining: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEdge(t, tc.mod)
			u, p := e.credential("alice", time.Hour)
			e.newMSClient(u, p).allocate() // fills the edge, or keeps the drain going
			if tc.drain {
				e.srv.Drain()
			}
			c := e.newMSClient(u, p)
			c.challenge()
			r := c.roundTrip(c.allocateMsg(newTxID()))
			msWantError(t, r, msturn.AllocateError, tc.code)
			c.wantSigned(r)
			if tc.alt.IsValid() {
				wantAttrs(t, r, msturn.AttrMagicCookie, msturn.AttrErrorCode, msturn.AttrAlternateServer, msturn.AttrMessageIntegrity)
				if got := msValue(t, r, msturn.AttrAlternateServer); !bytes.Equal(got, plainAddr(tc.alt)) {
					t.Fatalf("ALTERNATE-SERVER % x, want % x (%v)", got, plainAddr(tc.alt), tc.alt)
				}
			} else {
				wantAttrs(t, r, msturn.AttrMagicCookie, msturn.AttrErrorCode, msturn.AttrMessageIntegrity)
			}
			st := e.srv.Stats()
			for cause := range stats.RefusalCause(stats.NumRefusalCauses) {
				if got := st.Refused(cause); got != tc.causes[cause] {
					t.Errorf("refusals %q = %d, want %d", cause, got, tc.causes[cause])
				}
			}
			if st.Allocations != 1 {
				t.Fatalf("%d allocations, want 1", st.Allocations)
			}
		})
	}
}

// answersTo sends every message in reqs, then returns the answers that
// arrive until none comes for a short while (rate limiting drops
// requests silently: there is nothing else to wait for).
func (c *msClient) answersTo(reqs [][]byte) []*msturn.Message {
	c.t.Helper()
	for _, r := range reqs {
		c.writeMsg(r)
	}
	var got []*msturn.Message
	buf := make([]byte, 2048)
	for {
		_ = c.udp.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, _, err := c.udp.ReadFromUDPAddrPort(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return got
		}
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		got = append(got, msDecode(c.t, append([]byte(nil), buf[:n]...)))
	}
}

// firstAllocates returns n of libnice's first, unauthenticated, Allocates.
func (c *msClient) firstAllocates(n int) [][]byte {
	reqs := make([][]byte, n)
	for i := range reqs {
		reqs[i] = c.build(msturn.AllocateRequest, newTxID(), c.versionAttr()...)
	}
	return reqs
}

// TestMSUnauthenticatedLimit: the dialect's unauthenticated Allocates, and
// those whose authentication fails, take tokens from their source's limit
// as RFC TURN's do: over it, they are dropped and counted; an allocation's
// refreshes are not limited.
func TestMSUnauthenticatedLimit(t *testing.T) {
	const burst = 3
	e := limitedEdge(t, burst)
	u, p := e.credential("alice", time.Hour)
	good := e.newMSClient(u, p)
	good.allocate() // its 401 takes one token
	flooder := e.newMSClient(u, p)
	if got := flooder.answersTo(flooder.firstAllocates(10)); len(got) != burst-1 {
		t.Fatalf("%d answers to 10 unauthenticated Allocates, want %d", len(got), burst-1)
	}
	flooder.realm, flooder.nonce = testRealm, "not-a-nonce-of-this-server"
	if got := flooder.answersTo([][]byte{flooder.allocateMsg(newTxID())}); len(got) != 0 {
		t.Fatalf("438 sent over the limit: %#04x", got[0].Type)
	}
	e.waitDropped(10 - (burst - 1) + 1)
	for range 2 * burst {
		good.wantSuccess(good.roundTrip(good.allocateMsg(newTxID())), msturn.AllocateResponse)
	}
}

// TestMSSetUnauthenticatedLimit: a limit set while serving applies to the
// dialect's requests too, also on a worker that has seen nothing but them.
func TestMSSetUnauthenticatedLimit(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.Workers = 1 })
	c := e.newMSClient(e.credential("alice", time.Hour))
	if got := len(c.answersTo(c.firstAllocates(5))); got != 5 {
		t.Fatalf("%d answers without a limit, want 5", got)
	}
	if err := e.srv.SetUnauthenticatedLimit(policy.SourceLimit{Rate: 1, Burst: 2}); err != nil {
		t.Fatal(err)
	}
	if got := len(c.answersTo(c.firstAllocates(5))); got != 2 {
		t.Fatalf("%d answers with burst 2, want 2", got)
	}
}
