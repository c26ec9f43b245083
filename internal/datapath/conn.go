//go:build linux

package datapath

import (
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Conn is a non-blocking UDP socket driven by raw system calls, outside Go's
// netpoller. A Worker reads it; any goroutine may write to it with WriteTo.
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

	fd     int
	family int
	local  netip.AddrPort
	closed atomic.Bool
	// worker is the Worker the Conn is added to, or nil. WriteTo counts on
	// that worker's Stats.
	worker atomic.Pointer[Worker]
	// drops is the last SO_RXQ_OVFL count read with a datagram (see
	// ListenConfig.RecvDrops); written by the worker goroutine only.
	drops uint32
}

// ListenUDP opens a non-blocking UDP socket (SOCK_NONBLOCK|SOCK_CLOEXEC)
// bound to addr. An IPv4 (or IPv4-mapped) addr gives an AF_INET socket; an
// IPv6 addr gives an AF_INET6 socket with IPV6_V6ONLY=1, whose zone, if any,
// must be a numeric interface index. Port 0 binds a port the kernel chooses,
// which LocalAddr reports. A bind failure with EADDRINUSE matches
// ErrAddrInUse; one with EADDRNOTAVAIL, or an IPv6 address on a kernel
// without IPv6 (EAFNOSUPPORT), matches ErrAddrNotAvailable.
func ListenUDP(addr netip.AddrPort, cfg ListenConfig) (*Conn, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if addr.Addr().Is4In6() {
		addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	}
	family := unix.AF_INET6
	if addr.Addr().Is4() {
		family = unix.AF_INET
	}
	var sa unix.RawSockaddrInet6
	salen, err := putSockaddr(&sa, family, addr)
	if err != nil {
		return nil, fmt.Errorf("%w: listen on %v", err, addr)
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if errors.Is(err, unix.EAFNOSUPPORT) {
		// A kernel without IPv6 lacks every IPv6 address.
		return nil, fmt.Errorf("%w: socket for %v: %w", ErrAddrNotAvailable, addr, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: socket for %v: %w", ErrSocket, addr, err)
	}
	c := &Conn{fd: fd, family: family}
	if err := c.setup(cfg, &sa, salen); err != nil {
		return nil, errors.Join(fmt.Errorf("listen on %v: %w", addr, err), c.Close())
	}
	return c, nil
}

// setup applies cfg, binds to the raw address sa and records the bound
// address.
func (c *Conn) setup(cfg ListenConfig, sa *unix.RawSockaddrInet6, salen uintptr) error {
	if c.family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(c.fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			return fmt.Errorf("%w: setsockopt IPV6_V6ONLY: %w", ErrSocket, err)
		}
	}
	if err := cfg.apply(c.fd, c.family); err != nil {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(c.fd), uintptr(unsafe.Pointer(sa)), salen)
	switch e {
	case 0:
	case unix.EADDRINUSE:
		return ErrAddrInUse
	case unix.EADDRNOTAVAIL:
		return ErrAddrNotAvailable
	default:
		return fmt.Errorf("%w: bind: %w", ErrSocket, e)
	}
	var local unix.RawSockaddrInet6
	size := uint32(unix.SizeofSockaddrInet6)
	_, _, e = unix.Syscall(unix.SYS_GETSOCKNAME, uintptr(c.fd), uintptr(unsafe.Pointer(&local)), uintptr(unsafe.Pointer(&size)))
	if e != 0 {
		return fmt.Errorf("%w: getsockname: %w", ErrSocket, e)
	}
	c.local = addrPortFromRaw(&local)
	return nil
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
	if err := unix.Close(c.fd); err != nil {
		return fmt.Errorf("%w: close: %w", ErrSocket, err)
	}
	return nil
}
