package pion

import (
	"bytes"
	"net"
	"testing"

	"github.com/pion/turn/v4"

	"github.com/avedge/avedge/e2e/internal/loopback"
	"github.com/avedge/avedge/internal/server/stats"
)

// TestPionStream drives a UDP relay over TCP and over TLS with pion's
// client and an echo peer, both ways, with payloads of 5 to 8 bytes, which
// take every ChannelData padding (pion's stream framer waits for 9 bytes,
// so frames of 8 bytes would stall it): Data indications until pion's
// channel is bound, then ChannelData, which both sides pad to four bytes on
// the wire. Closing the connection ends the allocation and frees the relay
// port.
func TestPionStream(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			e, _ := startEdge(t, false)
			tap := dialStream(t, e, transport == "tls")
			relay, err := newClient(t, e, transport, turn.NewSTUNConn(tap)).Allocate()
			if err != nil {
				t.Fatalf("allocate: %v", err)
			}
			echo := loopback.UDPEcho(t, "127.0.0.1")
			// At least minRounds, and on until ChannelData of each length
			// crossed the connection both ways.
			const minRounds, maxRounds = 40, 1000
			rounds := 0
			for {
				sent, received := tap.frames(t)
				if rounds >= minRounds && channelDataLengths(sent) == 4 && channelDataLengths(received) == 4 {
					break
				}
				if rounds == maxRounds {
					t.Fatalf("after %d rounds, ChannelData of %d lengths sent and %d received; want all 4 both ways", rounds,
						channelDataLengths(sent), channelDataLengths(received))
				}
				loopback.EchoRound(t, relay, echo, bytes.Repeat([]byte{byte('a' + rounds%26)}, 5+rounds%4), ioTimeout)
				rounds++
			}
			e.WaitStats(t, func(st stats.Stats) bool {
				return st.ToPeerPackets == uint64(rounds) && st.ToClientPackets == uint64(rounds)
			})
			relayed := relay.LocalAddr().(*net.UDPAddr).AddrPort()
			tap.Close()
			e.WaitStats(t, func(st stats.Stats) bool {
				return st.Ended(stats.EndConnectionClosed) == 1 && st.Allocations == 0
			})
			free, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(relayed))
			if err != nil {
				t.Fatalf("relay port %v not freed: %v", relayed, err)
			}
			free.Close()
		})
	}
}
