package stream

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/avedge/avedge/internal/netx"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/stats"
)

// Handler serves the frames of the connections; the relay core is one.
// Its methods are called from each connection's reader goroutine.
type Handler interface {
	// Opened is called for a new connection once a sniffer has claimed
	// it, before any Deliver; the handler may keep its state in c.Owner.
	// An error closes c (Closed is not called then).
	Opened(c *Conn) error
	// Deliver handles frames, a burst of complete frames of c, and
	// returns once it has. consumed is len(frames), unless a frame made
	// c a raw byte stream (an RFC 6062 client data connection): consumed
	// then counts the bytes up to and including that frame, and raw
	// serves the rest of the connection. ok false closes c.
	Deliver(c *Conn, frames []byte) (consumed int, raw RawFunc, ok bool)
	// Closed is called once, after the last Deliver, when c has closed.
	Closed(c *Conn)
}

// RawFunc serves a connection that carries no more frames: nc with its
// deadlines cleared and the write queue flushed, rest the bytes the client
// sent after its last frame, done closed when the connection is closed
// (Conn.Close, or Stop). The connection closes when it returns.
type RawFunc func(nc net.Conn, rest []byte, done <-chan struct{})

// Listener is a TCP address and the protocols it takes, in the order they
// are tried on a new connection's first bytes.
type Listener struct {
	// Addr is the address to bind; port 0 picks a free port.
	Addr netip.AddrPort
	// Sniffers tell the protocols apart; a connection none claims is
	// closed and counted as not TURN.
	Sniffers []Sniffer
	// Proxy, if set, makes the connections come from proxies that send
	// a PROXY protocol header first, naming the client: the limits, and
	// Conn.Remote, take the client's address from it.
	Proxy Proxy
	// Tag is the Handler's mark for the listener, which each of its
	// connections carries (Conn.Tag).
	Tag any
}

// Options configure a Server.
type Options struct {
	// Listeners are the addresses to listen on.
	Listeners []Listener
	// SkipUnavailable skips, with a warning, a listener whose address
	// the host lacks (such as ::1 without IPv6) instead of failing.
	SkipUnavailable bool
	// Limits bound the connections (see Limits for the defaults).
	Limits Limits
	// Handler serves the frames; required.
	Handler Handler
	// Log, if set, receives the accept errors and skipped listeners.
	Log *slog.Logger
}

// Server listens for client connections and serves each until it closes.
type Server struct {
	limits    Limits
	handler   Handler
	log       *slog.Logger
	listeners []*listener
	addrs     []netip.AddrPort
	// admitted bounds the connections in total and per source address;
	// conns are the open ones, closed by Stop. rate, if set, limits the
	// new connections per source; the accept goroutines share it under
	// rateMu.
	admitted *netx.Limiter
	pending  *netx.Limiter // the connections of proxies awaiting their header
	conns    netx.Tracker
	ctr      counters
	rateMu   sync.Mutex
	rate     *policy.SourceLimiter

	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
	stop    chan struct{} // closed by Stop
}

// listener is one bound TCP listener.
type listener struct {
	ln       net.Listener
	addr     netip.AddrPort
	sniffers []Sniffer
	proxy    Proxy
	tag      any
}

// counters count the lives of connections; any goroutine writes them.
type counters struct {
	handshakeFailed, notTURN, frameTooLarge atomic.Uint64
	frameTimeouts, idleTimeouts             atomic.Uint64
	lifetimeExpired, writeTimeouts          atomic.Uint64
	refusedRate                             atomic.Uint64
	proxyUntrusted, proxyBadHeader          atomic.Uint64
	proxyPending                            atomic.Uint64
}

