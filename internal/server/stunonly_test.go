package server

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// TestSTUNOnlyListener: a STUN-only listener answers Binding with the
// client's address and every TURN request with 400, before authentication;
// a TURN listener of the same edge still allocates.
func TestSTUNOnlyListener(t *testing.T) {
	e := newTestEdge(t, func(o *Options) {
		o.STUNListeners = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}
	})
	u, p := e.credential("alice", time.Hour)
	stunOnly := e.srv.Addrs()[1]
	c := e.newClient(u, p)
	c.server = stunOnly
	r := c.do(stun.MethodBinding)
	wantCode(t, r, 0)
	var mapped stun.XORMappedAddress
	if err := mapped.GetFrom(r); err != nil || mapped.String() != c.conn.LocalAddr().String() {
		t.Fatalf("XOR-MAPPED-ADDRESS %v (%v), want %v", mapped, err, c.conn.LocalAddr())
	}
	for _, m := range []stun.Method{stun.MethodAllocate, stun.MethodRefresh, stun.MethodCreatePermission, stun.MethodChannelBind} {
		wantCode(t, c.do(m, udpTransport), stun.CodeBadRequest)
	}
	e.newClient(u, p).allocate()
}
