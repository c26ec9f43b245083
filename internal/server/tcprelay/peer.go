package tcprelay

import (
	"io"
	"net"
	"net/netip"
	"sync"

	"github.com/avedge/avedge/internal/stunproto"
)

// PeerConn is one peer data connection of a TCP allocation (RFC 6062
// §5.2, §5.3). Its exported fields are set before it is shared and never
// change; the rest is guarded by a mutex, as the connection is closed
// from the allocation's owner, the goroutines of its data connection and
// the server's shutdown.
type PeerConn struct {
	// Owner is the core's state for the connection.
	Owner any
	// ID names the connection in CONNECTION-ID; Registry.Add sets it.
	ID stunproto.ConnectionID
	// Peer is the peer's address; Username the credential of the
	// allocation, which the ConnectionBind must use; Control the client
	// address of the allocation's control connection.
	Peer     netip.AddrPort
	Username string
	Control  netip.AddrPort
	// User is whose share of the pending connections it counts against:
	// the allocation's identity.
	User string

	mu     sync.Mutex
	nc     net.Conn  // nil while a Connect is under way
	client io.Closer // the client data connection, once bound
	closed bool
}

// SetConn gives p its connected socket; false when p is closed already.
func (p *PeerConn) SetConn(nc net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.nc = nc
	return true
}

// Bind joins p with the client data connection client and returns the
// peer's socket; false when p is closed.
func (p *PeerConn) Bind(client io.Closer) (net.Conn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false
	}
	p.client = client
	return p.nc, true
}

// Shutdown closes the peer connection and its client data connection, if
// bound. It is safe from any goroutine and idempotent.
func (p *PeerConn) Shutdown() {
	p.mu.Lock()
	nc, c := p.nc, p.client
	p.closed = true
	p.mu.Unlock()
	if nc != nil {
		_ = nc.Close()
	}
	if c != nil {
		_ = c.Close()
	}
}
