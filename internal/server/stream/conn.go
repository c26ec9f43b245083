package stream

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avedge/avedge/internal/server/stats"
)

// zeroPad is the padding written after messages (see Protocol.Pad).
var zeroPad [3]byte

// Conn is one client's TCP or TLS connection. Three goroutines touch it.
// The reader (readLoop) frames the byte stream and hands each burst of
// complete frames to the Handler, without a copy or an allocation per
// frame, and waits until the Handler is done with them. The Handler
// answers through Write, which never blocks: the queue is bounded, and
// what does not fit is dropped. The writer (writeLoop), which the first
// Write starts, swaps the queue with a second buffer and writes it to the
// connection, so a burst costs one write; a client that does not take its
// bytes within WriteTimeout is disconnected.
//
// Buffers are allocated when needed: a connection that holds no
// allocation reads into a small buffer and has no write queue until it is
// answered, and the queue's buffers grow only as far as the bytes queued
// at once need, up to WriteQueue.
type Conn struct {
	// Owner is the Handler's state for the connection, set in Opened.
	Owner any

	srv           *Server
	nc            net.Conn
	proto         Protocol
	remote, local netip.AddrPort
	tag           any // the Listener's Tag
	// held: the connection holds an allocation; the reader then applies
	// neither the idle timeout nor the lifetime. unheldSince is when it
	// last began to hold none (its accept, or Hold(false)), in Unix
	// nanoseconds: the lifetime runs from then. holds counts the calls of
	// Hold, so that the reader reckons its deadline again after one.
	held        atomic.Bool
	unheldSince atomic.Int64
	holds       atomic.Uint64

	// The write queue: out is filled under mu, spare is the writer's,
	// and they swap; neither grows beyond queueMax.
	mu        sync.Mutex
	out       []byte
	spare     []byte
	queueMax  int
	outClosed bool
	// writing: the writer was started (by the first Write); isRaw: the
	// connection carries raw bytes, Hold leaves its deadlines alone.
	writing, isRaw bool
	wake           chan struct{}
	// raw, closed by the reader, makes the writer send what is queued and
	// stop, closing writerDone: the connection then carries raw bytes.
	raw        chan struct{}
	writerDone chan struct{}

	done      chan struct{}
	closeOnce sync.Once
}

func newConn(srv *Server, o Opening, remote, local netip.AddrPort, accepted time.Time) *Conn {
	c := &Conn{
		srv:        srv,
		nc:         o.Conn,
		proto:      o.Protocol,
		remote:     remote,
		local:      local,
		queueMax:   srv.limits.WriteQueue,
		wake:       make(chan struct{}, 1),
		raw:        make(chan struct{}),
		writerDone: make(chan struct{}),
		done:       make(chan struct{}),
	}
	c.unheldSince.Store(accepted.UnixNano())
	return c
}

// Remote returns the client's address.
func (c *Conn) Remote() netip.AddrPort { return c.remote }

// Local returns the server's address of the connection.
func (c *Conn) Local() netip.AddrPort { return c.local }

// Tag returns the Tag of the Listener that accepted the connection.
func (c *Conn) Tag() any { return c.tag }

// Transport returns how the client reached the relay.
func (c *Conn) Transport() stats.Transport { return c.proto.Transport }

// Dialect returns the protocol of the connection's frames.
func (c *Conn) Dialect() stats.Dialect { return c.proto.Dialect }

// FrameSize returns the size of the first frame in b (see Framer).
func (c *Conn) FrameSize(b []byte) (int, error) { return c.proto.Framer(b, c.srv.limits.MaxFrame) }

// Done is closed when the connection is closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Write queues b for the client, with the protocol's padding after it. It
// never blocks: a full queue returns ErrFull and drops b. It allocates
// only while the queue's buffers grow towards Limits.WriteQueue, and
// starts the writer on the connection's first Write.
func (c *Conn) Write(b []byte) error {
	pad := 0
	if c.proto.Pad != nil {
		pad = c.proto.Pad(b)
	}
	c.mu.Lock()
	need := len(c.out) + len(b) + pad
	switch {
	case c.outClosed:
		c.mu.Unlock()
		return ErrClosed
	case need > c.queueMax:
		c.mu.Unlock()
		return ErrFull
	case need > cap(c.out):
		grown := make([]byte, len(c.out), min(c.queueMax, max(need, 2*cap(c.out), smallQueue)))
		copy(grown, c.out)
		c.out = grown
	}
	c.out = append(c.out, b...)
	c.out = append(c.out, zeroPad[:pad]...)
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// Hold tells whether the connection holds an allocation. While it does,
// neither the idle timeout nor the lifetime applies (Limits); once it no
// longer does, both run again from now, as for a new connection: the
// client may allocate again on it within the lifetime. It does nothing
// to a connection that turned raw.
func (c *Conn) Hold(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isRaw {
		return
	}
	if !on {
		c.unheldSince.Store(time.Now().UnixNano())
	}
	c.held.Store(on)
	c.holds.Add(1)
	// Wake the reader, which may wait under the deadline of the other
	// state, to reckon its deadline again.
	_ = c.nc.SetReadDeadline(time.Now())
}

// Held reports whether the connection holds an allocation (Hold).
func (c *Conn) Held() bool { return c.held.Load() }

// Close closes the connection; its reader then ends and the Handler's
// Closed runs. It is idempotent and safe from any goroutine.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		c.mu.Lock()
		c.outClosed = true
		c.mu.Unlock()
		_ = c.nc.Close()
	})
	return nil
}

