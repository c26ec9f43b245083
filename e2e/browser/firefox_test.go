package browser

import (
	"fmt"
	"testing"

	"github.com/avedge/avedge/internal/edgetest"
	"github.com/avedge/avedge/internal/server/stats"
)

// firefoxEdges hands out the relay ports of the Firefox test's edges,
// 39000-39255, one block of 64 per page (35000-35999 are the Chromium
// tests' blocks, 38000-38999 e2e/acme's).
var firefoxEdges = edgetest.PortBlocks{Base: 39000, Size: 64, Count: 4}

// firefoxTransports maps the transports of the page to the edge's client
// transports.
var firefoxTransports = map[string]stats.Transport{
	"udp": stats.TransportUDP,
	"tcp": stats.TransportTCP,
	"tls": stats.TransportTLS,
}

// TestFirefoxRelay connects two RTCPeerConnections in headless Firefox ESR
// through the edge, relay only, over each transport, and exchanges
// data-channel messages both ways; over TLS to an edge whose CA the profile
// does not trust, it checks that Firefox refuses the handshake. Each page
// has its own edge, so that the edge's counters tell what that page's
// connections did; one Firefox runs the pages one after the other.
func TestFirefoxRelay(t *testing.T) {
	requireFirefox(t)
	type page struct {
		name, transport string
		trusted         bool
		edge            *edgetest.Edge
		ports           edgetest.RelayRange
		before          stats.Stats
	}
	var pages []*page
	for _, tr := range transports {
		pages = append(pages, &page{name: tr, transport: tr, trusted: true})
	}
	pages = append(pages, &page{name: "untrusted-certificate/tls", transport: "tls"})
	var (
		urls    []string
		trusted []*edgetest.Edge
	)
	for _, p := range pages {
		p.edge, p.ports = firefoxEdges.Start(t, false)
		urls = append(urls, pageURL(startApp(t, p.edge), p.transport, nil))
		if p.trusted {
			trusted = append(trusted, p.edge)
		}
	}
	profile := firefoxProfile(t, trusted...)
	for _, p := range pages {
		p.before = p.edge.Stats()
	}
	results := runFirefox(t, profile, "data", urls...)
	for i, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			res, after := results[i], p.edge.Stats()
			if !p.trusted {
				checkUntrusted(t, res, delta(p.before, after))
				return
			}
			if !res.OK {
				t.Fatalf("page failed: %s (iceConnectionState %v, ICE errors %+v, states %q)",
					res.Error, res.ICEConnectionState, res.ICEErrors, res.ICEStates)
			}
			relay := p.edge.RelayAddr().String()
			for name, pair := range map[string]*candidatePair{"pc1": res.Selected, "pc2": res.SelectedPC2} {
				checkRelayPair(t, name+" selected pair", pair, relay, p.ports.Min, p.ports.Max, p.transport)
				if len(res.UsedPairs[name]) == 0 {
					t.Errorf("%s: no candidate pair carried bytes", name)
				}
				for j := range res.UsedPairs[name] {
					checkRelayPair(t, fmt.Sprintf("%s pair %d", name, j), &res.UsedPairs[name][j], relay, p.ports.Min, p.ports.Max, p.transport)
				}
			}
			if d := res.Data; d == nil || d.Sent == 0 || d.ReceivedBy1 != d.Sent || d.ReceivedBy2 != d.Sent {
				t.Errorf("data channel messages: %+v, want all received each way", d)
			}
			// Firefox ESR 153 reports no RTCTransportStats (type
			// "transport"): what the transports carried is the sum over
			// their candidate pairs.
			res.TransportBytes = map[string]byteCount{"pc1": pairBytes(res.UsedPairs["pc1"]), "pc2": pairBytes(res.UsedPairs["pc2"])}
			checkRelayed(t, p.before, after, res)
			checkAllocatedOver(t, p.before, after, firefoxTransports[p.transport])
		})
	}
}

// checkUntrusted checks that a page whose relay's certificate Firefox does
// not trust gathered no relay candidate, and that the edge saw failed
// handshakes, no request and relayed nothing (d: the edge's counters'
// growth).
func checkUntrusted(t *testing.T, res pageResult, d stats.Stats) {
	t.Helper()
	if res.OK {
		t.Fatal("page connected: want no relay candidate")
	}
	noRelayCandidate(t, res)
	if d.Stream.HandshakeFailed == 0 || d.Requests != 0 {
		t.Errorf("edge: %d failed TLS handshakes, %d requests: want Firefox to refuse the handshake", d.Stream.HandshakeFailed, d.Requests)
	}
	if d.ToPeerPackets != 0 || d.ToClientPackets != 0 {
		t.Errorf("edge relayed %d packets to peers, %d to clients: want none", d.ToPeerPackets, d.ToClientPackets)
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
