package server

import (
	"net/netip"

	"github.com/avedge/avedge/internal/auth"
)

// alternates are sibling edges by address family (famV4, famV6), which
// clients are sent to in turn with 300 Try Alternate (RFC 8489 §10).
type alternates [families][]netip.AddrPort

// newAlternates sorts list by family, unmapping IPv4-mapped addresses.
func newAlternates(list []netip.AddrPort) alternates {
	var a alternates
	for _, ap := range list {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		f := familyOf(ap.Addr())
		a[f] = append(a[f], ap)
	}
	return a
}

// FrontListener is a UDP listener that answers authenticated Allocates
// with 300 Try Alternate naming RedirectTo, another listener of the edge
// (RFC 8489 §10): a load balancer sends a pool's clients to the nodes'
// front listeners, and after that first exchange each client talks to its
// node's own address, not to the load balancer's virtual address. Other
// requests (Binding) are answered as on any listener.
type FrontListener struct {
	// Addr is the address to bind; port 0 picks a free port.
	Addr netip.AddrPort
	// RedirectTo is the listener clients are sent to.
	RedirectTo netip.AddrPort
}

// udpListen is a UDP listener to bind: a client listener, or a front
// listener when redirect is valid.
type udpListen struct {
	addr, redirect netip.AddrPort
	stunOnly       bool                // Options.STUNListeners
	auth           *auth.Authenticator // the listener's (listenerAuth)
}

// drainAlternates returns the siblings of a drain: opts.AlternateServers,
// else the pool's.
func drainAlternates(opts Options) []netip.AddrPort {
	if len(opts.AlternateServers) > 0 {
		return opts.AlternateServers
	}
	return opts.PoolAlternates
}

// list returns every sibling, for logs.
func (a *alternates) list() []string {
	var out []string
	for _, fam := range a {
		for _, ap := range fam {
			out = append(out, ap.String())
		}
	}
	return out
}

// alternate returns the next sibling (a worker takes them in turn) of the
// family of listener l for a client to try instead: a client reaches the
// sibling the way it reached this edge. A client over TCP or TLS gets the
// sibling's address with the port of the listener it reached, since it
// will ask again over the same transport (RFC 8489 §10) and the nodes of
// a pool share their listener ports; the configured port is that of the
// siblings' UDP listeners. It reports false when there is no sibling of
// that family.
func (w *worker) alternate(a *alternates, l *listener) (netip.AddrPort, bool) {
	sibs := a[familyOf(l.addr.Addr())]
	if len(sibs) == 0 {
		return netip.AddrPort{}, false
	}
	alt := sibs[w.nextAlternate%uint32(len(sibs))]
	w.nextAlternate++
	if l.conn != nil {
		alt = netip.AddrPortFrom(alt.Addr(), l.addr.Port())
	}
	return alt, true
}