// Listen binds the listeners of opts. Nothing is served before Run.
func Listen(opts Options) (*Server, error) {
	s := &Server{limits: opts.Limits.WithDefaults(), handler: opts.Handler, log: opts.Log, stop: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	admitted, err := netx.NewLimiter(s.limits.Connections, s.limits.ConnectionsPerSource)
	if err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	s.admitted = admitted
	if s.pending, err = netx.NewLimiter(s.limits.Connections, proxyPendingPerSource); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	if s.limits.ConnectionRate >= 0 {
		lim := policy.SourceLimit{Rate: s.limits.ConnectionRate, Burst: s.limits.ConnectionBurst}
		if s.rate, err = policy.NewSourceLimiter(lim, connectionRateSources, nil); err != nil {
			return nil, fmt.Errorf("stream: connection rate: %w", err)
		}
	}
	for _, l := range opts.Listeners {
		if len(l.Sniffers) == 0 {
			s.closeListeners()
			return nil, fmt.Errorf("stream: listen tcp %v: %w", l.Addr, ErrNoProtocol)
		}
		if l.Proxy.Mode != ProxyNone && len(l.Proxy.Trusted) == 0 {
			s.closeListeners()
			return nil, fmt.Errorf("stream: listen tcp %v: %w", l.Addr, ErrNoTrustedProxy)
		}
		network := "tcp4"
		if l.Addr.Addr().Is6() && !l.Addr.Addr().Is4In6() {
			network = "tcp6"
		}
		ln, err := net.Listen(network, l.Addr.String())
		if err != nil {
			if opts.SkipUnavailable && unavailable(err) {
				s.log.Warn("listener skipped: address not available on this host", "protocol", "tcp", "address", l.Addr)
				continue
			}
			s.closeListeners()
			return nil, fmt.Errorf("stream: listen tcp %v: %w", l.Addr, err)
		}
		bl := &listener{ln: ln, addr: ln.Addr().(*net.TCPAddr).AddrPort(), sniffers: l.Sniffers, proxy: l.Proxy, tag: l.Tag}
		s.listeners = append(s.listeners, bl)
		s.addrs = append(s.addrs, bl.addr)
	}
	return s, nil
}

// unavailable reports whether a listen error means the host lacks the
// address (such as ::1 without IPv6).
func unavailable(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}

// closeListeners closes the bound listeners (Listen failed).
func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		_ = l.ln.Close()
	}
}

// Addrs returns the bound addresses, with the ports the kernel chose for
// port 0.
func (s *Server) Addrs() []netip.AddrPort { return append([]netip.AddrPort(nil), s.addrs...) }

// Run starts an accept goroutine per listener.
func (s *Server) Run() {
	for _, l := range s.listeners {
		s.wg.Add(1)
		go s.accept(l)
	}
}

// Stop closes the listeners and every connection, once, and waits for
// their goroutines.
func (s *Server) Stop() {
	s.mu.Lock()
	first := !s.stopped
	if first {
		s.stopped = true
		close(s.stop)
	}
	s.mu.Unlock()
	if first {
		s.closeListeners()
		s.conns.Close()
	}
	s.wg.Wait()
}

// Stats returns the counts of the connections.
func (s *Server) Stats() stats.StreamStats {
	adm := s.admitted.Stats()
	return stats.StreamStats{
		Open:             adm.Open,
		Accepted:         adm.Admitted,
		RefusedTotal:     adm.RefusedTotal,
		RefusedPerSource: adm.RefusedPerSource,
		RefusedRate:      s.ctr.refusedRate.Load(),
		HandshakeFailed:  s.ctr.handshakeFailed.Load(),
		NotTURN:          s.ctr.notTURN.Load(),
		FrameTooLarge:    s.ctr.frameTooLarge.Load(),
		FrameTimeouts:    s.ctr.frameTimeouts.Load(),
		IdleTimeouts:     s.ctr.idleTimeouts.Load(),
		LifetimeExpired:  s.ctr.lifetimeExpired.Load(),
		WriteTimeouts:    s.ctr.writeTimeouts.Load(),
		ProxyUntrusted:   s.ctr.proxyUntrusted.Load(),
		ProxyBadHeader:   s.ctr.proxyBadHeader.Load(),
		ProxyPending:     s.ctr.proxyPending.Load(),
	}
}

// accept accepts connections on l until it is closed.
func (s *Server) accept(l *listener) {
	defer s.wg.Done()
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off a little
			// instead of spinning.
			s.log.Warn("accept failed", "address", l.addr, "err", err)
			select {
			case <-s.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		accepted := time.Now()
		remote := nc.RemoteAddr().(*net.TCPAddr).AddrPort()
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
		if l.proxy.Mode != ProxyNone {
			s.acceptProxied(nc, l, remote, accepted)
			continue
		}
		release, ok := s.admit(remote.Addr())
		if !ok {
			_ = nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(nc, l, remote, accepted, release, nil)
		}()
	}
}