// readLoop frames the stream and hands complete frames to the Handler
// until the connection fails, times out, breaks the framing rules or turns
// raw. first holds bytes already read (the sniffed first bytes).
func (c *Conn) readLoop(first []byte) {
	ctr, lim := &c.srv.ctr, &c.srv.limits
	full := lim.MaxFrame + readSlack
	buf := make([]byte, max(smallRead, len(first)))
	r, w := 0, copy(buf, first)
	opened := c.proto.Opens == nil
	var partialSince time.Time
	for {
		end := r
		var frameErr error
		for {
			n, err := c.FrameSize(buf[end:w])
			if err != nil {
				frameErr = err
				break
			}
			if n == 0 || end+n > w {
				break
			}
			end += n
		}
		if !opened && end > r {
			if !c.proto.Opens(buf[r:end]) {
				ctr.notTURN.Add(1)
				return
			}
			opened = true
		}
		// The complete frames go first: after a frame that turns the
		// connection raw, what follows is raw data, not a broken frame.
		if end > r {
			consumed, raw, ok := c.srv.handler.Deliver(c, buf[r:end])
			if !ok {
				return
			}
			if raw != nil {
				c.serveRaw(raw, buf[r+consumed:w])
				return
			}
			r = end
			partialSince = time.Time{}
		}
		if frameErr != nil {
			if errors.Is(frameErr, ErrFrameTooLarge) {
				ctr.frameTooLarge.Add(1)
			} else {
				ctr.notTURN.Add(1)
			}
			return
		}
		if r == w {
			r, w = 0, 0
		} else if r > 0 {
			w = copy(buf, buf[r:w])
			r = 0
		}
		// Grow the small buffer for a frame that does not fit it (the
		// framer bounds it by MaxFrame), or for the media of an
		// allocation.
		if len(buf) < full && (w == len(buf) || c.held.Load()) {
			grown := make([]byte, full)
			copy(grown, buf[:w])
			buf = grown
		}
		holds := c.holds.Load()
		if w > 0 && partialSince.IsZero() {
			partialSince = time.Now()
		}
		deadline, expired := c.readDeadline(partialSince)
		_ = c.nc.SetReadDeadline(deadline)
		if c.holds.Load() != holds {
			continue // a Hold came between: reckon again
		}
		n, err := c.nc.Read(buf[w:])
		w += n
		if err != nil && n == 0 {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if c.holds.Load() != holds {
					continue // Hold woke the reader
				}
				expired.Add(1)
			}
			return
		}
	}
}

// readDeadline returns the read deadline of the connection, and the
// counter of what it means when it passes: the frame timeout from
// partialSince when a frame is begun (not zero), else the idle timeout
// from now; without an allocation, no later than the lifetime.
func (c *Conn) readDeadline(partialSince time.Time) (time.Time, *atomic.Uint64) {
	ctr, lim := &c.srv.ctr, &c.srv.limits
	held := c.held.Load()
	deadline, expired := time.Now().Add(lim.IdleTimeout), &ctr.idleTimeouts
	switch {
	case !partialSince.IsZero():
		deadline, expired = partialSince.Add(lim.FrameTimeout), &ctr.frameTimeouts
	case held:
		deadline = time.Now().Add(heldIdleTimeout)
	}
	if held {
		return deadline, expired
	}
	if end := time.Unix(0, c.unheldSince.Load()).Add(lim.UnheldLifetime); end.Before(deadline) {
		return end, &ctr.lifetimeExpired
	}
	return deadline, expired
}

// serveRaw flushes the write queue (the answer to the frame that turned
// the connection raw goes out before anything else), clears the
// deadlines and hands the connection to raw.
func (c *Conn) serveRaw(raw RawFunc, rest []byte) {
	c.mu.Lock()
	c.isRaw = true
	writing := c.writing
	if !writing {
		c.outClosed = true // nothing queued: nothing to flush
	}
	c.mu.Unlock()
	if writing {
		close(c.raw)
		select {
		case <-c.writerDone:
		case <-c.done:
			return
		}
	}
	_ = c.nc.SetDeadline(time.Time{})
	raw(c.nc, rest, c.done)
}

// writeLoop writes what is queued until the connection closes or turns
// raw.
func (c *Conn) writeLoop() {
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
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.limits.WriteTimeout))
		if _, err := c.nc.Write(b); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.srv.ctr.writeTimeouts.Add(1)
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
