package browser

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/avedge/avedge/internal/edgetest"
	"github.com/avedge/avedge/internal/server/stats"
)

const (
	// relayPortBase is the first relay port of this package
	// (35000-35999); each edge takes a block of relayPortBlock ports, so
	// that the 16 blocks below end within the range (35000-35991; with 64
	// they ran into e2e/libnice's 36000-36959).
	relayPortBase  = 35000
	relayPortBlock = 62
	// minMediaPackets is what the page waits for on each kind of media
	// (MIN_MEDIA_PACKETS in page.js).
	minMediaPackets = 20
)

// edgeBlock numbers the relay port blocks of the package's edges, so that
// tests running in parallel never share relay ports.
type edgeBlock int

// startEdge starts an edge on relay port block b.
func startEdge(t *testing.T, b edgeBlock, denyLoopback bool) *edgetest.Edge {
	t.Helper()
	lo, _ := b.ports()
	return edgetest.Start(t, edgetest.Options{
		RelayPortMin:      lo,
		RelayPorts:        relayPortBlock,
		DenyLoopbackPeers: denyLoopback,
	})
}

// ports is block b's relay port range.
func (b edgeBlock) ports() (lo, hi int) {
	lo = relayPortBase + int(b)*relayPortBlock
	return lo, lo + relayPortBlock - 1
}

// pageURL is the page's address asking /ice for transport, with extra
// query parameters.
func pageURL(app *webApp, transport string, extra url.Values) string {
	q := url.Values{"transport": {transport}}
	for k, v := range extra {
		q[k] = v
	}
	return app.URL + "?" + q.Encode()
}

// The relay port blocks of the tests' edges.
const (
	blockRelay        edgeBlock = 0  // 0-5: TestBrowserRelay
	blockWrongCreds   edgeBlock = 6  // 6-8: wrong credentials, per transport
	blockUntrustedTLS edgeBlock = 9  // 9: TLS certificate not trusted
	blockDeniedPeer   edgeBlock = 10 // 10-12: denied peer, per transport
	blockCallLasts    edgeBlock = 13 // 13-14: TestCallOutlivesCredential, udp and tcp
	blockCallStrict   edgeBlock = 15 // 15: TestCallOutlivesCredential, strict expiry
)

// TestBrowserRelay connects two RTCPeerConnections through the edge, relay
// only, over each transport, with data-channel messages and with
// fake-device audio and video.
func TestBrowserRelay(t *testing.T) {
	requireBrowser(t)
	type tc struct {
		transport, scenario string
		block               edgeBlock
	}
	var cases []tc
	for i, tr := range transports {
		for j, sc := range []string{"data", "media"} {
			cases = append(cases, tc{tr, sc, blockRelay + edgeBlock(2*i+j)})
		}
	}
	for _, c := range cases {
		t.Run(c.transport+"/"+c.scenario, func(t *testing.T) {
			t.Parallel()
			e := startEdge(t, c.block, false)
			app := startApp(t, e)
			args := []string{trustEdgeTLS(t, e)}
			before := e.Stats()
			res := runDriver(t, pageURL(app, c.transport, nil), c.scenario, args...)
			after := e.Stats()
			if !res.OK {
				t.Fatalf("page failed: %s (iceConnectionState %v, ICE errors %+v)", res.Error, res.ICEConnectionState, res.ICEErrors)
			}
			lo, hi := c.block.ports()
			relay := e.RelayAddr().String()
			for name, p := range map[string]*candidatePair{"pc1": res.Selected, "pc2": res.SelectedPC2} {
				checkRelayPair(t, name+" selected pair", p, relay, lo, hi, c.transport)
				if len(res.UsedPairs[name]) == 0 {
					t.Errorf("%s: no candidate pair carried bytes", name)
				}
				for i := range res.UsedPairs[name] {
					checkRelayPair(t, fmt.Sprintf("%s pair %d", name, i), &res.UsedPairs[name][i], relay, lo, hi, c.transport)
				}
			}
			switch c.scenario {
			case "data":
				if d := res.Data; d == nil || d.Sent == 0 || d.ReceivedBy1 != d.Sent || d.ReceivedBy2 != d.Sent {
					t.Errorf("data channel messages: %+v, want all received each way", d)
				}
			case "media":
				for _, kind := range []string{"audio", "video"} {
					if m := res.Media[kind]; m.PacketsReceived < minMediaPackets || m.BytesReceived == 0 {
						t.Errorf("%s inbound-rtp: %+v, want at least %d packets", kind, m, minMediaPackets)
					}
				}
			}
			checkRelayed(t, before, after, res)
		})
	}
}

