package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/avedge/avedge/internal/edgetest"
)

// failTimeout bounds the wait for ICE to fail: with failTimeouts pion
// gives up after about 1.5 s of checking.
const failTimeout = 15 * time.Second

// failingCall sets up a relay-only call between two peers with the given
// ICE servers and returns once ICE has failed on both sides.
func failingCall(t *testing.T, e *edgetest.Edge, transport string, servers [2]edgetest.ICEServer) [2]*peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failTimeout)
	defer cancel()
	api := newAPI(t, e, transport, failTimeouts)
	caller, callee := newPeer(t, api, servers[0]), newPeer(t, api, servers[1])
	ends, _ := openDataChannel(t, caller, callee)
	connect(ctx, t, caller, callee)
	for _, p := range []*peer{caller, callee} {
		select {
		case <-p.iceFailed:
		case <-p.iceConnected:
			t.Fatal("ICE connected")
		case <-ctx.Done():
			t.Fatalf("waiting for ICE to fail: %v", context.Cause(ctx))
		}
	}
	for _, p := range []*peer{caller, callee} {
		select {
		case <-p.iceConnected:
			t.Error("ICE connected before it failed")
		default:
		}
	}
	if err := (<-ends).opened(); err == nil {
		t.Error("the data channel opened")
	}
	return [2]*peer{caller, callee}
}

// TestWrongPassword: a credential whose password was altered gets no
// relay candidate over any transport, so ICE fails, and the edge allocates
// and relays nothing.
func TestWrongPassword(t *testing.T) {
	for _, transport := range []string{"udp", "tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			e, _ := startEdge(t, false)
			var servers [2]edgetest.ICEServer
			for i, id := range []string{"caller", "callee"} {
				servers[i] = e.ICEServers(t, id, transport)
				servers[i].Credential = alter(servers[i].Credential)
			}
			peers := failingCall(t, e, transport, servers)
			for _, p := range peers {
				if c := p.relayCandidates(); len(c) != 0 {
					t.Errorf("relay candidates %q with a wrong password", c)
				}
			}
			// Each peer was challenged (401 with a nonce) and then
			// refused (401 for the wrong MESSAGE-INTEGRITY).
			if st := e.Stats(); st.Allocations != 0 || st.ToPeerPackets != 0 || st.ToClientPackets != 0 || st.Requests < 4 {
				t.Errorf("stats %+v, want four or more requests answered and nothing allocated or relayed", st)
			}
		})
	}
}

// TestDeniedPeer: on an edge whose peer policy refuses loopback peers,
// both peers allocate a relayed address, but the permission for the other
// peer's relayed address (on loopback) is refused with 403, so pion sends
// no check, ICE fails and the edge relays nothing.
func TestDeniedPeer(t *testing.T) {
	e, _ := startEdge(t, true)
	servers := [2]edgetest.ICEServer{e.ICEServers(t, "caller", "udp"), e.ICEServers(t, "callee", "udp")}
	peers := failingCall(t, e, "udp", servers)
	for _, p := range peers {
		if c := p.relayCandidates(); len(c) != 1 {
			t.Errorf("relay candidates %q, want one", c)
		}
	}
	// Once ICE has failed pion may release its allocations at any time:
	// the relay candidates above show that they were made.
	if st := e.Stats(); st.ToPeerPackets != 0 || st.ToClientPackets != 0 {
		t.Errorf("stats %+v, want nothing relayed", st)
	}
}

// alter returns password with its first character changed.
func alter(password string) string {
	b := []byte(password)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}
