package e2e

import (
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/avedge/avedge/internal/edgetest"
)

// selectedPair is the nominated, succeeded candidate pair of a peer's
// stats with its two candidates.
type selectedPair struct {
	pair          webrtc.ICECandidatePairStats
	local, remote webrtc.ICECandidateStats
}

// selectedPairOf finds the one nominated and succeeded candidate pair in
// p's stats (pion's transport stats do not name the selected pair).
func selectedPairOf(t *testing.T, p *peer) selectedPair {
	t.Helper()
	report := p.pc.GetStats()
	var found []selectedPair
	for _, s := range report {
		pair, ok := s.(webrtc.ICECandidatePairStats)
		if !ok || !pair.Nominated || pair.State != webrtc.StatsICECandidatePairStateSucceeded {
			continue
		}
		local, lok := report[pair.LocalCandidateID].(webrtc.ICECandidateStats)
		remote, rok := report[pair.RemoteCandidateID].(webrtc.ICECandidateStats)
		if !lok || !rok {
			t.Fatalf("pair %s: candidates %q and %q missing from the stats", pair.ID, pair.LocalCandidateID, pair.RemoteCandidateID)
		}
		found = append(found, selectedPair{pair: pair, local: local, remote: remote})
	}
	if len(found) != 1 {
		t.Fatalf("%d nominated and succeeded candidate pairs, want 1: %+v", len(found), found)
	}
	return found[0]
}

// check asserts that both candidates are relay candidates on the edge's
// relay address and ports, that the local one reached the edge over
// relayProtocol, and that bytes flowed both ways.
func (sp selectedPair) check(t *testing.T, e *edgetest.Edge, ports edgetest.RelayRange, relayProtocol string) {
	t.Helper()
	for _, c := range []webrtc.ICECandidateStats{sp.local, sp.remote} {
		if c.CandidateType != webrtc.ICECandidateTypeRelay || c.IP != e.RelayAddr().String() || !ports.Contains(int(c.Port)) {
			t.Errorf("%s candidate %s %s:%d, want relay on %v ports %d-%d",
				c.Type, c.CandidateType, c.IP, c.Port, e.RelayAddr(), ports.Min, ports.Max)
		}
	}
	if sp.local.RelayProtocol != relayProtocol {
		t.Errorf("local relay protocol %q, want %q", sp.local.RelayProtocol, relayProtocol)
	}
	if sp.pair.BytesSent == 0 || sp.pair.BytesReceived == 0 {
		t.Errorf("pair sent %d and received %d bytes, want both > 0", sp.pair.BytesSent, sp.pair.BytesReceived)
	}
}
