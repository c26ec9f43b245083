package datapath

import "fmt"

// SetDontFragment makes every later datagram sent on the socket
// unfragmentable (on true) or restores the system's default (on false): the
// datagrams carry the DF bit (IPv4) or are never given a Fragment header by
// the sender (IPv6, RFC 3542 §11.2), and one larger than the path MTU fails
// instead of being fragmented. It is a socket option, not a per-datagram
// flag. Linux sets IP_MTU_DISCOVER to IP_PMTUDISC_DO (its default,
// IP_PMTUDISC_WANT, sets DF only on datagrams that fit and fragments the
// others) or IPV6_DONTFRAG; macOS and FreeBSD set IP_DONTFRAG or
// IPV6_DONTFRAG; Windows IP_DONTFRAGMENT or IPV6_DONTFRAG.
func (c *Conn) SetDontFragment(on bool) error {
	if c.closed.Load() {
		return ErrClosed
	}
	v6 := !c.local.Addr().Is4()
	err := c.control(func(fd uintptr) error { return setDontFragment(fd, v6, on) })
	if err != nil {
		return fmt.Errorf("%w: setsockopt don't fragment: %w", ErrSocket, err)
	}
	return nil
}

// DontFragment reads back from the system whether datagrams sent on the
// socket are unfragmentable, as SetDontFragment(true) makes them (on Linux,
// IP_PMTUDISC_PROBE counts as well: it sets DF too).
func (c *Conn) DontFragment() (bool, error) {
	if c.closed.Load() {
		return false, ErrClosed
	}
	v6 := !c.local.Addr().Is4()
	var on bool
	err := c.control(func(fd uintptr) error {
		var err error
		on, err = dontFragment(fd, v6)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%w: getsockopt don't fragment: %w", ErrSocket, err)
	}
	return on, nil
}
