//go:build linux

package datapath

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ListenConfig holds the socket options ListenUDP applies before bind(2).
type ListenConfig struct {
	// ReusePort sets SO_REUSEPORT, so that several sockets (one per worker)
	// can bind the same address and the kernel spreads datagrams over them.
	ReusePort bool
	// RecvBuffer is the requested receive buffer size in bytes; 0 leaves the
	// system default. SO_RCVBUFFORCE is tried first (it needs CAP_NET_ADMIN);
	// without the privilege SO_RCVBUF is used, which the kernel caps at
	// net.core.rmem_max.
	RecvBuffer int
	// SendBuffer is the requested send buffer size in bytes; 0 leaves the
	// system default. Like RecvBuffer, with SO_SNDBUFFORCE and SO_SNDBUF
	// (capped at net.core.wmem_max).
	SendBuffer int
	// RecvTOS asks the kernel to report the TOS byte (IPv4, IP_RECVTOS) or
	// Traffic Class (IPv6, IPV6_RECVTCLASS) of every datagram, which a
	// Worker passes to the Handler in Meta.TOS.
	RecvTOS bool
	// RecvDrops asks the kernel to report, with every datagram, how many
	// datagrams it has dropped on the socket because its receive queue was
	// full (SO_RXQ_OVFL), which a Worker sums into Stats.RxDropped.
	RecvDrops bool
}

// validate rejects negative buffer sizes.
func (cfg ListenConfig) validate() error {
	if cfg.RecvBuffer < 0 || cfg.SendBuffer < 0 {
		return fmt.Errorf("%w: negative socket buffer size (recv %d, send %d)", ErrBadOptions, cfg.RecvBuffer, cfg.SendBuffer)
	}
	return nil
}

// apply sets the configured options on fd, a socket of family fam.
func (cfg ListenConfig) apply(fd, fam int) error {
	if cfg.RecvTOS {
		level, opt := unix.IPPROTO_IP, unix.IP_RECVTOS
		if fam == unix.AF_INET6 {
			level, opt = unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS
		}
		if err := unix.SetsockoptInt(fd, level, opt, 1); err != nil {
			return fmt.Errorf("%w: setsockopt receive TOS: %w", ErrSocket, err)
		}
	}
	if cfg.RecvDrops {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1); err != nil {
			return fmt.Errorf("%w: setsockopt SO_RXQ_OVFL: %w", ErrSocket, err)
		}
	}
	if cfg.ReusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fmt.Errorf("%w: setsockopt SO_REUSEPORT: %w", ErrSocket, err)
		}
	}
	if err := setBuffer(fd, unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, cfg.RecvBuffer); err != nil {
		return err
	}
	return setBuffer(fd, unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, cfg.SendBuffer)
}

// setBuffer sets a socket buffer size with the privileged option force,
// falling back to the capped option opt when the process lacks
// CAP_NET_ADMIN. Size 0 leaves the default.
func setBuffer(fd, force, opt, size int) error {
	if size == 0 {
		return nil
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, size) == nil {
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, size); err != nil {
		return fmt.Errorf("%w: setsockopt buffer size %d: %w", ErrSocket, size, err)
	}
	return nil
}
