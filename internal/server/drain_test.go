package server

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/stunproto"
)

// run runs e's server and returns the channel Run's result arrives on.
func (e *testEdge) run() <-chan error {
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(context.Background()) }()
	return done
}

// waitRun returns what Run returned, failing if it does not return.
func waitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(ioTimeout):
		t.Fatal("Run did not return")
		return nil
	}
}

// running fails the test if Run has returned.
func running(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("Run returned %v while an allocation is live", err)
	default:
	}
}

// sendTo sends data to peer through c's allocation with a Send indication.
func (c *client) sendTo(peer netip.AddrPort, data string) {
	c.t.Helper()
	c.send(stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		peerAttr(peer), stunproto.Data(data), stun.Fingerprint).Raw)
}

// TestDrain: while draining, a live allocation keeps refreshing, creating
// permissions and relaying; a new unauthenticated Allocate gets the usual
// 401 without ALTERNATE-SERVER; an authenticated one gets a signed 300
// with the sibling of the listener's family; Run returns once the last
// allocation is deleted (Refresh 0).
func TestDrain(t *testing.T) {
	sibling := netip.MustParseAddrPort("127.0.0.9:3478")
	e := newStoppedEdge(t, func(o *Options) {
		o.AlternateServers = []netip.AddrPort{netip.MustParseAddrPort("[2001:db8::8]:3478"), sibling}
	})
	done := e.run()
	u, p := e.credential("alice", time.Hour)
	live := e.newClient(u, p)
	relayed := live.allocate()
	p1, p2 := newPeer(t, "127.0.0.1"), newPeer(t, "127.0.0.2")
	wantCode(t, live.do(stun.MethodCreatePermission, peerAttr(p1.addr())), 0)

	e.srv.Drain()
	e.srv.Drain() // idempotent
	if !e.srv.env.drain.on.Load() {
		t.Fatal("not draining after Drain")
	}

	fresh := e.newClient(u, p)
	r := fresh.roundTrip(fresh.build(stun.MethodAllocate, udpTransport))
	wantCode(t, r, stun.CodeUnauthorized)
	if r.Contains(stun.AttrAlternateServer) {
		t.Fatal("ALTERNATE-SERVER sent to an unauthenticated request")
	}
	r = fresh.do(stun.MethodAllocate, udpTransport)
	wantCode(t, r, stun.CodeTryAlternate)
	var alt stun.AlternateServer
	if err := alt.GetFrom(r); err != nil {
		t.Fatalf("ALTERNATE-SERVER: %v", err)
	}
	if got, _ := netip.AddrFromSlice(alt.IP); netip.AddrPortFrom(got.Unmap(), uint16(alt.Port)) != sibling {
		t.Fatalf("ALTERNATE-SERVER %v:%d, want %v", alt.IP, alt.Port, sibling)
	}
	if !r.Contains(stun.AttrMessageIntegrity) {
		t.Fatal("300 not signed")
	}

	wantCode(t, live.do(stun.MethodRefresh, stunproto.Lifetime{Duration: time.Minute}), 0)
	wantCode(t, live.do(stun.MethodCreatePermission, peerAttr(p2.addr())), 0)
	for _, pp := range []*peer{p1, p2} {
		live.sendTo(pp.addr(), "during drain")
		if got, from := pp.read(); string(got) != "during drain" || from != relayed {
			t.Fatalf("peer got %q from %v, want the payload from %v", got, from, relayed)
		}
	}
	running(t, done)

	wantCode(t, live.do(stun.MethodRefresh, stunproto.Lifetime{}), 0)
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rec := e.waitEnded(); rec.Reason != "refresh 0" {
		t.Fatalf("record reason %q, want refresh 0", rec.Reason)
	}
}

// TestDrainRefusal: the answer to an authenticated Allocate while
// draining (with one allocation live, so that the drain goes on) depends
// on the siblings of the listener's family.
func TestDrainRefusal(t *testing.T) {
	for _, tc := range []struct {
		name       string
		alternates []string
		code       stun.ErrorCode
		reason     string
		alt        string
	}{
		{"no siblings", nil, stun.CodeInsufficientCapacity, "draining", ""},
		{"IPv6 sibling only", []string{"[2001:db8::8]:3478"}, stun.CodeInsufficientCapacity, "draining", ""},
		{"first IPv4 sibling", []string{"[2001:db8::8]:3478", "198.51.100.8:3478", "198.51.100.9:3478"},
			stun.CodeTryAlternate, "Try Alternate", "198.51.100.8:3478"},
		{"IPv4-mapped sibling", []string{"[::ffff:198.51.100.7]:3479"}, stun.CodeTryAlternate, "Try Alternate", "198.51.100.7:3479"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEdge(t, func(o *Options) {
				for _, a := range tc.alternates {
					o.AlternateServers = append(o.AlternateServers, netip.MustParseAddrPort(a))
				}
			})
			u, p := e.credential("alice", time.Hour)
			e.newClient(u, p).allocate() // keeps the server draining
			e.srv.Drain()
			r := e.newClient(u, p).do(stun.MethodAllocate, udpTransport)
			var ec stun.ErrorCodeAttribute
			if err := ec.GetFrom(r); err != nil || ec.Code != tc.code || string(ec.Reason) != tc.reason {
				t.Fatalf("ERROR-CODE %d %q (%v), want %d %q", ec.Code, ec.Reason, err, tc.code, tc.reason)
			}
			var alt stun.AlternateServer
			err := alt.GetFrom(r)
			switch {
			case tc.alt == "" && err == nil:
				t.Fatalf("ALTERNATE-SERVER %v:%d, want none", alt.IP, alt.Port)
			case tc.alt != "" && err != nil:
				t.Fatalf("ALTERNATE-SERVER: %v", err)
			case tc.alt != "":
				ip, _ := netip.AddrFromSlice(alt.IP)
				if got := netip.AddrPortFrom(ip.Unmap(), uint16(alt.Port)).String(); got != tc.alt {
					t.Fatalf("ALTERNATE-SERVER %s, want %s", got, tc.alt)
				}
			}
			if !r.Contains(stun.AttrMessageIntegrity) {
				t.Fatal("refusal of an authenticated request is not signed")
			}
		})
	}
}

// TestDrainIdle: a drain without allocations ends Run at once, also when
// Drain came before Run.
func TestDrainIdle(t *testing.T) {
	e := newStoppedEdge(t, nil)
	e.srv.Drain()
	if err := waitRun(t, e.run()); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestDrainTimeout: allocations still live at the drain timeout are ended
// with reason "drain timeout" and Run returns.
func TestDrainTimeout(t *testing.T) {
	e := newStoppedEdge(t, func(o *Options) { o.DrainTimeout = 50 * time.Millisecond })
	done := e.run()
	u, p := e.credential("alice", time.Hour)
	relayed := e.newClient(u, p).allocate()
	e.srv.Drain()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rec := e.waitEnded(); rec.Reason != "drain timeout" || rec.Relayed != relayed {
		t.Fatalf("record %+v, want reason drain timeout for %v", rec, relayed)
	}
}
