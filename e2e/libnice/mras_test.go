package libnice

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/avedge/avedge/internal/credsvc"
	"github.com/avedge/avedge/internal/server/stats"
)

// TestMRASCredentials: a front end asks the edge's credential service for
// a user's relay credentials with MRAS (SIP SERVICE over mutual TLS,
// [MS-AVEDGEA]); the base64 username and password of the answer, handed
// to libnice as they are, authenticate its MS-TURN Allocates, and its two
// agents complete ICE relay to relay through the relays the answer names,
// over UDP and pseudo-TLS.
func TestMRASCredentials(t *testing.T) {
	t.Parallel()
	e, ports := startEdge(t, false)
	cred := e.MRAS(t, "sip:alice@example.com")
	if cred.Minutes != 480 || cred.Realm != e.Realm {
		t.Errorf("duration %d minutes, realm %q; want 480 and %q", cred.Minutes, cred.Realm, e.Realm)
	}
	// The media relays for internet clients: where the UDP and the TCP
	// (TLS, which also takes pseudo-TLS) listeners are.
	var udp, tcp []int
	for _, rl := range cred.Relays {
		if rl.Location != credsvc.Internet {
			t.Errorf("relay %+v for another location", rl)
		}
		if rl.UDPPort != 0 {
			udp = append(udp, rl.UDPPort)
		}
		if rl.TCPPort != 0 {
			tcp = append(tcp, rl.TCPPort)
		}
	}
	if fmt.Sprint(udp) != fmt.Sprint([]int{int(e.UDP.Port())}) || !slices.Contains(tcp, int(e.TLS.Port())) {
		t.Fatalf("relays %+v: want UDP %v and the TLS port %d", cred.Relays, e.UDP, e.TLS.Port())
	}
	for _, rt := range relayTypes {
		if rt.name == "tcp" {
			continue // the answer names the TLS port for TCP: pseudo-TLS covers it
		}
		t.Run(rt.name, func(t *testing.T) {
			port := udp[0]
			if rt.name == "tls" {
				port = int(e.TLS.Port())
			}
			res := runAgentsEncoded(t, rt, netip.AddrPortFrom(e.RelayAddr(), uint16(port)), cred.Username, cred.Password)
			if res.Outcome != outcomeOK {
				t.Fatalf("outcome %q, want %q", res.Outcome, outcomeOK)
			}
			for i, a := range res.Agents {
				if a.Received != messages {
					t.Errorf("agent %d: received %d messages, want %d", i, a.Received, messages)
				}
				checkRelayPair(t, i, a.Selected, rt, e.RelayAddr().String(), ports)
			}
		})
	}
	if ok := e.Stats().Authenticated(stats.AuthOK); ok < 4 {
		t.Errorf("%d authenticated requests, want at least the four Allocates", ok)
	}
}
