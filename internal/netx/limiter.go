package netx

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Limiter bounds the open connections: at most a total number, and at
// most a number per source (see Source: an IPv4 address, or an IPv6 /64).
// It counts what it admits and refuses. It is safe for concurrent use.
type Limiter struct {
	perSource int
	// slots holds a token per open connection; its capacity is the total
	// limit.
	slots chan struct{}

	mu       sync.Mutex
	bySource map[netip.Prefix]int

	// open counts the connections admitted and not released: a Listener
	// also holds a slot while it waits in Accept, so len(slots) is not it.
	open                                     atomic.Int64
	admitted, refusedTotal, refusedPerSource atomic.Uint64
}

// LimitStats counts the connections of a Limiter.
type LimitStats struct {
	// Open is the number of connections admitted and not yet released;
	// Admitted counts every connection admitted.
	Open, Admitted uint64
	// RefusedTotal and RefusedPerSource count the connections refused for
	// the total and the per-source limit.
	RefusedTotal, RefusedPerSource uint64
}

// NewLimiter returns a Limiter of total open connections, perSource of
// them from one source; both must be at least 1 (ErrBadLimits).
func NewLimiter(total, perSource int) (*Limiter, error) {
	if total < 1 || perSource < 1 {
		return nil, fmt.Errorf("%w: total %d, per source %d", ErrBadLimits, total, perSource)
	}
	return &Limiter{perSource: perSource, slots: make(chan struct{}, total), bySource: make(map[netip.Prefix]int)}, nil
}

// Source returns the source a connection from addr counts against in the
// per-source limits: an IPv4 address alone (IPv4-mapped IPv6 addresses
// included), an IPv6 address by its /64 prefix, as the UDP path's
// policy.SourceLimiter counts sources: one subscriber or host is
// typically given a whole /64 (RFC 6177), so counting per /128 would let
// one host take every place. All invalid addresses count as one source,
// the zero Prefix.
func Source(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := 64
	if addr.Is4() {
		bits = 32
	}
	p, _ := addr.Prefix(bits) // the zero Addr gives the zero Prefix; a zone is dropped
	return p
}

// Admit admits a new connection from src unless a limit is reached: the
// error is then ErrTotalLimit or ErrSourceLimit, counted under its cause.
// Admit never waits. The connection holds its place until release is
// called; release may be called more than once.
func (l *Limiter) Admit(src netip.Addr) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.refusedTotal.Add(1)
		return nil, ErrTotalLimit
	}
	return l.admitSource(src)
}

// admitSource admits a connection from addr that holds a slot, or frees
// the slot and refuses it with ErrSourceLimit.
func (l *Limiter) admitSource(addr netip.Addr) (func(), error) {
	src := Source(addr)
	l.mu.Lock()
	ok := l.bySource[src] < l.perSource
	if ok {
		l.bySource[src]++
	}
	l.mu.Unlock()
	if !ok {
		<-l.slots
		l.refusedPerSource.Add(1)
		return nil, fmt.Errorf("%w: %v", ErrSourceLimit, src)
	}
	l.admitted.Add(1)
	l.open.Add(1)
	var once sync.Once
	return func() { once.Do(func() { l.release(src) }) }, nil
}

// release gives back the places of a connection from src.
func (l *Limiter) release(src netip.Prefix) {
	l.mu.Lock()
	if l.bySource[src]--; l.bySource[src] <= 0 {
		delete(l.bySource, src)
	}
	l.mu.Unlock()
	l.open.Add(-1)
	<-l.slots
}

// Stats returns the Limiter's counts.
func (l *Limiter) Stats() LimitStats {
	return LimitStats{
		Open:             uint64(l.open.Load()),
		Admitted:         l.admitted.Load(),
		RefusedTotal:     l.refusedTotal.Load(),
		RefusedPerSource: l.refusedPerSource.Load(),
	}
}

// sourceOf returns the IP address of a connection's remote address (a
// *net.TCPAddr or a "host:port" string), IPv4-mapped addresses unmapped;
// the zero Addr when it has none.
func sourceOf(remote net.Addr) netip.Addr {
	if ta, ok := remote.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	if remote == nil {
		return netip.Addr{}
	}
	ap, _ := netip.ParseAddrPort(remote.String())
	return ap.Addr().Unmap()
}
