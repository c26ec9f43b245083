package libnice

import (
	"testing"

	"github.com/avedge/avedge/internal/server/stats"
)

// TestWrongPassword: with the right username and a wrong password, the
// edge refuses each agent's authenticated Allocate (431, counted as a bad
// integrity), so neither agent gathers a relayed candidate, and the edge
// allocates and relays nothing.
func TestWrongPassword(t *testing.T) {
	t.Parallel()
	for _, rt := range relayTypes {
		t.Run(rt.name, func(t *testing.T) {
			t.Parallel()
			e, _ := startEdge(t, false)
			cred := e.Credentials(t, "alice")
			res := runAgents(t, rt, rt.listener(e), cred.Username, "x"+cred.Password)
			if res.Outcome != outcomeNoRelay {
				t.Errorf("outcome %q, want %q", res.Outcome, outcomeNoRelay)
			}
			for i, a := range res.Agents {
				if a.RelayCandidates != 0 || a.Selected != nil {
					t.Errorf("agent %d: %d relayed candidates, selected pair %+v; want none", i, a.RelayCandidates, a.Selected)
				}
			}
			st := e.Stats()
			// One refused Allocate per agent at least: over UDP libnice
			// retransmits it, as the 431 carries no MESSAGE-INTEGRITY.
			if n := st.Authenticated(stats.AuthBadIntegrity); n < 2 {
				t.Errorf("%d bad-integrity authentications, want at least 2 (auth results %v)", n, st.Auth)
			}
			if n := st.Authenticated(stats.AuthOK); n != 0 {
				t.Errorf("%d successful authentications with a wrong password", n)
			}
			if mine, others := created(st, rt.transport); mine+others != 0 || st.Allocations != 0 {
				t.Errorf("%d allocations created, %d live; want none", mine+others, st.Allocations)
			}
			if st.ToPeerPackets != 0 || st.ToClientPackets != 0 {
				t.Errorf("relayed %d packets to peers and %d to clients, want none", st.ToPeerPackets, st.ToClientPackets)
			}
		})
	}
}

// TestDeniedPeer: on an edge whose peer policy refuses loopback peers,
// both agents allocate a relayed address, but the edge refuses every Send
// to the other agent's relayed address (on loopback), so no check gets
// through: the agents never become READY (libnice marks the component
// failed, or the deadline passes) and the edge relays nothing.
func TestDeniedPeer(t *testing.T) {
	t.Parallel()
	for _, rt := range relayTypes {
		t.Run(rt.name, func(t *testing.T) {
			t.Parallel()
			e, _ := startEdge(t, true)
			cred := e.Credentials(t, "alice")
			res := runAgents(t, rt, rt.listener(e), cred.Username, cred.Password)
			if res.Outcome != outcomeFailed && res.Outcome != outcomeTimeout {
				t.Errorf("outcome %q, want %q or %q", res.Outcome, outcomeFailed, outcomeTimeout)
			}
			for i, a := range res.Agents {
				if a.RelayCandidates != rt.relays {
					t.Errorf("agent %d: %d relayed candidates, want %d", i, a.RelayCandidates, rt.relays)
				}
				if a.State == "ready" || a.State == "connected" || a.Selected != nil || a.Received != 0 {
					t.Errorf("agent %d: state %q, selected pair %+v, %d messages received; want no connection",
						i, a.State, a.Selected, a.Received)
				}
			}
			st := e.Stats()
			if mine, others := created(st, rt.transport); mine != 2 || others != 0 {
				t.Errorf("allocations created: %d over %s and %d over other transports, want 2 and 0", mine, rt.transport, others)
			}
			if n := st.Refused(stats.RefusedPeerDenied); n < 2 {
				t.Errorf("%d requests refused for the peer policy, want at least one Send per agent", n)
			}
			if st.ToPeerPackets != 0 || st.ToClientPackets != 0 {
				t.Errorf("relayed %d packets to peers and %d to clients, want none", st.ToPeerPackets, st.ToClientPackets)
			}
		})
	}
}
