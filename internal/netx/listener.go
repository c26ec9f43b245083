package netx

import (
	"net"
	"sync"
)

// Listener is a net.Listener whose connections a Limiter bounds. Accept
// waits while the total limit is reached, so that further connections
// wait in the kernel's backlog until one closes; a connection from a
// source address at its limit is closed as soon as it is accepted, so
// that one peer cannot take every place. A connection gives its places
// back when it is closed.
type Listener struct {
	net.Listener
	lim     *Limiter
	refused func(remote net.Addr, err error)
	done    chan struct{}
	once    sync.Once
}

// NewListener wraps ln with lim. refused, if not nil, is called with the
// remote address of each connection closed for its source's limit and the
// error (ErrSourceLimit) saying so.
func NewListener(ln net.Listener, lim *Limiter, refused func(remote net.Addr, err error)) *Listener {
	return &Listener{Listener: ln, lim: lim, refused: refused, done: make(chan struct{})}
}

// Accept waits for a free place below the total limit, then for a
// connection from a source below its limit. After Close it returns an
// error wrapping net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		select {
		case l.lim.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.lim.slots
			return nil, err
		}
		release, err := l.lim.admitSource(sourceOf(c.RemoteAddr()))
		if err == nil {
			return &limitedConn{Conn: c, release: release}, nil
		}
		_ = c.Close()
		if l.refused != nil {
			l.refused(c.RemoteAddr(), err)
		}
	}
}

// Close closes the listener and wakes an Accept waiting for a place.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Done is closed once Close is called, for an accept loop that pauses
// after an error to stop waiting.
func (l *Listener) Done() <-chan struct{} { return l.done }

// limitedConn gives its places back when closed.
type limitedConn struct {
	net.Conn
	release func()
}

// Close closes the connection and gives its places back.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