// TestBrowserFailures provokes the failures a user of a misconfigured
// deployment meets and checks that the browser reports them as such and
// that the edge relayed nothing.
func TestBrowserFailures(t *testing.T) {
	requireBrowser(t)
	type tc struct {
		name, transport string
		block           edgeBlock
		denyLoopback    bool
		trustTLS        bool
		query           url.Values
		check           func(t *testing.T, res pageResult, d stats.Stats)
	}
	var cases []tc
	for i, tr := range transports {
		cases = append(cases, tc{
			name: "wrong-credentials/" + tr, transport: tr, block: blockWrongCreds + edgeBlock(i), trustTLS: true,
			query: url.Values{"credential": {"wrong"}},
			check: func(t *testing.T, res pageResult, d stats.Stats) {
				noRelayCandidate(t, res)
				if !has401(res.ICEErrors) {
					t.Errorf("ICE errors %+v: want a 401 from the relay", res.ICEErrors)
				}
				if d.Requests == 0 {
					t.Error("edge answered no request: the browser did not reach it")
				}
			},
		})
	}
	cases = append(cases, tc{
		name: "untrusted-certificate/tls", transport: "tls", block: blockUntrustedTLS,
		check: func(t *testing.T, res pageResult, d stats.Stats) {
			noRelayCandidate(t, res)
			if d.Stream.HandshakeFailed == 0 || d.Requests != 0 {
				t.Errorf("edge: %d failed TLS handshakes, %d requests: want the browser to refuse the handshake", d.Stream.HandshakeFailed, d.Requests)
			}
		},
	})
	for i, tr := range transports {
		cases = append(cases, tc{
			name: "denied-peer/" + tr, transport: tr, block: blockDeniedPeer + edgeBlock(i), denyLoopback: true, trustTLS: true,
			check: func(t *testing.T, res pageResult, d stats.Stats) {
				if res.RelayCandidates["pc1"] == 0 || res.RelayCandidates["pc2"] == 0 {
					t.Errorf("relay candidates %v: want allocations to succeed on both sides", res.RelayCandidates)
				}
				// Chromium 156 reports the refused permission as
				// connectionState "failed" (iceConnectionState goes
				// "disconnected") and may then go back to "connecting"
				// for a while: the page records that it failed.
				if !res.Failed["pc1"] || !res.Failed["pc2"] {
					t.Errorf("failed %v (states %q): want both connections failed", res.Failed, res.ICEStates)
				}
				t.Logf("edge dropped %d packets for want of a permission", d.Drops[stats.DropNoPermission])
			},
		})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := startEdge(t, c.block, c.denyLoopback)
			app := startApp(t, e)
			var args []string
			if c.trustTLS {
				args = append(args, trustEdgeTLS(t, e))
			}
			before := e.Stats()
			res := runDriver(t, pageURL(app, c.transport, c.query), "data", args...)
			d := delta(before, e.Stats())
			if res.OK {
				t.Fatalf("page connected: want a failure")
			}
			if res.Selected != nil && res.Selected.State == "succeeded" {
				t.Errorf("selected candidate pair %+v: want none succeeded", *res.Selected)
			}
			if d.ToPeerPackets != 0 || d.ToClientPackets != 0 {
				t.Errorf("edge relayed %d packets to peers, %d to clients: want none", d.ToPeerPackets, d.ToClientPackets)
			}
			c.check(t, res, d)
		})
	}
}

