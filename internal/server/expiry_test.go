package server

import (
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// TestCallOutlivesCredential: requests on an allocation that name the
// username that made it pass after that credential expired (counted as
// ok_past_expiry), and media keeps flowing; a new Allocate with the
// expired credential, from another 5-tuple, gets 401. With strict expiry
// the first Refresh after the expiry gets 401 instead.
func TestCallOutlivesCredential(t *testing.T) {
	expiryModes(t, func(t *testing.T, strict bool, authMod func(*auth.Options)) {
		e := newTestEdgeAuth(t, authMod, nil)
		u, p := e.credential("alice", 2*time.Minute)
		c := e.newClient(u, p)
		relayed := c.allocate()
		p1 := newPeer(t, "127.0.0.1")
		c.bound(p1)
		e.clk.Advance(3 * time.Minute)
		if strict {
			wantCode(t, c.do(stun.MethodRefresh), stun.CodeUnauthorized)
			wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(p1.addr())), stun.CodeUnauthorized)
			return
		}
		got := e.authDelta(func() {
			wantCode(t, c.do(stun.MethodRefresh), 0)
			wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(p1.addr())), 0)
			wantCode(t, c.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(p1.addr())), 0)
		})
		if got[stats.AuthPastExpiry] != 3 || got[stats.AuthOK] != 0 {
			t.Errorf("auth results %v, want 3 ok_past_expiry", got)
		}
		c.send(channelData(0x4000, []byte("still talking")))
		if b, from := p1.read(); string(b) != "still talking" || from != relayed {
			t.Errorf("peer got %q from %v, want the media from %v", b, from, relayed)
		}
		other := e.newClient(u, p)
		wantCode(t, other.do(stun.MethodAllocate, stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP}), stun.CodeUnauthorized)
	})
}

// TestMaxAllocationAge: an allocation is granted lifetimes up to its
// maximum age and ends at it, however it is refreshed, with the record's
// reason "max age"; a Refresh then gets 401 with the expired credential
// and 437 with a new one, with which the client allocates afresh.
func TestMaxAllocationAge(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.MaxAllocationAge = 25 * time.Minute })
	u, p := e.credential("alice", time.Minute)
	c := e.newClient(u, p)
	relayed := c.allocate()
	var lifetime stunproto.Lifetime
	for range 2 { // refreshes at 9 and 18 minutes
		e.clk.Advance(9 * time.Minute)
		r := c.do(stun.MethodRefresh, stunproto.Lifetime{Duration: time.Hour})
		wantCode(t, r, 0)
		if err := lifetime.GetFrom(r); err != nil {
			t.Fatal(err)
		}
	}
	if lifetime.Duration != 7*time.Minute {
		t.Fatalf("LIFETIME %v at 18 minutes, want the 7 minutes left of the maximum age", lifetime.Duration)
	}
	e.clk.Advance(7 * time.Minute)
	if rec := e.waitEnded(); rec.Reason != "max age" || rec.Relayed != relayed || rec.Identity != "alice" {
		t.Fatalf("record %+v, want alice's allocation ended at its maximum age", rec)
	}
	// Its credential expired, and no allocation holds it any more.
	wantCode(t, c.do(stun.MethodRefresh), stun.CodeUnauthorized)
	c.user, c.pass = e.credential("alice", time.Hour)
	wantCode(t, c.do(stun.MethodRefresh), stun.CodeAllocMismatch)
	c.allocate()
	if st := e.srv.Stats(); st.AllocationsEnded[stats.EndMaxAge] != 1 {
		t.Errorf("max age ends %d, want 1", st.AllocationsEnded[stats.EndMaxAge])
	}
}

