package server

import (
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// relayDF reads back from the kernel whether each relay socket of c's
// allocation sends with DF.
func (e *testEdge) relayDF(c *client) []bool {
	e.t.Helper()
	var df []bool
	for _, conn := range e.relaySockets(c.addr()) {
		on, err := conn.DontFragment()
		if err != nil {
			e.t.Fatal(err)
		}
		df = append(df, on)
	}
	return df
}

// TestDontFragment: DONT-FRAGMENT is honoured, not refused with 420 (RFC
// 8656 §7.2 step 4, §11.2): asked for in the Allocate, every relay socket of
// the allocation sends with DF (IP_MTU_DISCOVER=IP_PMTUDISC_DO, or
// IPV6_DONTFRAG); asked for in a Send indication, the relay socket it goes
// out on does from then on.
func TestDontFragment(t *testing.T) {
	requireIPv6(t)
	e := newTestEdge(t, withIPv6)
	u, p := e.credential("alice", time.Hour)
	for _, tc := range []struct {
		name  string
		attrs []stun.Setter
		want  []bool
	}{
		{"ipv4", []stun.Setter{stunproto.DontFragment{}}, []bool{true}},
		{"ipv6", []stun.Setter{stunproto.DontFragment{}, askIPv6}, []bool{true}},
		{"dual", []stun.Setter{stunproto.DontFragment{}, alsoIPv6}, []bool{true, true}},
		{"reserved pair", []stun.Setter{stunproto.DontFragment{}, stunproto.EvenPort{ReservePort: true}}, []bool{true}},
		{"not asked", nil, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.newClient(u, p)
			c.allocateAll(tc.attrs...)
			got := e.relayDF(c)
			if len(got) != len(tc.want) {
				t.Fatalf("%d relay sockets, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("relay sockets send with DF: %v, want %v", got, tc.want)
				}
			}
		})
	}

	t.Run("send indication", func(t *testing.T) {
		c := e.newClient(u, p)
		relayed, _ := c.allocateAll(alsoIPv6)
		p4, p6 := newPeer(t, "127.0.0.1"), newPeer(t, "::1")
		wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(p4.addr()), peerAttr(p6.addr())), 0)
		sendIndication(t, c, p4, relayed[0])
		if got := e.relayDF(c); got[0] || got[1] {
			t.Fatalf("DF set without being asked: %v", got)
		}
		sendIndication(t, c, p6, relayed[1], stunproto.DontFragment{})
		if got := e.relayDF(c); got[0] || !got[1] {
			t.Fatalf("after a Send with DONT-FRAGMENT to the IPv6 peer, DF is %v, want [false true]", got)
		}
		sendIndication(t, c, p4, relayed[0], stunproto.DontFragment{})
		if got := e.relayDF(c); !got[0] || !got[1] {
			t.Fatalf("after a Send with DONT-FRAGMENT to the IPv4 peer, DF is %v, want [true true]", got)
		}
	})

	t.Run("malformed in a send indication", func(t *testing.T) {
		c := e.newClient(u, p)
		relayed := c.allocate()
		pr := newPeer(t, "127.0.0.1")
		wantCode(t, c.do(stun.MethodCreatePermission, peerAttr(pr.addr())), 0)
		before := e.srv.Stats().Dropped(stats.DropBadIndication)
		c.send(stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication), peerAttr(pr.addr()),
			stunproto.Data("x"), stun.RawAttribute{Type: stun.AttrDontFragment, Value: []byte{1}}, stun.Fingerprint).Raw)
		sendIndication(t, c, pr, relayed) // arrives; the malformed one did not
		if got := e.srv.Stats().Dropped(stats.DropBadIndication) - before; got != 1 {
			t.Fatalf("bad_indication drops went up by %d, want 1", got)
		}
	})
}
