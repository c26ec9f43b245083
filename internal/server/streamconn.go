package server

import (
	"errors"
	"net"
	"net/netip"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/server/stream"
)

// errNotApplicable: a socket option that a TCP connection lacks.
var errNotApplicable = errors.New("server: not applicable to a stream connection")

// streamConn is the core's side of a client's TCP or TLS connection
// (stream.Conn.Owner): the listener its handlers answer through, the
// worker that owns its allocation, and the hand-off of frames from the
// connection's reader to that worker. It is the socket the handlers answer
// the client through (WriteTo ignores the address: there is one peer), so
// they stay transport-agnostic.
type streamConn struct {
	c  *stream.Conn
	wl *workerLoop
	l  *listener // what the handlers answer through; l.conn == this

	// Hand-off from the reader to the worker.
	pending   []byte // complete frames for the worker
	deliverFn func() // deliver, bound once
	delivered chan struct{}

	// Set by the worker when a ConnectionBind made this a client data
	// connection (RFC 6062 §5.4), read by the reader after delivered:
	// the peer connection, its socket and how many bytes of pending the
	// worker handled up to and including the ConnectionBind.
	bound    *peerConn
	peerNC   net.Conn
	consumed int
}

// remote is the client's address.
func (c *streamConn) remote() netip.AddrPort { return c.c.Remote() }

// WriteTo queues b for the client; to is ignored. It never blocks: a
// full queue returns stream.ErrFull and drops b.
func (c *streamConn) WriteTo(b []byte, _ netip.AddrPort) error { return c.c.Write(b) }

// QueueTo is WriteTo: a TCP connection carries no per-message TOS, and
// its writer goroutine batches on its own.
func (c *streamConn) QueueTo(b []byte, to netip.AddrPort, _ uint8) error { return c.WriteTo(b, to) }

// SetDontFragment is not applicable: DF concerns relay sockets only.
func (c *streamConn) SetDontFragment(bool) error { return errNotApplicable }

// LocalAddr returns the server's address of the connection.
func (c *streamConn) LocalAddr() netip.AddrPort { return c.l.addr }

// Close closes the connection; its allocation then ends on the worker.
func (c *streamConn) Close() error { return c.c.Close() }

// streamHandler is the core as the stream transport's Handler.
type streamHandler struct{ s *Server }

// Opened implements stream.Handler: a new connection is served by the
// worker its client address hashes to.
func (h streamHandler) Opened(sc *stream.Conn) error {
	s := h.s
	wl := s.workers[s.streamWorker(sc.Remote())]
	c := &streamConn{c: sc, wl: wl, delivered: make(chan struct{}, 1)}
	c.l = &listener{sock: c, addr: sc.Local(), conn: c, auth: sc.Tag().(*auth.Authenticator)}
	c.deliverFn = c.deliver
	sc.Owner = c
	return nil
}

// Deliver implements stream.Handler: it gives frames to the connection's
// worker and waits until it has handled them. After a ConnectionBind, the
// rest of the connection is relayed raw (relayData).
func (h streamHandler) Deliver(sc *stream.Conn, frames []byte) (int, stream.RawFunc, bool) {
	c := sc.Owner.(*streamConn)
	c.pending = frames
	if !doOn(c.wl.dp, c.deliverFn, sc.Done()) {
		return 0, nil, false
	}
	select {
	case <-c.delivered:
	case <-sc.Done():
		return 0, nil, false
	}
	if c.bound != nil {
		return c.consumed, c.relayData, true
	}
	return len(frames), nil, true
}

// Closed implements stream.Handler: the allocation of the connection
// ends with it (RFC 8656 §3.1).
func (h streamHandler) Closed(sc *stream.Conn) {
	c := sc.Owner.(*streamConn)
	doOn(c.wl.dp, func() { c.wl.w.streamClosed(c) }, h.s.streamStop)
}

// deliver runs on the worker goroutine: it handles each pending frame as
// a message from the client, in the connection's dialect. After a
// successful ConnectionBind the rest is no longer STUN but data for the
// peer: it stops there.
func (c *streamConn) deliver() {
	w, b := c.wl.w, c.pending
	ms := c.c.Dialect() == stats.DialectMSTURN
	for len(b) > 0 && c.bound == nil {
		n, err := c.c.FrameSize(b)
		if err != nil || n == 0 || n > len(b) {
			break // unreachable: the reader framed b
		}
		switch {
		case !ms:
			w.handleClient(c.l, c.remote(), b, 0, n, 0)
		case b[0] == msturn.FrameControl && msturn.Is(b[msturn.FrameHeaderSize:n]):
			w.ms.Message(c.l, c.remote(), b[msturn.FrameHeaderSize:n], 0, w.lookupSession(c.l, c.remote()))
		case b[0] == msturn.FrameData:
			w.msRawFromStream(c.l, c.remote(), b[msturn.FrameHeaderSize:n])
		default:
			// [MS-TURN] §3.1.10: a control frame that is not a message
			// of the dialect is ignored.
			w.p.drop(stats.DropMalformed)
		}
		b = b[n:]
	}
	c.consumed = len(c.pending) - len(b)
	c.delivered <- struct{}{}
}