// TestMSCallOutlivesCredential: an [MS-TURN] allocation over UDP refreshes
// and sends past its credential's expiry; a new Allocate with the expired
// credential from another 5-tuple gets 436 (the dialect's unknown or
// expired username). With strict expiry the allocation was granted no
// more than its credential had left: it is gone, and its refresh refused.
func TestMSCallOutlivesCredential(t *testing.T) {
	expiryModes(t, func(t *testing.T, strict bool, authMod func(*auth.Options)) {
		e := newTestEdgeAuth(t, authMod, nil)
		u, p := e.credential("alice", 5*time.Minute)
		c := e.newMSClient(u, p)
		c.allocate()
		p1 := newPeer(t, "127.0.0.1")
		c.send(p1.addr(), []byte("before"))
		wantPeerGot(t, p1, []byte("before"), c.relayed)
		e.clk.Advance(6 * time.Minute)
		refresh := c.roundTrip(c.allocateMsg(newTxID()))
		if strict {
			msWantError(t, refresh, msturn.AllocateError, msturn.CodeUnknownUsername)
			drops := e.dropsDelta(func() {
				c.send(p1.addr(), []byte("after"))
				c.barrier()
			})
			if len(drops) != 1 || drops[stats.DropNoAllocation] != 1 {
				t.Fatalf("drops %v, want one no_allocation: the allocation ended with its credential", drops)
			}
			return
		}
		c.wantSuccess(refresh, msturn.AllocateResponse)
		c.send(p1.addr(), []byte("after"))
		wantPeerGot(t, p1, []byte("after"), c.relayed)
		other := e.newMSClient(u, p)
		other.challenge()
		msWantError(t, other.roundTrip(other.allocateMsg(newTxID())), msturn.AllocateError, msturn.CodeUnknownUsername)
	})
}

// TestMSStreamOutlivesLifetime: an [MS-TURN] allocation over TCP is
// granted the longest lifetime, told it lives until its last moment (so
// clients need not refresh it), and lives while its connection is open,
// also past that lifetime without a refresh (libnice never refreshes over
// pseudo-TLS) and past its credential's expiry, until its maximum age; a
// UDP one expires as usual. With strict expiry it ends with its
// credential. Both allocations are on one worker, so the tick that ends
// the UDP one has also looked at the TCP one.
func TestMSStreamOutlivesLifetime(t *testing.T) {
	expiryModes(t, func(t *testing.T, strict bool, authMod func(*auth.Options)) {
		se := newStreamEdgeAuth(t, authMod, func(o *Options) {
			o.Workers = 1
			o.MaxAllocationAge = 3 * time.Hour
		})
		u, p := se.credential("alice", 2*time.Hour)
		c := se.newMSStreamClient(true, u, p)
		r := c.allocate()
		// Told all it may live: libnice then never refreshes over TCP.
		want := uint32(3 * 3600) // the maximum age
		if strict {
			want = 2 * 3600 // the credential's expiry
		}
		if lt, _ := r.Uint32(msturn.AttrLifetime); lt != want {
			t.Fatalf("LIFETIME %d over TCP, want %d", lt, want)
		}
		udp := se.newMSClient(u, p)
		udp.allocate()
		peer := newPeer(t, "127.0.0.1")
		c.send(peer.addr(), []byte("before"))
		wantPeerGot(t, peer, []byte("before"), c.relayed)

		se.clk.Advance(61 * time.Minute) // past both lifetimes
		if rec := se.waitEnded(); rec.Relayed != udp.relayed || rec.Reason != "expired" {
			t.Fatalf("record %+v, want the UDP allocation expired", rec)
		}
		wantNoneEnded(t, se.testEdge)
		c.send(peer.addr(), []byte("after"))
		wantPeerGot(t, peer, []byte("after"), c.relayed)

		se.clk.Advance(60 * time.Minute) // past the credential's expiry
		if strict {
			if rec := se.waitEnded(); rec.Relayed != c.relayed || rec.Reason != "expired" {
				t.Fatalf("record %+v, want the TCP allocation expired with its credential", rec)
			}
			return
		}
		wantNoneEnded(t, se.testEdge)
		c.send(peer.addr(), []byte("past expiry"))
		wantPeerGot(t, peer, []byte("past expiry"), c.relayed)
		se.clk.Advance(60 * time.Minute) // at its maximum age
		if rec := se.waitEnded(); rec.Relayed != c.relayed || rec.Reason != "max age" {
			t.Fatalf("record %+v, want the TCP allocation ended at its maximum age", rec)
		}
	})
}

