package bench

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
)

// startForwarder runs a tiny bare forwarder (the --raw counterpart): packets
// from clients go to peer, packets from peer go back to the client of their
// call id.
func startForwarder(t *testing.T, peer netip.AddrPort) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		clients := make(map[uint32]netip.AddrPort)
		buf := make([]byte, 2048)
		for {
			n, src, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n < 4 {
				continue
			}
			id := binary.BigEndian.Uint32(buf)
			dst := peer
			if src == peer {
				dst = clients[id]
			} else {
				clients[id] = src
			}
			if dst.IsValid() {
				_, _ = c.WriteToUDPAddrPort(buf[:n], dst)
			}
		}
	}()
	t.Cleanup(func() {
		_ = c.Close()
		<-done
	})
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

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
	fwd := startForwarder(t, peer)
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
