package pion

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v4"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/turntest"
)

// TestPionTCPRelay drives an RFC 6062 TCP allocation with pion's client
// over a TCP control connection: Connect to a TCP echo peer and bytes both
// ways; an inbound connection from a permitted peer (ConnectionAttempt,
// then ConnectionBind through AcceptTCP); then closing the control
// connection ends the allocation, closes every data connection and frees
// the relayed port.
func TestPionTCPRelay(t *testing.T) {
	e, ports := startEdge(t, false)
	conn := dialStream(t, e, false)
	alloc, err := newClient(t, e, "tcp", turn.NewSTUNConn(conn)).AllocateTCP()
	if err != nil {
		t.Fatalf("AllocateTCP: %v", err)
	}
	relayed := alloc.Addr().(*net.TCPAddr).AddrPort()
	if relayed.Addr() != e.RelayAddr() || !ports.Contains(int(relayed.Port())) {
		t.Fatalf("relayed address %v outside %v:%d-%d", relayed, e.RelayAddr(), ports.Min, ports.Max)
	}

	// Outbound: Connect, ConnectionBind, bytes both ways through the echo.
	echo := turntest.NewTCPPeer(t, true)
	out, err := alloc.Dial("tcp4", echo.Addr().String())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer out.Close()
	if got := echo.Next(t).RemoteAddr().(*net.TCPAddr).AddrPort(); got != relayed {
		t.Fatalf("peer connection from %v, want the relayed address %v", got, relayed)
	}
	turntest.Echoes(t, out, "hello", strings.Repeat("x", 100_000))

	// Inbound from a permitted peer (pion's Dial installed the permission
	// for 127.0.0.1).
	pc, err := net.DialTimeout("tcp4", relayed.String(), ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := alloc.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		t.Fatal(err)
	}
	in, err := alloc.AcceptTCP()
	if err != nil {
		t.Fatalf("AcceptTCP: %v", err)
	}
	defer in.Close()
	turntest.RelayBoth(t, pc, in, "inbound")
	e.WaitStats(t, func(st stats.Stats) bool {
		return st.TCP.Connects == 1 && st.TCP.Inbound == 1 && st.TCP.Bound == 2 && st.TCP.DataOpen == 2
	})

	// The allocation ends with its control connection, and with it every
	// data connection.
	conn.Close()
	e.WaitStats(t, func(st stats.Stats) bool {
		return st.Ended(stats.EndConnectionClosed) == 1 && st.Allocations == 0
	})
	for _, dc := range []net.Conn{out, in, pc} {
		turntest.WantClosed(t, dc)
	}
	e.WaitStats(t, func(st stats.Stats) bool { return st.TCP.DataOpen == 0 })
	ln, err := net.Listen("tcp4", relayed.String())
	if err != nil {
		t.Fatalf("relayed port not freed: %v", err)
	}
	ln.Close()
}
