package server

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

var (
	// errStreamFull: the client's write queue is full (a slow or stalled
	// reader); the message is dropped.
	errStreamFull = errors.New("server: client connection queue full")
	// errStreamClosed: the client's connection is closed.
	errStreamClosed = errors.New("server: client connection closed")
	// errNotApplicable: a socket option that a TCP connection lacks.
	errNotApplicable = errors.New("server: not applicable to a stream connection")
)

// zeroPad is the padding written after ChannelData on streams.
var zeroPad [3]byte

// streamConn is one client's TCP or TLS connection. It is the socket the
// handlers answer its client through (WriteTo ignores the address: there is
// one peer), so they stay transport-agnostic.
//
// Three goroutines touch it. The reader (readLoop) frames the byte stream
// and hands each burst of complete messages to the worker that owns the
// connection's allocation, with one Worker.Do per burst and no copy or
// allocation per message, then waits until the worker is done with the
// buffer. The worker handles the messages as it handles datagrams and
// queues its answers and the peers' data with WriteTo, which never blocks:
// the queue is a fixed buffer, and what does not fit is dropped. The
// writer (writeLoop) swaps the queue with a second buffer and writes it to
// the connection, so a burst costs one write; a client that does not take
// its bytes within WriteTimeout is disconnected.
type streamConn struct {
	srv    *Server
	nc     net.Conn
	wl     *workerLoop
	l      *listener // what the handlers answer through; l.conn == this
	remote netip.AddrPort
	// transport is tcp, tls or pseudo-tls.
	transport stats.Transport
	lim       *StreamLimits
	// ms: the connection carries the [MS-TURN] framing (a 4-byte header
	// of type and length before each message or data chunk, §2.1.4),
	// after pseudo-TLS or without it; set before the reader starts.
	ms bool
	// msStarted: the first frame of an ms connection was a control frame
	// holding a message of the dialect; a connection that opens with
	// anything else is closed.
	msStarted bool

	// allocated is set by the worker while the connection holds an
	// allocation; the reader then applies no idle timeout.
	allocated atomic.Bool

	// Hand-off from the reader to the worker.
	rbuf      []byte
	pending   []byte // complete frames for the worker
	deliverFn func() // c.deliver, bound once
	delivered chan struct{}

	// Set by the worker when a ConnectionBind made this a client data
	// connection (RFC 6062 §5.4), read by the reader after delivered:
	// the peer connection, its socket and how many bytes of pending the
	// worker handled up to and including the ConnectionBind.
	bound    *peerConn
	peerNC   net.Conn
	consumed int

	// The write queue: out is filled by the worker under mu, spare is the
	// writer's, and they swap.
	mu        sync.Mutex
	out       []byte
	spare     []byte
	outClosed bool
	wake      chan struct{}
	// raw, closed by the reader, makes the writer send what is queued and
	// stop, closing writerDone: the connection then carries raw bytes.
	raw        chan struct{}
	writerDone chan struct{}

	done      chan struct{}
	closeOnce sync.Once
}

func newStreamConn(srv *Server, nc net.Conn, wl *workerLoop, remote, local netip.AddrPort, transport stats.Transport) *streamConn {
	lim := &srv.stream.limits
	c := &streamConn{
		srv:        srv,
		nc:         nc,
		wl:         wl,
		remote:     remote,
		transport:  transport,
		lim:        lim,
		rbuf:       make([]byte, lim.MaxFrame+streamReadSlack),
		delivered:  make(chan struct{}, 1),
		out:        make([]byte, 0, lim.WriteQueue),
		spare:      make([]byte, 0, lim.WriteQueue),
		wake:       make(chan struct{}, 1),
		raw:        make(chan struct{}),
		writerDone: make(chan struct{}),
		done:       make(chan struct{}),
	}
	c.l = &listener{sock: c, addr: local, conn: c}
	c.deliverFn = c.deliver
	return c
}

// WriteTo queues b for the client; to is ignored. ChannelData is padded to
// a multiple of four bytes (RFC 8656 §12.5: "over TCP and TLS-over-TCP,
// the ChannelData message MUST be padded to a multiple of four bytes").
// It never blocks: a full queue returns errStreamFull and drops b. It does
// not allocate.
func (c *streamConn) WriteTo(b []byte, _ netip.AddrPort) error {
	pad := 0
	if stunproto.IsChannelData(b) {
		pad = stunproto.ChannelDataPadding(len(b))
	}
	c.mu.Lock()
	switch {
	case c.outClosed:
		c.mu.Unlock()
		return errStreamClosed
	case len(c.out)+len(b)+pad > cap(c.out):
		c.mu.Unlock()
		return errStreamFull
	}
	c.out = append(c.out, b...)
	c.out = append(c.out, zeroPad[:pad]...)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// QueueTo is WriteTo: a TCP connection carries no per-message TOS, and
// its writer goroutine batches on its own.
func (c *streamConn) QueueTo(b []byte, to netip.AddrPort, _ uint8) error {
	return c.WriteTo(b, to)
}

// SetDontFragment is not applicable: DF concerns relay sockets only.
func (c *streamConn) SetDontFragment(bool) error { return errNotApplicable }

// LocalAddr returns the server's address of the connection.
func (c *streamConn) LocalAddr() netip.AddrPort { return c.l.addr }

// Close closes the connection; the reader then ends the connection's
// allocation on the worker. It is idempotent and safe from any goroutine.
func (c *streamConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		c.mu.Lock()
		c.outClosed = true
		c.mu.Unlock()
		_ = c.nc.Close()
	})
	return nil
}

