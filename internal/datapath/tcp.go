package datapath

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// TCP relay sockets (RFC 6062). A TCP relayed transport address both
// listens for peers and connects out to them from the same address and
// port, so every such socket sets SO_REUSEADDR and SO_REUSEPORT before
// bind(2) (SO_REUSEADDR only on Windows): RFC 6062 §5.2, "The local endpoint is the relayed transport
// address associated with the allocation". These are ordinary blocking
// Go sockets on the netpoller, not part of a Worker's epoll set: TCP relay
// traffic is rare, and a copy per direction with a bounded buffer gives
// back-pressure through the TCP windows for free.

// ListenTCP binds a TCP listener for a relayed transport address. A bind
// failure with EADDRINUSE matches ErrAddrInUse, one with EADDRNOTAVAIL (or
// an address family the kernel lacks) ErrAddrNotAvailable.
func ListenTCP(addr netip.AddrPort) (*net.TCPListener, error) {
	lc := net.ListenConfig{Control: reuseControl}
	ln, err := lc.Listen(context.Background(), tcpNetwork(addr), addr.String())
	if err != nil {
		return nil, bindError(err)
	}
	return ln.(*net.TCPListener), nil
}

// DialTCP connects from local, a relayed transport address that a
// ListenTCP listener may hold, to remote. ctx bounds the attempt.
func DialTCP(ctx context.Context, local, remote netip.AddrPort) (*net.TCPConn, error) {
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(local), Control: reuseControl}
	c, err := d.DialContext(ctx, tcpNetwork(local), remote.String())
	if err != nil {
		return nil, bindError(err)
	}
	return c.(*net.TCPConn), nil
}

// tcpNetwork is the network name of addr's family.
func tcpNetwork(addr netip.AddrPort) string {
	if addr.Addr().Is4() || addr.Addr().Is4In6() {
		return "tcp4"
	}
	return "tcp6"
}

// reuseControl sets SO_REUSEADDR and SO_REUSEPORT on a socket before bind.
func reuseControl(_, _ string, rc syscall.RawConn) error {
	var optErr error
	err := rc.Control(func(fd uintptr) { optErr = setReuse(fd, true) })
	if err == nil {
		err = optErr
	}
	if err != nil {
		return fmt.Errorf("%w: setsockopt SO_REUSEADDR/SO_REUSEPORT: %w", ErrSocket, err)
	}
	return nil
}

// bindError maps the bind failures of a Go socket (TCP, or UDP on the
// portable path) to the package's sentinels and wraps the rest.
func bindError(err error) error {
	switch {
	case errors.Is(err, errnoAddrInUse):
		return fmt.Errorf("%w: %w", ErrAddrInUse, err)
	case errors.Is(err, errnoAddrNotAvail), errors.Is(err, errnoNoFamily):
		return fmt.Errorf("%w: %w", ErrAddrNotAvailable, err)
	case errors.Is(err, ErrSocket):
		return err
	}
	return fmt.Errorf("%w: %w", ErrSocket, err)
}
