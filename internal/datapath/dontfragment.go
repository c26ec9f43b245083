//go:build linux

package datapath

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// SetDontFragment makes every later datagram sent on the socket
// unfragmentable (on true) or restores the kernel's default (on false). On
// an IPv4 socket it sets IP_MTU_DISCOVER to IP_PMTUDISC_DO: every datagram
// carries the DF bit, and one larger than the path MTU fails with EMSGSIZE
// instead of being fragmented. (Linux's default, IP_PMTUDISC_WANT, sets DF
// only on datagrams that fit and fragments the others.) On an IPv6 socket it
// sets IPV6_DONTFRAG, so the sender never adds a Fragment header (RFC 3542
// §11.2). It is a socket option, not a per-datagram flag: Linux has no
// control message for DF on IPv4.
func (c *Conn) SetDontFragment(on bool) error {
	if c.closed.Load() {
		return ErrClosed
	}
	level, opt, val := unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_WANT
	if on {
		val = unix.IP_PMTUDISC_DO
	}
	if c.family == unix.AF_INET6 {
		level, opt, val = unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG, 0
		if on {
			val = 1
		}
	}
	if err := unix.SetsockoptInt(c.fd, level, opt, val); err != nil {
		return fmt.Errorf("%w: setsockopt don't fragment: %w", ErrSocket, err)
	}
	return nil
}

// DontFragment reads back from the kernel whether datagrams sent on the
// socket are unfragmentable, as SetDontFragment(true) makes them: on IPv4
// whether IP_MTU_DISCOVER is IP_PMTUDISC_DO (or IP_PMTUDISC_PROBE, which
// sets DF as well), on IPv6 whether IPV6_DONTFRAG is set.
func (c *Conn) DontFragment() (bool, error) {
	if c.closed.Load() {
		return false, ErrClosed
	}
	level, opt := unix.IPPROTO_IP, unix.IP_MTU_DISCOVER
	if c.family == unix.AF_INET6 {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG
	}
	v, err := unix.GetsockoptInt(c.fd, level, opt)
	if err != nil {
		return false, fmt.Errorf("%w: getsockopt don't fragment: %w", ErrSocket, err)
	}
	if c.family == unix.AF_INET6 {
		return v != 0, nil
	}
	return v == unix.IP_PMTUDISC_DO || v == unix.IP_PMTUDISC_PROBE, nil
}
