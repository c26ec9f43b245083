package datapath

import (
	"errors"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawConn is the state of a Conn on Linux's fast path: a non-blocking UDP
// socket driven by raw system calls, outside Go's netpoller.
type rawConn struct {
	fd     int
	family int
	// drops is the last SO_RXQ_OVFL count read with a datagram (see
	// ListenConfig.RecvDrops); written by the worker goroutine only.
	drops uint32
}

// listenRaw opens a non-blocking UDP socket (SOCK_NONBLOCK|SOCK_CLOEXEC)
// bound to addr, which is not IPv4-mapped: see ListenUDP.
func listenRaw(addr netip.AddrPort, cfg ListenConfig) (*Conn, error) {
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
	c := &Conn{fastConn: rawConn{fd: fd, family: family}}
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

// closeRaw closes the socket.
func (c *Conn) closeRaw() error {
	if err := unix.Close(c.fd); err != nil {
		return fmt.Errorf("%w: close: %w", ErrSocket, err)
	}
	return nil
}
