package netx

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Limiter bounds the open connections: at most a total number, and at
// most a number per source address. It counts what it admits and refuses.
// It is safe for concurrent use.
type Limiter struct {
	perSource int
	// slots holds a token per open connection; its capacity is the total
	// limit.
	slots chan struct{}

	mu       sync.Mutex
	bySource map[netip.Addr]int

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
// them from one source address; both must be at least 1 (ErrBadLimits).
func NewLimiter(total, perSource int) (*Limiter, error) {
	if total < 1 || perSource < 1 {
		return nil, fmt.Errorf("%w: total %d, per source %d", ErrBadLimits, total, perSource)
	}
	return &Limiter{perSource: perSource, slots: make(chan struct{}, total), bySource: make(map[netip.Addr]int)}, nil
}

// Admit admits a new connection from src, an IPv4-mapped IPv6 address
// counting as its IPv4 address, unless a limit is reached: the error is
// then ErrTotalLimit or ErrSourceLimit, counted under its cause. Admit
// never waits. The connection holds its place until release is called;
// release may be called more than once.
func (l *Limiter) Admit(src netip.Addr) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.refusedTotal.Add(1)
		return nil, ErrTotalLimit
	}
	return l.admitSource(src)
}

// admitSource admits a connection from src that holds a slot, or frees
// the slot and refuses it with ErrSourceLimit.
func (l *Limiter) admitSource(src netip.Addr) (func(), error) {
	src = src.Unmap()
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
func (l *Limiter) release(src netip.Addr) {
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
