package server

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
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

// channelRound sends msg on channel num, bound to an echo peer, and checks
// that it comes back on the channel.
func (c *client) channelRound(num uint16, msg []byte) {
	c.t.Helper()
	c.send(channelData(num, msg))
	got, back, err := stunproto.ParseChannelData(c.read())
	if err != nil || got != num || !bytes.Equal(back, msg) {
		c.t.Fatalf("channel %#x %q (%v), want %#x %q", got, back, err, num, msg)
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
	u, p := se.credential("alice", time.Hour)
	stalled := &streamClient{client: &client{t: t, user: u, pass: p}, conn: gc}
	relayed := stalled.allocateUDP()
	wantCode(t, stalled.do(stun.MethodCreatePermission, peerAttr(echo.addr())), 0)
	stalled.sendRound(echo, []byte("before the stall"))
	gc.stalled.Store(true)

	other := se.newClient(u, p)
	other.allocate()
	wantCode(t, other.do(stun.MethodChannelBind, stunproto.ChannelNumber(0x4000), peerAttr(echo.addr())), 0)

	// The permission for the echo peer's address covers every peer on
	// 127.0.0.1: flood the stalled client from another one until the
	// server drops for it.
	flood := newPeer(t, "127.0.0.1")
	payload := bytes.Repeat([]byte{0x55}, 1000)
	for i := 0; se.srv.Stats().Dropped(stats.DropClientStalled) == 0; i++ {
		if i == 100000 {
			t.Fatal("no drop for the stalled client after 100000 datagrams")
		}
		flood.sendTo(payload, relayed)
	}
	other.channelRound(0x4000, []byte("the other session relays"))
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
	other.channelRound(0x4000, []byte("still relaying"))
}
