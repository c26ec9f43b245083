package datapath

import (
	"net"
	"net/netip"
	"sync/atomic"
)

// Conn is a UDP socket that a Worker reads and any goroutine may write to
// with WriteTo. On Linux's fast path it is a non-blocking socket driven by
// raw system calls, outside Go's netpoller; on the portable path (every
// other system, or ListenConfig.Portable) it is a net.UDPConn.
//
// Close must not run concurrently with WriteTo or while the Conn is still
// added to a running Worker: remove it first (Worker.Remove on the worker
// goroutine), then close it, so that its file descriptor number cannot be
// reused under a pending write.
type Conn struct {
	// Owner is free for the caller, for example the allocation a relay
	// socket belongs to; the package never reads it. Set it before the
	// Conn is shared with a Worker.
	Owner any

	local  netip.AddrPort
	closed atomic.Bool
	// worker is the Worker the Conn is added to, or nil. WriteTo counts on
	// that worker's Stats.
	worker atomic.Pointer[Worker]
	// udp is the socket of a portable Conn, nil on the fast path.
	udp *net.UDPConn
	// reader is the goroutine that reads a portable Conn for its worker,
	// nil while the Conn is not added; see Worker.Add and Worker.Remove.
	reader *reader
	// fastConn is the state of the system's fast path (empty where there
	// is none).
	//lint:ignore U1000 holds nothing on systems without a fast path
	fastConn
}

// ListenUDP opens a UDP socket bound to addr. An IPv4 (or IPv4-mapped) addr
// gives an IPv4 socket; an IPv6 addr gives an IPv6-only socket, whose zone,
// if any, must be a numeric interface index. Port 0 binds a port the kernel
// chooses, which LocalAddr reports. A bind failure because the address is
// in use matches ErrAddrInUse; one because the host lacks the address, or
// IPv6 altogether, matches ErrAddrNotAvailable.
//
// On Linux the socket is non-blocking (SOCK_NONBLOCK|SOCK_CLOEXEC) and for a
// fast-path Worker, unless cfg.Portable asks for a portable one.
func ListenUDP(addr netip.AddrPort, cfg ListenConfig) (*Conn, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if addr.Addr().Is4In6() {
		addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	}
	return listenUDP(addr, cfg)
}

// LocalAddr returns the address the socket is bound to, with the port the
// kernel chose when ListenUDP was given port 0.
func (c *Conn) LocalAddr() netip.AddrPort { return c.local }

// Close closes the socket. Closing a closed Conn does nothing and returns
// nil. See the Conn documentation for the required ordering with Remove.
func (c *Conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	return c.close()
}

// path names the data path c is for.
func (c *Conn) path() string {
	if c.udp != nil {
		return PathPortable
	}
	return PathEpoll
}
