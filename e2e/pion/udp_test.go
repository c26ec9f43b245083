package pion

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/avedge/avedge/e2e/internal/loopback"
	"github.com/avedge/avedge/internal/server/stats"
)

// TestPionUDP: pion's client over UDP sends a Binding request and learns
// its own address, allocates, and exchanges datagrams with an echo peer
// through the relay: a permission on the first write, then a channel that
// pion binds in the background, with ChannelData on the wire both ways. The
// relay counts every datagram, and closing the allocation (Refresh with
// lifetime 0) ends it.
func TestPionUDP(t *testing.T) {
	e, ports := startEdge(t, false)
	tap := listenUDP(t)
	c := newClient(t, e, "udp", tap)
	mapped, err := c.SendBindingRequest()
	if err != nil {
		t.Fatalf("binding: %v", err)
	}
	if mapped.String() != tap.LocalAddr().String() {
		t.Fatalf("reflexive address %v, want %v", mapped, tap.LocalAddr())
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	relayed := relay.LocalAddr().(*net.UDPAddr).AddrPort()
	if relayed.Addr() != e.RelayAddr() || !ports.Contains(int(relayed.Port())) {
		t.Fatalf("relayed address %v outside %v:%d-%d", relayed, e.RelayAddr(), ports.Min, ports.Max)
	}

	echo := loopback.UDPEcho(t, "127.0.0.1")
	// At least minRounds, and on until the channel carried ChannelData
	// both ways.
	const minRounds, maxRounds = 50, 1000
	rounds := 0
	for rounds < minRounds || tap.sentChannelData.Load() == 0 || tap.receivedChannelData.Load() == 0 {
		if rounds == maxRounds {
			t.Fatalf("after %d rounds, %d ChannelData datagrams sent and %d received; want both", rounds,
				tap.sentChannelData.Load(), tap.receivedChannelData.Load())
		}
		loopback.EchoRound(t, relay, echo, []byte(fmt.Sprintf("packet %d", rounds)), ioTimeout)
		rounds++
	}
	e.WaitStats(t, func(st stats.Stats) bool {
		return st.ToPeerPackets == uint64(rounds) && st.ToClientPackets == uint64(rounds)
	})
	if err := relay.Close(); err != nil {
		t.Fatalf("close (refresh 0): %v", err)
	}
	e.WaitStats(t, func(st stats.Stats) bool { return st.Ended(stats.EndRefreshZero) == 1 && st.Allocations == 0 })
}

// TestPionPeerDenied: when the edge's policy refuses loopback peers, pion's
// first write to one fails with the 403 of its CreatePermission, and
// nothing is relayed.
func TestPionPeerDenied(t *testing.T) {
	e, _ := startEdge(t, true)
	relay, err := newClient(t, e, "udp", listenUDP(t)).Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	_, err = relay.WriteTo([]byte("hello"), loopback.UDPEcho(t, "127.0.0.1").LocalAddr())
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("write to a loopback peer that the policy denies: %v, want a 403 error", err)
	}
	st := e.WaitStats(t, func(st stats.Stats) bool { return st.Refused(stats.RefusedPeerDenied) == 1 })
	if st.ToPeerPackets != 0 || st.Allocations != 1 {
		t.Fatalf("stats %+v, want one allocation and nothing relayed", st)
	}
}
