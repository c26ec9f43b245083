package probe

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// TestRelayResults covers the outcomes of a relay test that a loopback
// edge cannot produce: loss, and a relay port unreachable from the peer.
func TestRelayResults(t *testing.T) {
	relayed := netip.MustParseAddrPort("198.51.100.7:50001")
	ms := time.Millisecond
	for _, tc := range []struct {
		name      string
		test      relayTest
		rt, ports Status
		text      string
	}{
		{"all through", relayTest{hello: true, toPeer: 5, toClient: 5, rtts: []time.Duration{ms, 2 * ms, 3 * ms, 4 * ms, 5 * ms}},
			Pass, Pass, "rtt min/avg/max 1ms/3ms/5ms, loss 0%"},
		{"loss", relayTest{hello: true, toPeer: 4, toClient: 3, rtts: []time.Duration{ms, ms, ms}}, Warn, Pass, "loss 40%"},
		{"peer leg blocked", relayTest{toPeer: 5}, Fail, Fail, "relay ports (50000–59999 UDP) not reachable from the peer's network"},
		{"nothing through", relayTest{}, Fail, Fail, "did not deliver to the peer"},
		{"denied", relayTest{refusal: stun.CodeForbidden, permitted: netip.MustParseAddr("10.1.2.3"), err: errors.New("403")}, Fail, Skip,
			"the edge's peer policy refuses this address (10.1.2.3)"},
		{"family", relayTest{refusal: stun.CodePeerAddrFamilyMismatch, permitted: netip.MustParseAddr("::1"), err: errors.New("443")},
			Fail, Skip, "give a --peer-address of the family of 198.51.100.7"},
		{"other refusal", relayTest{err: errors.New("timeout")}, Fail, Skip, "see the allocate check"},
	} {
		rt, ports := relayResults("udp 198.51.100.7:3478", relayed, tc.test)
		if rt.Status != tc.rt || ports.Status != tc.ports {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, rt.Status, ports.Status, tc.rt, tc.ports)
		}
		if all := rt.Detail + rt.Remedy + ports.Detail + ports.Remedy; !strings.Contains(all, tc.text) {
			t.Errorf("%s: %q, want %q", tc.name, all, tc.text)
		}
	}
}

// TestPeerAddress: with --peer-address the peer binds to that address and
// the permission is for it.
func TestPeerAddress(t *testing.T) {
	e := startEdge(t, edgeConfig{})
	r := probe(t, Options{URIs: e.uris()[:1], Credentials: credential(t, testSecret, time.Now().Add(time.Hour)),
		PeerAddress: netip.MustParseAddr("127.0.0.2")})
	check(t, r, []want{
		{"round-trip udp", Pass, "to peer 127.0.0.2:"},
		{"relay-port udp", Pass, ""},
	})
}