// noRelayCandidate checks that neither connection gathered a relay
// candidate.
func noRelayCandidate(t *testing.T, res pageResult) {
	t.Helper()
	if res.RelayCandidates["pc1"] != 0 || res.RelayCandidates["pc2"] != 0 {
		t.Errorf("relay candidates %v: want none", res.RelayCandidates)
	}
}

// has401 tells whether errs hold a 401 (Unauthorized) from the relay.
func has401(errs []iceError) bool {
	for _, e := range errs {
		if e.ErrorCode == 401 {
			return true
		}
	}
	return false
}

// checkRelayPair checks that p is a relay-to-relay pair on the edge's
// relayed address within [lo, hi], allocated over transport. (Bytes are
// checked on the transports: the selected pair may have changed just
// before the report and carried nothing yet.)
func checkRelayPair(t *testing.T, name string, p *candidatePair, relayAddr string, lo, hi int, transport string) {
	t.Helper()
	if p == nil || p.Local == nil || p.Remote == nil {
		t.Errorf("%s: no selected candidate pair: %+v", name, p)
		return
	}
	for side, c := range map[string]*candidate{"local": p.Local, "remote": p.Remote} {
		if c.CandidateType != "relay" || c.Address != relayAddr || c.Port < lo || c.Port > hi {
			t.Errorf("%s %s candidate %+v: want a relay candidate on %s:%d-%d", name, side, *c, relayAddr, lo, hi)
		}
	}
	if p.Local.RelayProtocol != transport {
		t.Errorf("%s local relayProtocol %q, want %q", name, p.Local.RelayProtocol, transport)
	}
}

// checkRelayed checks that bytes flowed both ways through each connection's
// transport, and that the edge's counters grew between before and after by
// at least what the connections received: relay only, every byte one of
// them received went out of the other's allocation to a peer (the other's
// relayed address) and from there to its client. (What they sent is no
// bound: a datagram may be lost on the way.)
func checkRelayed(t *testing.T, before, after stats.Stats, res pageResult) {
	t.Helper()
	var sent, received uint64
	for _, pc := range []string{"pc1", "pc2"} {
		b, ok := res.TransportBytes[pc]
		if !ok || b.BytesSent == 0 || b.BytesReceived == 0 {
			t.Errorf("%s transport: %+v: want bytes both ways", pc, b)
		}
		sent += b.BytesSent
		received += b.BytesReceived
	}
	d := delta(before, after)
	t.Logf("edge relayed %d packets / %d bytes to peers, %d packets / %d bytes to clients; pages sent %d bytes, received %d",
		d.ToPeerPackets, d.ToPeerBytes, d.ToClientPackets, d.ToClientBytes, sent, received)
	if d.ToPeerPackets == 0 || d.ToClientPackets == 0 {
		t.Errorf("edge relayed %d packets to peers, %d to clients: want both > 0", d.ToPeerPackets, d.ToClientPackets)
	}
	if d.ToPeerBytes < received || d.ToClientBytes < received {
		t.Errorf("edge relayed %d bytes to peers, %d to clients: want each at least the %d the connections received",
			d.ToPeerBytes, d.ToClientBytes, received)
	}
}

// delta is the growth of the relay counters from before to after.
func delta(before, after stats.Stats) stats.Stats {
	drops := after.Drops
	for i := range drops {
		drops[i] -= before.Drops[i]
	}
	return stats.Stats{
		Drops:           drops,
		ToPeerPackets:   after.ToPeerPackets - before.ToPeerPackets,
		ToPeerBytes:     after.ToPeerBytes - before.ToPeerBytes,
		ToClientPackets: after.ToClientPackets - before.ToClientPackets,
		ToClientBytes:   after.ToClientBytes - before.ToClientBytes,
		Requests:        after.Requests - before.Requests,
		Stream: stats.StreamStats{
			HandshakeFailed: after.Stream.HandshakeFailed - before.Stream.HandshakeFailed,
		},
	}
}
