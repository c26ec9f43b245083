package server

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/stunproto"
)

// signedWithTrailer builds an authenticated request and then appends attrs
// after its MESSAGE-INTEGRITY, as an attacker on the path could.
func (c *client) signedWithTrailer(method stun.Method, attrs []stun.Setter, trailer ...stun.Setter) *stun.Message {
	c.t.Helper()
	setters := []stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}
	setters = append(setters, attrs...)
	setters = append(setters, stun.NewUsername(c.user), stun.NewRealm(c.realm), stun.NewNonce(c.nonce))
	setters = append(setters, c.integrity()...)
	setters = append(setters, trailer...)
	m, err := stun.Build(setters...)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// TestAttributesAfterIntegrityAreIgnored: RFC 8489 §14.5 — what follows
// MESSAGE-INTEGRITY is not covered by it and must not be acted on.
func TestAttributesAfterIntegrityAreIgnored(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	c := e.newClient(u, p)
	relayed := c.allocate()

	r := c.roundTrip(c.signedWithTrailer(stun.MethodRefresh, nil, stunproto.Lifetime{}))
	wantCode(t, r, 0)
	var lifetime stunproto.Lifetime
	if err := lifetime.GetFrom(r); err != nil || lifetime.Duration != 600*time.Second {
		t.Fatalf("Refresh with a LIFETIME 0 after the integrity granted %v (%v), want the default 600s", lifetime.Duration, err)
	}
	if got := e.srv.Stats().Allocations; got != 1 {
		t.Fatalf("allocations = %d: an unsigned LIFETIME 0 deleted the allocation", got)
	}

	friend, intruder := newPeer(t, "127.0.0.6"), newPeer(t, "127.0.0.7")
	r = c.roundTrip(c.signedWithTrailer(stun.MethodCreatePermission,
		[]stun.Setter{peerAttr(friend.addr())}, peerAttr(intruder.addr())))
	wantCode(t, r, 0)
	intruder.sendTo([]byte("intruder"), relayed)
	friend.sendTo([]byte("friend"), relayed)
	var data stunproto.Data
	if err := data.GetFrom(c.readMessage()); err != nil || string(data) != "friend" {
		t.Fatalf("client got %q (%v): an unsigned XOR-PEER-ADDRESS installed a permission", data, err)
	}
}

// TestQuotaCountsIdentities: each issued credential has a new username, so
// the per-user quota must count the identity inside it.
func TestQuotaCountsIdentities(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.AllocationsPerUser = 1 })
	u1, p1 := e.credential("mallory", time.Hour)
	e.newClient(u1, p1).allocate()
	u2, p2 := e.credential("mallory", 2*time.Hour)
	if u1 == u2 {
		t.Fatal("test needs two different usernames")
	}
	wantCode(t, e.newClient(u2, p2).do(stun.MethodAllocate, udpTransport), stun.CodeAllocQuotaReached)
}

// TestUnknownAttributesAreBounded: a request packed with unknown attributes
// gets a 420 listing at most stunproto.MaxUnknownAttributes of them.
func TestUnknownAttributesAreBounded(t *testing.T) {
	e := newTestEdge(t, nil)
	c := e.newClient("", "")
	setters := []stun.Setter{stun.TransactionID, stun.BindingRequest}
	for i := range 1000 {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrType(0x7000 + i), Value: []byte{0}})
	}
	r := c.roundTrip(stun.MustBuild(setters...))
	wantCode(t, r, stun.CodeUnknownAttribute)
	var ua stun.UnknownAttributes
	if err := ua.GetFrom(r); err != nil || len(ua) != stunproto.MaxUnknownAttributes {
		t.Fatalf("UNKNOWN-ATTRIBUTES lists %d types (%v), want %d", len(ua), err, stunproto.MaxUnknownAttributes)
	}
}

// TestAllocateOverExpiredAllocation: an allocation that expired but was not
// reaped yet does not block a new Allocate on the same 5-tuple.
func TestAllocateOverExpiredAllocation(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", 8*time.Hour)
	c := e.newClient(u, p)
	c.allocate()
	e.clk.Advance(601 * time.Second)
	c.nonce = "" // the nonce is stale too; take a fresh one
	c.allocate()
	if rec := e.waitEnded(); rec.Reason != "expired" {
		t.Fatalf("old allocation ended with %q, want expired", rec.Reason)
	}
	if got := e.srv.Stats().Allocations; got != 1 {
		t.Fatalf("allocations = %d, want 1", got)
	}
}

// TestCloseWhileRunning: Close stops a running server, waits for it and ends
// its allocations; Run cannot start again.
func TestCloseWhileRunning(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)
	relayed := e.newClient(u, p).allocate()
	e.srv.Close()
	if rec := e.waitEnded(); rec.Reason != "shutdown" || rec.Relayed != relayed {
		t.Fatalf("record %+v", rec)
	}
	if err := e.srv.Run(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("Run after Close: %v, want ErrStarted", err)
	}
	e.srv.Close() // again: no effect, no hang
}

// TestListenerAddressInUse: a second server on the same address fails to
// start instead of sharing the port through SO_REUSEPORT.
func TestListenerAddressInUse(t *testing.T) {
	e := newTestEdge(t, nil)
	opts := e.opts
	opts.Listeners = []netip.AddrPort{e.addr}
	opts.OnAllocationEnd = nil
	srv, err := New(opts)
	if err == nil {
		srv.Close()
		t.Fatalf("a second server bound %v", e.addr)
	}
	if !errors.Is(err, datapath.ErrAddrInUse) {
		t.Fatalf("err = %v, want ErrAddrInUse", err)
	}
}
