package bench

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/avedge/avedge/internal/servertest"
)

// freePort returns a loopback UDP address that was free a moment ago.
func freePort(t *testing.T) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func TestRunRaw(t *testing.T) {
	peer := freePort(t)
	fwd := servertest.Forwarder(t, peer)
	cfg := shortConfig(ModeAudio, fwd)
	cfg.Raw, cfg.Secret, cfg.Peer = true, "", peer.String()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkJSON(t, res)
	if *res.Sent == 0 || *res.Loss > 0.01 || res.LatencyUS == nil || res.LatencyUS.P50 <= 0 {
		t.Errorf("sent %d received %d loss %v latency %+v errors %v",
			*res.Sent, *res.Received, *res.Loss, res.LatencyUS, res.Errors)
	}
	if *res.PPSToPeer <= 0 {
		t.Errorf("pps to peer %v", *res.PPSToPeer)
	}
}
