package server

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v4"

	"github.com/avedge/avedge/internal/server/stats"
)

// gatedConn stops reading once stalled is set, like a client that no
// longer reads its socket, until the test ends.
type gatedConn struct {
	net.Conn
	stalled atomic.Bool
	release chan struct{}
	once    sync.Once
}

func (g *gatedConn) Read(b []byte) (int, error) {
	if g.stalled.Load() {
		<-g.release
	}
	return g.Conn.Read(b)
}

func (g *gatedConn) Close() error {
	g.once.Do(func() { close(g.release) })
	return g.Conn.Close()
}

// pionAllocate allocates a UDP relay with pion's client over conn.
func pionAllocate(t *testing.T, e *testEdge, server string, conn net.PacketConn) net.PacketConn {
	t.Helper()
	u, p := e.credential("alice", time.Hour)
	relay, err := pionClient(t, server, conn, u, p).Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	return relay
}

// echoRound sends msg through relay to the echo peer and checks it comes
// back.
func echoRound(t *testing.T, relay net.PacketConn, echo *peer, msg []byte) {
	t.Helper()
	if _, err := relay.WriteTo(msg, echo.conn.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = relay.SetReadDeadline(time.Now().Add(ioTimeout))
	n, _, err := relay.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:n], msg) {
		t.Fatalf("echo: %q, %v", buf[:n], err)
	}
}

// TestStreamStalledClient: a TCP client that stops reading fills its queue;
// media to it is dropped and counted, another session of the same worker
// keeps relaying, and the stalled client is disconnected after the write
// timeout, which ends its allocation.
func TestStreamStalledClient(t *testing.T) {
	se := newStreamEdge(t, func(o *Options) {
		o.Workers = 1
		o.Stream.WriteTimeout = time.Second
	})
	echo := newEchoPeer(t, "127.0.0.1")

	tc := se.dial(false)
	_ = tc.(*net.TCPConn).SetReadBuffer(4096)
	gc := &gatedConn{Conn: tc, release: make(chan struct{})}
	t.Cleanup(func() { gc.Close() })
	stalled := pionAllocate(t, se.testEdge, se.tcp.String(), turn.NewSTUNConn(gc))
	echoRound(t, stalled, echo, []byte("before the stall"))
	relayed := stalled.LocalAddr().(*net.UDPAddr).AddrPort()
	gc.stalled.Store(true)

	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { udp.Close() })
	other := pionAllocate(t, se.testEdge, se.addr.String(), udp)

	// The echo peer's address has a permission: flood the stalled
	// client from it until the server drops for it.
	flood := newPeer(t, "127.0.0.1")
	if _, err := stalled.WriteTo([]byte("permission"), flood.conn.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte{0x55}, 1000)
	for i := 0; se.srv.Stats().Dropped(stats.DropClientStalled) == 0; i++ {
		if i == 100000 {
			t.Fatal("no drop for the stalled client after 100000 datagrams")
		}
		flood.sendTo(payload, relayed)
	}
	echoRound(t, other, echo, []byte("the other session relays"))
	// Keep the kernel's buffers full until the write timeout.
	waitFor(t, func() bool {
		for range 64 {
			flood.sendTo(payload, relayed)
		}
		return se.srv.Stats().Stream.WriteTimeouts == 1
	})
	if rec := se.waitEnded(); rec.Relayed != relayed || rec.Reason != "connection closed" {
		t.Fatalf("record %+v, want the stalled client's allocation closed", rec)
	}
	echoRound(t, other, echo, []byte("still relaying"))
}