// wantNoneEnded fails if an allocation-ended record is waiting.
func wantNoneEnded(t *testing.T, e *testEdge) {
	t.Helper()
	select {
	case rec := <-e.ended:
		t.Fatalf("an allocation ended: %+v", rec)
	default:
	}
}

// expiryModes runs fn as the subtests "lenient" (the default) and
// "strict" (auth.Options.StrictExpiry, applied by authMod).
func expiryModes(t *testing.T, fn func(t *testing.T, strict bool, authMod func(*auth.Options))) {
	t.Run("lenient", func(t *testing.T) { fn(t, false, nil) })
	t.Run("strict", func(t *testing.T) { fn(t, true, strictExpiry) })
}

// TestMSStreamStrictFromTheStart: with strict expiry, an [MS-TURN]
// allocation over TCP is granted no more than its credential has left,
// and ends with it though the longest lifetime is longer.
func TestMSStreamStrictFromTheStart(t *testing.T) {
	se := newStreamEdgeAuth(t, strictExpiry, nil)
	u, p := se.credential("alice", 10*time.Minute)
	c := se.newMSStreamClient(false, u, p)
	r := c.allocate()
	if lt, _ := r.Uint32(msturn.AttrLifetime); lt != 600 {
		t.Fatalf("LIFETIME %d, want the credential's 600 s left", lt)
	}
	se.clk.Advance(10 * time.Minute)
	if rec := se.waitEnded(); rec.Relayed != c.relayed || rec.Reason != "expired" {
		t.Fatalf("record %+v, want the allocation expired with its credential", rec)
	}
}

// TestMaxAgeNotRenewedOnTheTuple: once an allocation reached its maximum
// age, its expired credential makes no new allocation on the same 5-tuple,
// whether or not the tick has reaped the old one yet.
func TestMaxAgeNotRenewedOnTheTuple(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.MaxAllocationAge = 5 * time.Minute })
	c := e.newClient(e.credential("alice", time.Minute))
	c.allocate()
	e.clk.Advance(5 * time.Minute)
	wantCode(t, c.do(stun.MethodAllocate, stunproto.RequestedTransport{Protocol: stunproto.ProtoUDP}), stun.CodeUnauthorized)
}

// TestMSMaxAllocationAge: an [MS-TURN] allocation over UDP refreshes with
// its expired credential up to its maximum age, ends there ("max age"),
// and the expired credential then makes no new one on its 5-tuple (436).
func TestMSMaxAllocationAge(t *testing.T) {
	e := newTestEdge(t, func(o *Options) { o.MaxAllocationAge = 12 * time.Minute })
	c := e.newMSClient(e.credential("alice", time.Minute))
	c.allocate()
	e.clk.Advance(9 * time.Minute)
	r := c.roundTrip(c.allocateMsg(newTxID()))
	c.wantSuccess(r, msturn.AllocateResponse)
	if lt, _ := r.Uint32(msturn.AttrLifetime); lt != 180 {
		t.Fatalf("LIFETIME %d at 9 minutes, want the 180 s left of the maximum age", lt)
	}
	e.clk.Advance(3 * time.Minute)
	if rec := e.waitEnded(); rec.Relayed != c.relayed || rec.Reason != "max age" {
		t.Fatalf("record %+v, want the allocation ended at its maximum age", rec)
	}
	msWantError(t, c.roundTrip(c.allocateMsg(newTxID())), msturn.AllocateError, msturn.CodeUnknownUsername)
}
