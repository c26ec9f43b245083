package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/server/stats"
)

// callTimeout bounds each call.
const callTimeout = 30 * time.Second

// TestRelayOnlyCall: two relay-only PeerConnections with credentials from
// the edge's credential service connect through the edge over TURN over
// UDP, TCP and TLS, exchange 20 data channel messages each way in order
// and one second of audio and video; the selected pair is a relay pair on
// the edge's relay ports reached over the expected protocol, and the
// edge's counters account for what arrived.
func TestRelayOnlyCall(t *testing.T) {
	for _, tc := range []struct {
		transport, relayProtocol string
	}{
		{"udp", "udp"},
		{"tcp", "tcp"},
		{"tls", "tls"},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			e, ports := startEdge(t, false)
			api := newAPI(t, e, tc.transport, callTimeouts)
			caller := newPeer(t, api, e.ICEServers(t, "caller", tc.transport))
			callee := newPeer(t, api, e.ICEServers(t, "callee", tc.transport))
			callerEnd, calleeEnd := openDataChannel(t, caller, callee)
			tracks := addTracks(t, caller)
			received := receiveMedia(callee)

			connect(ctx, t, caller, callee)
			for _, p := range []*peer{caller, callee} {
				if c := p.relayCandidates(); len(c) != 1 {
					t.Fatalf("relay candidates %q, want one", c)
				}
			}
			wait(ctx, t, caller.connected, "the caller to connect")
			wait(ctx, t, callee.connected, "the callee to connect")
			tracks.send(ctx, t)
			var ends [2]*channelEnd
			for i, ch := range []<-chan *channelEnd{callerEnd, calleeEnd} {
				select {
				case ends[i] = <-ch:
				case <-ctx.Done():
					t.Fatal("the callee got no data channel")
				}
			}
			dcBytes := ends[0].expect(ctx, t, "answerer") + ends[1].expect(ctx, t, "offerer")
			rtpPackets, rtpBytes := received.wait(ctx, t)

			var pairPackets, pairBytes uint64
			for _, p := range []*peer{caller, callee} {
				sp := selectedPairOf(t, p)
				sp.check(t, e, ports, tc.relayProtocol)
				pairPackets += uint64(sp.pair.PacketsReceived)
				pairBytes += sp.pair.BytesReceived
			}
			// Both peers' relayed addresses are on this edge, so every
			// datagram one peer sends the other crosses it twice: from
			// the sender's TURN client to its relay port, counted as to
			// a peer (the other relay port), and from that relay port to
			// the receiver's TURN client, counted as to a client. What
			// the peers received on the selected pair, each RTP packet
			// the callee read (one SRTP datagram each, larger than the
			// RTP packet) and at least one SCTP packet each way for the
			// messages therefore passed both counters, which may lag by a
			// round of the relay's packet loop.
			minPackets := max(pairPackets, uint64(rtpPackets)+2)
			minBytes := max(pairBytes, uint64(rtpBytes)+uint64(dcBytes))
			st := e.WaitStats(t, func(st stats.Stats) bool {
				return st.ToPeerPackets >= minPackets && st.ToClientPackets >= minPackets &&
					st.ToPeerBytes >= minBytes && st.ToClientBytes >= minBytes
			})
			if st.Allocations != 2 {
				t.Errorf("%d allocations, want the two peers'", st.Allocations)
			}
			t.Logf("received %d RTP packets (%d bytes), %d message bytes; pairs received %d packets; edge relayed %d/%d packets to peers/clients",
				rtpPackets, rtpBytes, dcBytes, pairPackets, st.ToPeerPackets, st.ToClientPackets)
		})
	}
}
