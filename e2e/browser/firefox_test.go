package browser

import (
	"fmt"
	"testing"

	"github.com/avedge/avedge/internal/edgetest"
	"github.com/avedge/avedge/internal/server/stats"
)

// firefoxEdges hands out the relay ports of the Firefox test's edges,
// 38000-38191, one block of 64 per transport: 35000-35999 are taken by the
// Chromium tests' blocks.
var firefoxEdges = edgetest.PortBlocks{Base: 38000, Size: 64, Count: 3}

// firefoxTransports maps the transports of the page to the edge's client
// transports.
var firefoxTransports = map[string]stats.Transport{
	"udp": stats.TransportUDP,
	"tcp": stats.TransportTCP,
	"tls": stats.TransportTLS,
}

// TestFirefoxRelay connects two RTCPeerConnections in headless Firefox ESR
// through the edge, relay only, over each transport, and exchanges
// data-channel messages both ways. Each transport has its own edge, so that
// the edge's counters tell what that transport's connections did; one
// Firefox runs the three pages one after the other.
func TestFirefoxRelay(t *testing.T) {
	requireFirefox(t)
	type run struct {
		edge   *edgetest.Edge
		ports  edgetest.RelayRange
		before stats.Stats
	}
	runs := make([]run, len(transports))
	pages := make([]string, len(transports))
	edges := make([]*edgetest.Edge, len(transports))
	for i, tr := range transports {
		e, ports := firefoxEdges.Start(t, false)
		runs[i] = run{edge: e, ports: ports}
		edges[i] = e
		pages[i] = pageURL(startApp(t, e), tr, nil)
	}
	profile := firefoxProfile(t, edges...)
	for i := range runs {
		runs[i].before = runs[i].edge.Stats()
	}
	results := runFirefox(t, profile, "data", pages...)
	for i, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			r, res := runs[i], results[i]
			after := r.edge.Stats()
			if !res.OK {
				t.Fatalf("page failed: %s (iceConnectionState %v, ICE errors %+v, states %q)",
					res.Error, res.ICEConnectionState, res.ICEErrors, res.ICEStates)
			}
			relay := r.edge.RelayAddr().String()
			for name, p := range map[string]*candidatePair{"pc1": res.Selected, "pc2": res.SelectedPC2} {
				checkRelayPair(t, name+" selected pair", p, relay, r.ports.Min, r.ports.Max, tr)
				if len(res.UsedPairs[name]) == 0 {
					t.Errorf("%s: no candidate pair carried bytes", name)
				}
				for j := range res.UsedPairs[name] {
					checkRelayPair(t, fmt.Sprintf("%s pair %d", name, j), &res.UsedPairs[name][j], relay, r.ports.Min, r.ports.Max, tr)
				}
			}
			if d := res.Data; d == nil || d.Sent == 0 || d.ReceivedBy1 != d.Sent || d.ReceivedBy2 != d.Sent {
				t.Errorf("data channel messages: %+v, want all received each way", d)
			}
			// Firefox ESR 153 reports no RTCTransportStats (type
			// "transport"): what the transports carried is the sum over
			// their candidate pairs.
			res.TransportBytes = map[string]byteCount{"pc1": pairBytes(res.UsedPairs["pc1"]), "pc2": pairBytes(res.UsedPairs["pc2"])}
			checkRelayed(t, r.before, after, res)
			checkAllocatedOver(t, r.before, after, firefoxTransports[tr])
		})
	}
}

// checkAllocatedOver checks that the allocations the edge made between
// before and after were all made over the client transport want (RFC
// dialect, UDP relayed over IPv4), one at least for each connection.
func checkAllocatedOver(t *testing.T, before, after stats.Stats, want stats.Transport) {
	t.Helper()
	for k := range after.AllocationsCreated {
		kind := stats.AllocationKind(k)
		n := after.AllocationsCreated[k] - before.AllocationsCreated[k]
		if kind == stats.KindOf(stats.DialectRFC, want, stats.RelayUDP, stats.FamilyIPv4) {
			if n < 2 {
				t.Errorf("edge created %d %s allocations, want one per connection at least", n, want)
			}
			continue
		}
		if n != 0 {
			t.Errorf("edge created %d allocations of %s dialect over %s (relayed %s, %s), want %s only",
				n, kind.Dialect(), kind.Transport(), kind.Relay(), kind.Family(), want)
		}
	}
}

// pairBytes sums the bytes of candidate pairs.
func pairBytes(pairs []candidatePair) byteCount {
	var b byteCount
	for _, p := range pairs {
		b.BytesSent += p.BytesSent
		b.BytesReceived += p.BytesReceived
	}
	return b
}
