package libnice

import (
	"testing"

	"github.com/avedge/avedge/internal/server/stats"
)

// TestRelayToRelay: over TURN over UDP, TCP and pseudo-TLS, two libnice
// agents that know only each other's relayed candidates both become READY
// on a relayed-to-relayed pair whose addresses are the edge's relay ports,
// and every message reaches the other agent. The edge made exactly the two
// allocations, of the relay type's client transport, relayed at least the
// messages both ways, and holds no allocation once the agents closed.
func TestRelayToRelay(t *testing.T) {
	t.Parallel()
	for _, rt := range relayTypes {
		t.Run(rt.name, func(t *testing.T) {
			t.Parallel()
			e, ports := startEdge(t, false)
			cred := e.Credentials(t, "alice")
			res := runAgents(t, rt, rt.listener(e), cred.Username, cred.Password)
			if res.Outcome != outcomeOK {
				t.Errorf("outcome %q, want %q", res.Outcome, outcomeOK)
			}
			for i, a := range res.Agents {
				if a.State != "ready" {
					t.Errorf("agent %d: state %q, want ready", i, a.State)
				}
				if a.RelayCandidates != rt.relays {
					t.Errorf("agent %d: %d relayed candidates, want %d", i, a.RelayCandidates, rt.relays)
				}
				if a.Received != messages || a.Duplicates != 0 || a.SendErrors != 0 {
					t.Errorf("agent %d: received %d messages (%d duplicates, %d send errors), want %d",
						i, a.Received, a.Duplicates, a.SendErrors, messages)
				}
				if a.Stray > 0 {
					// Over TCP libnice does not match the answers to its
					// deallocation and hands one to the application as
					// 259 bytes (0x0103, the Allocate success type, read
					// as an RFC 4571 length); it sometimes passes up an
					// ICE check too.
					t.Logf("agent %d: %d stray payloads", i, a.Stray)
				}
				checkRelayPair(t, i, a.Selected, rt, e.RelayAddr().String(), ports)
			}
			if p0, p1 := res.Agents[0].Selected, res.Agents[1].Selected; p0 != nil && p1 != nil &&
				(p0.Local.Addr != p1.Remote.Addr || p1.Local.Addr != p0.Remote.Addr) {
				t.Errorf("selected pairs %+v and %+v do not mirror each other", *p0, *p1)
			}
			// Each agent's messages go client to peer through its own
			// allocation and peer to client through the other's; ICE
			// checks and keepalives come on top.
			st := e.WaitStats(t, func(st stats.Stats) bool {
				return st.ToPeerPackets >= 2*messages && st.ToClientPackets >= 2*messages
			})
			if mine, others := created(st, rt.transport); mine != 2 || others != 0 {
				t.Errorf("allocations created: %d over %s and %d over other transports, want 2 and 0 (%+v)",
					mine, rt.transport, others, st.AllocationsCreated)
			}
			if ok := st.Authenticated(stats.AuthOK); ok < 2 {
				t.Errorf("%d authenticated requests, want at least the two Allocates", ok)
			}
			e.WaitStats(t, func(st stats.Stats) bool { return st.Allocations == 0 })
		})
	}
}

// checkRelayPair checks the selected pair of agent i: relayed on both
// sides, with transports that fit rt, and addresses on the edge's relay
// address and port range.
func checkRelayPair(t *testing.T, i int, p *pair, rt relayType, relayIP string, ports relayRange) {
	t.Helper()
	if p == nil {
		t.Errorf("agent %d: no selected pair", i)
		return
	}
	if p.Local.Type != "relay" || p.Remote.Type != "relay" {
		t.Errorf("agent %d: selected pair %s <-> %s, want relay <-> relay", i, p.Local.Type, p.Remote.Type)
	}
	if !rt.pairTransports(p.Local.Transport, p.Remote.Transport) {
		t.Errorf("agent %d: selected pair transports %s <-> %s over %s", i, p.Local.Transport, p.Remote.Transport, rt.name)
	}
	for _, c := range []candidate{p.Local, p.Remote} {
		a := c.addrPort(t)
		if a.Addr().String() != relayIP || !ports.contains(a.Port()) {
			t.Errorf("agent %d: relayed address %v, want %s:%d-%d", i, a, relayIP, ports.min, ports.max)
		}
	}
}
