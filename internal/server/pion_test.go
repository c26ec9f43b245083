package server

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"
)

// TestPionClient drives the edge with an independent TURN implementation:
// pion's client allocates, creates a permission on first write, binds a
// channel in the background, and exchanges datagrams with an echo peer.
func TestPionClient(t *testing.T) {
	e := newTestEdge(t, nil)
	u, p := e.credential("alice", time.Hour)

	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pionClient(t, e.addr.String(), conn, u, p)
	mapped, err := c.SendBindingRequest()
	if err != nil {
		t.Fatalf("binding: %v", err)
	}
	if mapped.String() != conn.LocalAddr().String() {
		t.Fatalf("reflexive address %v, want %v", mapped, conn.LocalAddr())
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}

	echo := newEchoPeer(t, "127.0.0.1")

	const rounds = 50
	buf := make([]byte, 1500)
	for i := range rounds {
		msg := []byte(fmt.Sprintf("packet %d", i))
		if _, err := relay.WriteTo(msg, echo.conn.LocalAddr()); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		_ = relay.SetReadDeadline(time.Now().Add(ioTimeout))
		n, from, err := relay.ReadFrom(buf)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if !bytes.Equal(buf[:n], msg) || from.String() != echo.conn.LocalAddr().String() {
			t.Fatalf("round %d: got %q from %v", i, buf[:n], from)
		}
	}
	// The worker counts a packet just after sending it: the last count
	// may lag the client's read.
	waitFor(t, func() bool {
		st := e.srv.Stats()
		return st.ToPeerPackets == rounds && st.ToClientPackets == rounds
	})
	if err := relay.Close(); err != nil {
		t.Fatalf("close (refresh 0): %v", err)
	}
	if rec := e.waitEnded(); rec.Reason != "refresh 0" || rec.ToPeerPackets != rounds {
		t.Fatalf("record %+v", rec)
	}
}

// pionClient returns pion's TURN client for server over conn, listening,
// with credentials u and p; it is closed when the test ends.
func pionClient(t *testing.T, server string, conn net.PacketConn, u, p string) *turn.Client {
	t.Helper()
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Conn: conn,
		Username: u, Password: p, Realm: testRealm, LoggerFactory: lf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c
}