// acceptProxied takes a connection to a listener behind proxies: from an
// untrusted address it is closed at once; from a trusted one it waits for
// its header in its own goroutine, within the proxy's bound of header
// waits, and is admitted as the client the header names.
func (s *Server) acceptProxied(nc net.Conn, l *listener, remote netip.AddrPort, accepted time.Time) {
	if !l.proxy.trusts(remote.Addr()) {
		s.ctr.proxyUntrusted.Add(1)
		s.log.Debug("connection refused: not from a trusted proxy", "address", l.addr, "remote", remote)
		_ = nc.Close()
		return
	}
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	done, err := s.pending.Admit(remote.Addr())
	if stopped || err != nil {
		if err != nil {
			s.ctr.proxyPending.Add(1)
		}
		_ = nc.Close()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = nc.SetDeadline(accepted.Add(s.limits.HandshakeTimeout))
		client, prefix, err := readProxy(nc, l.proxy.Mode, remote)
		done()
		if err != nil {
			s.ctr.proxyBadHeader.Add(1)
			s.log.Debug("connection refused: no valid PROXY protocol header", "address", l.addr, "remote", remote, "err", err)
			_ = nc.Close()
			return
		}
		release, ok := s.admit(client.Addr())
		if !ok {
			_ = nc.Close()
			return
		}
		s.serve(nc, l, client, accepted, release, prefix)
	}()
}

// admit counts a new connection from src against the rate and the limits;
// false means refused (counted), or the server is stopping. release gives
// the connection's places back.
func (s *Server) admit(src netip.Addr) (release func(), ok bool) {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return nil, false
	}
	if s.rate != nil {
		s.rateMu.Lock()
		ok := s.rate.Allow(src)
		s.rateMu.Unlock()
		if !ok {
			s.ctr.refusedRate.Add(1)
			return nil, false
		}
	}
	release, err := s.admitted.Admit(src)
	return release, err == nil
}

// serve sniffs a new connection from the client at remote, completes its
// handshake and serves it until it closes. prefix holds the first bytes
// of the client's stream when reading a PROXY protocol header took them.
func (s *Server) serve(nc net.Conn, l *listener, remote netip.AddrPort, accepted time.Time, release func(), prefix []byte) {
	defer release()
	_ = nc.SetDeadline(accepted.Add(s.limits.HandshakeTimeout))
	o, ok := s.sniff(nc, l, prefix)
	if !ok {
		_ = nc.Close()
		return
	}
	_ = o.Conn.SetDeadline(time.Time{})
	local := nc.LocalAddr().(*net.TCPAddr).AddrPort()
	c := newConn(s, o, remote, netip.AddrPortFrom(local.Addr().Unmap(), local.Port()), accepted)
	c.tag = l.tag
	if !s.conns.Add(c) {
		_ = c.Close()
		return
	}
	defer s.conns.Remove(c)
	if err := s.handler.Opened(c); err != nil {
		_ = c.Close()
		return
	}
	c.readLoop(o.Prefix)
	_ = c.Close()
	s.handler.Closed(c)
}

// sniff tries the sniffers of l on nc, whose first bytes prefix has read
// already, in order; false means none claimed it, or the one that did
// failed its handshake (both counted).
func (s *Server) sniff(nc net.Conn, l *listener, prefix []byte) (Opening, bool) {
	sn := &Sniff{conn: nc}
	sn.n = copy(sn.buf[:], prefix)
	for _, sniffer := range l.sniffers {
		switch o, v := sniffer(sn); v {
		case Claim:
			return o, true
		case Fail:
			s.ctr.handshakeFailed.Add(1)
			return Opening{}, false
		}
	}
	if _, ok := sn.Peek(1); !ok {
		s.ctr.handshakeFailed.Add(1)
	} else {
		s.ctr.notTURN.Add(1)
	}
	return Opening{}, false
}
