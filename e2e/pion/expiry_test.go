package pion

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/pion/turn/v4"

	"github.com/avedge/avedge/e2e/internal/loopback"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/edgetest"
	"github.com/avedge/avedge/internal/server/stats"
)

const (
	// credentialTTL is the lifetime of the expiry tests' credentials: the
	// username holds whole seconds, so they expire 1 to 2 s after issue.
	credentialTTL = 2 * time.Second
	// allocationLifetime is the expiry tests' allocation lifetime; pion
	// refreshes an allocation every half of the lifetime the Allocate
	// answer granted, here every 1.5 s.
	allocationLifetime = 3 * time.Second
	// lifetimeMargin is how long past a lifetime the edge has surely
	// ended an allocation that was not refreshed.
	lifetimeMargin = 500 * time.Millisecond
)

// expiryBlocks hands out the top of this package's relay port range,
// 37960-37999, which edges leaves free, in blocks of 8 ports to the edges
// of the expiry tests: 5 blocks, 37960-37999.
var expiryBlocks atomic.Int32

// startExpiryEdge starts an edge whose credentials last credentialTTL and
// whose allocations last allocationLifetime, on the next block of 8 relay
// ports from 37960.
func startExpiryEdge(t *testing.T) *edgetest.Edge {
	t.Helper()
	const base, size, count = 37960, 8, 5
	block := int(expiryBlocks.Add(1)-1) % count
	return edgetest.Start(t, edgetest.Options{
		RelayPortMin: base + block*size, RelayPorts: size,
		CredentialTTL: credentialTTL, AllocationLifetime: allocationLifetime,
	})
}

// channelDataTap is a tapped client connection that counts the ChannelData
// messages sent and received so far.
type channelDataTap interface {
	channelData(t *testing.T) (sent, received int)
}

// channelData returns the ChannelData datagrams sent and received so far.
func (c *udpTap) channelData(*testing.T) (sent, received int) {
	return int(c.sentChannelData.Load()), int(c.receivedChannelData.Load())
}

// channelData returns the ChannelData frames sent and received so far.
func (c *streamTap) channelData(t *testing.T) (sent, received int) {
	t.Helper()
	s, r := c.frames(t)
	return countChannelData(s), countChannelData(r)
}

// countChannelData counts the ChannelData messages among fs.
func countChannelData(fs []frame) int {
	n := 0
	for _, f := range fs {
		if f.channelData {
			n++
		}
	}
	return n
}

// clientConn returns a tapped connection to the edge's listener of
// transport ("udp", "tcp" or "tls"), ready for pion's client, closed when
// the test ends.
func clientConn(t *testing.T, e *edgetest.Edge, transport string) (net.PacketConn, channelDataTap) {
	t.Helper()
	if transport == "udp" {
		tap := listenUDP(t)
		return tap, tap
	}
	tap := dialStream(t, e, transport == "tls")
	return turn.NewSTUNConn(tap), tap
}

// waitPast blocks until the wall clock has passed at: a credential's expiry
// and an allocation's lifetime run on the edge's real clock, and nothing
// signals them.
func waitPast(at time.Time) { time.Sleep(time.Until(at)) }

// TestPionPastExpiry: over UDP, TCP and TLS, an allocation pion made with a
// credential that expires 1 to 2 s later outlives it. pion refreshes the
// allocation on its own timer, every half lifetime, and the edge takes
// those Refreshes after the expiry (counted as ok_past_expiry): once the
// credential's expiry plus a whole allocation lifetime has passed, by when
// an allocation refreshed only before the expiry would have ended, the
// allocation is still live and relays to its peer. An explicit
// CreatePermission then succeeds, and so does the ChannelBind that pion
// makes for a new peer, whose ChannelData crosses the wire both ways. A
// new pion client with the same, expired, credential fails to allocate
// with 401 (counted as expired_credential), and the first allocation
// relays on.
func TestPionPastExpiry(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"udp", "tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			e := startExpiryEdge(t)
			cred := e.ICEServers(t, "alice", transport)
			expiry, _, err := auth.ParseUsername(cred.Username)
			if err != nil {
				t.Fatalf("username %q: %v", cred.Username, err)
			}
			conn, tap := clientConn(t, e, transport)
			c := newClientAs(t, e, transport, conn, cred)
			relay, err := c.Allocate()
			if err != nil {
				t.Fatalf("allocate: %v", err)
			}
			echo := loopback.UDPEcho(t, "127.0.0.1")
			loopback.EchoRound(t, relay, echo, []byte("before the expiry"), ioTimeout)

			waitPast(expiry.Add(allocationLifetime + lifetimeMargin))
			st := e.Stats()
			if n := st.Authenticated(stats.AuthPastExpiry); n == 0 || st.Allocations != 1 || st.Ended(stats.EndExpired) != 0 {
				t.Fatalf("a lifetime past the credential's expiry: %d requests past the expiry, %d live allocations, %d expired; want at least one refresh, 1 and 0",
					n, st.Allocations, st.Ended(stats.EndExpired))
			}
			t.Logf("%d requests past the expiry, %d ok before", st.Authenticated(stats.AuthPastExpiry), st.Authenticated(stats.AuthOK))
			loopback.EchoRound(t, relay, echo, []byte("a lifetime past the expiry"), ioTimeout)
			if err := c.CreatePermission(echo.LocalAddr()); err != nil {
				t.Fatalf("CreatePermission past the expiry: %v", err)
			}
			bindPastExpiry(t, relay, tap)

			// A new allocation with the expired credential.
			conn2, _ := clientConn(t, e, transport)
			_, err = newClientAs(t, e, transport, conn2, cred).Allocate()
			var te *stun.TurnError
			if !errors.As(err, &te) || te.ErrorCodeAttr.Code != stun.CodeUnauthorized {
				t.Fatalf("allocate with the expired credential: %v, want a 401 error", err)
			}
			st = e.WaitStats(t, func(st stats.Stats) bool { return st.Authenticated(stats.AuthExpiredCredential) == 1 })
			if st.Allocations != 1 {
				t.Fatalf("%d live allocations after the refused Allocate, want 1", st.Allocations)
			}
			loopback.EchoRound(t, relay, echo, []byte("after the refused allocate"), ioTimeout)
		})
	}
}

// bindPastExpiry sends through relay to a new echo peer until ChannelData
// crossed tap both ways: pion binds a channel to the peer in the
// background, past its credential's expiry, and sends Data indications
// until the edge has answered.
func bindPastExpiry(t *testing.T, relay net.PacketConn, tap channelDataTap) {
	t.Helper()
	echo := loopback.UDPEcho(t, "127.0.0.1")
	sent0, received0 := tap.channelData(t)
	const maxRounds = 1000
	for rounds := 0; ; rounds++ {
		sent, received := tap.channelData(t)
		if sent > sent0 && received > received0 {
			return
		}
		if rounds == maxRounds {
			t.Fatalf("after %d rounds to a new peer, %d ChannelData messages sent and %d received; want both",
				rounds, sent-sent0, received-received0)
		}
		loopback.EchoRound(t, relay, echo, []byte(fmt.Sprintf("new peer %d", rounds)), ioTimeout)
	}
}
