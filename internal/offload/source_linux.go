package offload

import "net/netip"

// Source returns the address the kernel sends from to dst when a socket
// bound to a wildcard address leaves the choice to it (the route's
// preferred source): the address a client of a wildcard listener gets its
// answers from in user space, and so the Listener to install for its
// channels. Errors wrap ErrRoute or ErrClosed.
func (l *Loader) Source(dst netip.Addr) (netip.Addr, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return netip.Addr{}, ErrClosed
	}
	return l.routes.source(dst)
}
