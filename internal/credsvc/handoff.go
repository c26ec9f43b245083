package credsvc

import (
	"context"
	"crypto/tls"
	"net"
	"sync"

	"github.com/avedge/avedge/internal/netx"
)

// handoffListener is the net.Listener the http.Server serves: the Server
// accepts, handshakes and sniffs every connection itself, and hands those
// that the Dialect does not claim over through it.
type handoffListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

// newHandoffListener returns a handoffListener reporting addr.
func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// Accept returns the next connection handed over.
func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close makes Accept and handOff fail from now on.
func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns the Server's address.
func (l *handoffListener) Addr() net.Addr { return l.addr }

// handOff waits until the http.Server takes c, and reports false if the
// listener is closed first: the caller still owns c.
func (l *handoffListener) handOff(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

// httpConn is a TLS connection handed to the http.Server: it first
// replays the bytes read to tell HTTP from the Dialect. net/http fills
// Request.TLS only for a *tls.Conn, so the TLS state travels in the
// connection's context instead (see connContext).
type httpConn struct {
	netx.PrefixConn // the *tls.Conn, after the bytes sniffed
	state           *tls.ConnectionState
}

// tlsStateKey is the context key of an httpConn's TLS state.
type tlsStateKey struct{}

// connContext is the http.Server's ConnContext: it stores an httpConn's TLS
// state for tlsState.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if hc, ok := c.(*httpConn); ok {
		return context.WithValue(ctx, tlsStateKey{}, hc.state)
	}
	return ctx
}

// tlsState returns the TLS state of the connection ctx belongs to, or nil.
func tlsState(ctx context.Context) *tls.ConnectionState {
	st, _ := ctx.Value(tlsStateKey{}).(*tls.ConnectionState)
	return st
}
