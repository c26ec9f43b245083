package e2e

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	"github.com/avedge/avedge/internal/edgetest"
)

// iceTimeouts are pion's ICE timeouts (disconnected, failed, keepalive).
// An agent that has been checking for longer than disconnected+failed
// gives up: the failure tests shorten them so that ICE fails in about
// 1.5 s; the working calls keep values that a slow run under the race
// detector does not trip. A working call through the edge connects well
// within the short ones (checked by the failure tests' control case), as
// relay pairs are nominated at once (see newAPI).
type iceTimeouts struct{ disconnected, failed, keepalive time.Duration }

var (
	callTimeouts = iceTimeouts{disconnected: 5 * time.Second, failed: 10 * time.Second, keepalive: time.Second}
	failTimeouts = iceTimeouts{disconnected: 500 * time.Millisecond, failed: time.Second, keepalive: 200 * time.Millisecond}
)

// newAPI returns a pion API that gathers only what a relay-only call
// through the loopback edge needs: IPv4 UDP candidates (pion's relay
// candidates are UDP whatever the transport to the TURN server), local
// sockets on loopback only, no mDNS. It nominates a relay pair as soon as
// it works: pion otherwise waits 2 s in case a better candidate turns up,
// which a relay-only agent never gets. For TURN over TLS it dials the edge
// through tlsDialer.
func newAPI(t *testing.T, e *edgetest.Edge, transport string, to iceTimeouts) *webrtc.API {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(to.disconnected, to.failed, to.keepalive)
	se.SetRelayAcceptanceMinWait(0)
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	se.LoggerFactory = lf
	if transport == "tls" {
		se.SetICEProxyDialer(newTLSDialer(t, e.CAPEM))
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// peer is a PeerConnection with the events a test waits for.
type peer struct {
	pc *webrtc.PeerConnection

	iceConnected chan struct{} // closed at ICE "connected"
	iceFailed    chan struct{} // closed at ICE "failed"
	connected    chan struct{} // closed at "connected" (ICE and DTLS)
	once         [3]sync.Once
}

// newPeer returns a relay-only PeerConnection with server as its only ICE
// server, closed when the test ends.
func newPeer(t *testing.T, api *webrtc.API, server edgetest.ICEServer) *peer {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		ICEServers: []webrtc.ICEServer{{
			URLs:           server.URLs,
			Username:       server.Username,
			Credential:     server.Credential,
			CredentialType: webrtc.ICECredentialTypePassword,
		}},
		ICETransportPolicy: webrtc.ICETransportPolicyRelay,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{pc: pc, iceConnected: make(chan struct{}), iceFailed: make(chan struct{}), connected: make(chan struct{})}
	t.Cleanup(func() {
		if err := pc.GracefulClose(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		switch s {
		case webrtc.ICEConnectionStateConnected:
			p.once[0].Do(func() { close(p.iceConnected) })
		case webrtc.ICEConnectionStateFailed:
			p.once[1].Do(func() { close(p.iceFailed) })
		default:
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.once[2].Do(func() { close(p.connected) })
		}
	})
	return p
}

// connect exchanges offer and answer between offerer and answerer, each
// description with all its candidates (no trickle, no signalling server).
func connect(ctx context.Context, t *testing.T, offerer, answerer *peer) {
	t.Helper()
	offer, err := offerer.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	answerer.setRemote(t, offerer.setLocal(ctx, t, offer))
	answer, err := answerer.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	offerer.setRemote(t, answerer.setLocal(ctx, t, answer))
}

// setLocal sets d as the local description and returns it once gathering
// is complete, candidates included.
func (p *peer) setLocal(ctx context.Context, t *testing.T, d webrtc.SessionDescription) webrtc.SessionDescription {
	t.Helper()
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(d); err != nil {
		t.Fatal(err)
	}
	wait(ctx, t, gathered, "ICE gathering complete")
	return *p.pc.LocalDescription()
}

// setRemote sets d as the remote description.
func (p *peer) setRemote(t *testing.T, d webrtc.SessionDescription) {
	t.Helper()
	if err := p.pc.SetRemoteDescription(d); err != nil {
		t.Fatal(err)
	}
}

// relayCandidates returns the relay candidates of the local description
// (component 1: pion repeats each candidate for the RTCP component).
func (p *peer) relayCandidates() []string {
	var out []string
	for _, line := range strings.Split(p.pc.LocalDescription().SDP, "\n") {
		f := strings.Fields(line)
		if len(f) >= 8 && strings.HasPrefix(f[0], "a=candidate:") && f[1] == "1" && f[6] == "typ" && f[7] == "relay" {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// wait returns when ch is closed, failing the test when ctx ends first.
func wait[T any](ctx context.Context, t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, context.Cause(ctx))
	}
}