// allocationEnded is called by the worker when the connection's allocation
// ends: the connection is then idle-timed again.
func (c *streamConn) allocationEnded() {
	c.allocated.Store(false)
	_ = c.nc.SetReadDeadline(time.Now().Add(c.lim.IdleTimeout))
}

// readLoop frames the stream and hands complete messages to the worker
// until the connection fails, times out or breaks the framing rules. first
// holds bytes already read (the sniffed first byte of plain TURN).
func (c *streamConn) readLoop(first []byte) {
	st := &c.srv.stream.ctr
	buf := c.rbuf
	r, w := 0, copy(buf, first)
	var partialSince time.Time
	for {
		end := r
		var frameErr error
		for {
			n, err := c.frameSize(buf[end:w])
			if err != nil {
				frameErr = err
				break
			}
			if n == 0 || end+n > w {
				break
			}
			end += n
		}
		if c.ms && !c.msStarted && end > r {
			if !msOpening(buf[r:end]) {
				st.notTURN.Add(1)
				return
			}
			c.msStarted = true
		}
		// The complete frames go first: after a ConnectionBind, what
		// follows is raw data, not a broken frame.
		if end > r {
			if !c.handOff(buf[r:end]) {
				return
			}
			if c.bound != nil {
				c.relayData(buf[r+c.consumed : w])
				return
			}
			r = end
			partialSince = time.Time{}
		}
		if frameErr != nil {
			if errors.Is(frameErr, errFrameTooLarge) {
				st.frameTooLarge.Add(1)
			} else {
				st.notTURN.Add(1)
			}
			return
		}
		if r == w {
			r, w = 0, 0
		} else if r > 0 {
			w = copy(buf, buf[r:w])
			r = 0
		}
		now := time.Now()
		var deadline time.Time
		switch {
		case w > 0:
			if partialSince.IsZero() {
				partialSince = now
			}
			deadline = partialSince.Add(c.lim.FrameTimeout)
		case c.allocated.Load():
			deadline = now.Add(allocatedStreamIdleTimeout)
		default:
			deadline = now.Add(c.lim.IdleTimeout)
		}
		_ = c.nc.SetReadDeadline(deadline)
		n, err := c.nc.Read(buf[w:])
		w += n
		if err != nil && n == 0 {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if w > 0 {
					st.frameTimeouts.Add(1)
				} else {
					st.idleTimeouts.Add(1)
				}
			}
			return
		}
	}
}

// handOff gives frames to the worker and waits until it has handled them.
// It returns false when the connection or the server closed meanwhile.
func (c *streamConn) handOff(frames []byte) bool {
	c.pending = frames
	if !doOn(c.wl.dp, c.deliverFn, c.done) {
		return false
	}
	select {
	case <-c.delivered:
		return true
	case <-c.done:
		return false
	}
}

// deliver runs on the worker goroutine: it handles each pending frame as
// a message from the client. After a successful ConnectionBind the rest is
// no longer STUN but data for the peer: it stops there.
func (c *streamConn) deliver() {
	b := c.pending
	for len(b) > 0 && c.bound == nil {
		n, err := c.frameSize(b)
		if err != nil || n == 0 || n > len(b) {
			break // unreachable: the reader framed b
		}
		switch {
		case !c.ms:
			c.wl.w.handleClient(c.l, c.remote, b, 0, n, 0)
		case b[0] == msturn.FrameControl && msturn.Is(b[msturn.FrameHeaderSize:n]):
			c.wl.w.handleMS(c.l, c.remote, b[msturn.FrameHeaderSize:n], 0, c.wl.w.lookup(c.l, c.remote))
		case b[0] == msturn.FrameData:
			c.wl.w.msRawFromStream(c.l, c.remote, b[msturn.FrameHeaderSize:n])
		default:
			// [MS-TURN] §3.1.10: a control frame that is not a message
			// of the dialect is ignored.
			c.wl.w.p.drop(stats.DropMalformed)
		}
		b = b[n:]
	}
	c.consumed = len(c.pending) - len(b)
	c.delivered <- struct{}{}
}

// frameSize is frameSize or msFrameSize, by the connection's framing.
func (c *streamConn) frameSize(b []byte) (int, error) {
	if c.ms {
		return msFrameSize(b, c.lim.MaxFrame)
	}
	return frameSize(b, c.lim.MaxFrame)
}

// writeLoop writes what the worker queues until the connection closes or
// turns into a data connection.
func (c *streamConn) writeLoop() {
	defer close(c.writerDone)
	for {
		last := false
		select {
		case <-c.wake:
		case <-c.raw:
			last = true
		case <-c.done:
			return
		}
		c.mu.Lock()
		b := c.out
		c.out = c.spare[:0]
		c.outClosed = c.outClosed || last
		c.mu.Unlock()
		if len(b) == 0 {
			c.spare = b
			if last {
				return
			}
			continue
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.lim.WriteTimeout))
		if _, err := c.nc.Write(b); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.srv.stream.ctr.writeTimeouts.Add(1)
			}
			_ = c.Close()
			return
		}
		c.spare = b[:0]
		if last {
			return
		}
	}
}
