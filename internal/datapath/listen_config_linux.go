package datapath

import (
	"fmt"

	"golang.org/x/sys/unix"
)

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
