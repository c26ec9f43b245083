package server

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/netx"
	"github.com/avedge/avedge/internal/server/stats"
)

// tlsRecordHandshake is the first byte of a TLS connection: the content
// type of a handshake record (RFC 8446 §5.1).
const tlsRecordHandshake = 0x16

// streamState is what the server keeps for TCP and TLS clients: the
// listeners, the connection limits and the open connections.
type streamState struct {
	limits    StreamLimits
	listeners []*streamListener
	addrs     []netip.AddrPort
	seed      maphash.Seed
	ctr       streamCounters
	// admitted bounds the connections in total and per source address;
	// conns are the open ones, closed when the server stops.
	admitted *netx.Limiter
	conns    netx.Tracker

	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
	stop    chan struct{} // closed when the server stops
}

// streamListener is one bound TCP listener.
type streamListener struct {
	ln    net.Listener
	addr  netip.AddrPort
	plain bool
	tls   *tls.Config // nil: no TLS
}

// streamCounters count the life of client connections; any goroutine
// writes them.
type streamCounters struct {
	handshakeFailed, notTURN, frameTooLarge atomic.Uint64
	frameTimeouts, idleTimeouts             atomic.Uint64
	writeTimeouts                           atomic.Uint64
}

// snapshot returns the counts of the connections admitted by lim (nil: no
// listener) and of their lives.
func (c *streamCounters) snapshot(lim *netx.Limiter) stats.StreamStats {
	var adm netx.LimitStats
	if lim != nil {
		adm = lim.Stats()
	}
	return stats.StreamStats{
		Open:             adm.Open,
		Accepted:         adm.Admitted,
		RefusedTotal:     adm.RefusedTotal,
		RefusedPerSource: adm.RefusedPerSource,
		HandshakeFailed:  c.handshakeFailed.Load(),
		NotTURN:          c.notTURN.Load(),
		FrameTooLarge:    c.frameTooLarge.Load(),
		FrameTimeouts:    c.frameTimeouts.Load(),
		IdleTimeouts:     c.idleTimeouts.Load(),
		WriteTimeouts:    c.writeTimeouts.Load(),
	}
}

// listenStream binds the TCP listeners of opts.
func (s *Server) listenStream(opts Options) error {
	st := &s.stream
	st.limits = opts.Stream.withDefaults()
	st.seed = maphash.MakeSeed()
	admitted, err := netx.NewLimiter(st.limits.Connections, st.limits.ConnectionsPerSource)
	if err != nil {
		return fmt.Errorf("server: stream limits: %w", err)
	}
	st.admitted = admitted
	st.stop = make(chan struct{})
	for _, sl := range opts.StreamListeners {
		if !sl.Plain && sl.Certs == nil {
			return fmt.Errorf("server: listen tcp %v: neither plain TURN nor TLS", sl.Addr)
		}
		network := "tcp4"
		if sl.Addr.Addr().Is6() && !sl.Addr.Addr().Is4In6() {
			network = "tcp6"
		}
		ln, err := net.Listen(network, sl.Addr.String())
		if err != nil {
			if opts.SkipUnavailable && unavailable(err) {
				s.env.log.Warn("listener skipped: address not available on this host", "protocol", "tcp", "address", sl.Addr)
				continue
			}
			return fmt.Errorf("server: listen tcp %v: %w", sl.Addr, err)
		}
		l := &streamListener{ln: ln, addr: ln.Addr().(*net.TCPAddr).AddrPort(), plain: sl.Plain}
		if sl.Certs != nil {
			l.tls = tlsConfig(sl.Certs)
		}
		st.listeners = append(st.listeners, l)
		st.addrs = append(st.addrs, l.addr)
	}
	return nil
}

// unavailable reports whether a listen error means the host lacks the
// address (such as ::1 without IPv6).
func unavailable(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}

// StreamAddrs returns the bound TCP addresses (with the ports the kernel
// chose for port 0).
func (s *Server) StreamAddrs() []netip.AddrPort {
	return append([]netip.AddrPort(nil), s.stream.addrs...)
}

// runStream starts an accept goroutine per TCP listener.
func (s *Server) runStream() {
	for _, l := range s.stream.listeners {
		s.stream.wg.Add(1)
		go s.accept(l)
	}
}

// stopStream closes the listeners and every connection, once, and waits
// for their goroutines. The workers may still run or be stopped for good.
func (s *Server) stopStream() {
	st := &s.stream
	st.mu.Lock()
	if st.stop == nil {
		// New failed before the listeners were set up.
		st.mu.Unlock()
		return
	}
	first := !st.stopped
	if first {
		st.stopped = true
		close(st.stop)
	}
	st.mu.Unlock()
	if first {
		for _, l := range st.listeners {
			_ = l.ln.Close()
		}
		st.conns.Close()
	}
	st.wg.Wait()
}

// accept accepts connections on l until it is closed.
func (s *Server) accept(l *streamListener) {
	defer s.stream.wg.Done()
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off a little
			// instead of spinning.
			s.env.log.Warn("accept failed", "address", l.addr, "err", err)
			select {
			case <-s.stream.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		remote := nc.RemoteAddr().(*net.TCPAddr).AddrPort()
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
		release, ok := s.admitConn(remote.Addr())
		if !ok {
			_ = nc.Close()
			continue
		}
		s.stream.wg.Add(1)
		go s.serveStream(nc, l, remote, release)
	}
}

// admitConn counts a new connection from src against the limits; false
// means refused (and counted by the limiter), or the server is stopping.
// release gives the connection's places back.
func (s *Server) admitConn(src netip.Addr) (release func(), ok bool) {
	st := &s.stream
	st.mu.Lock()
	stopped := st.stopped
	st.mu.Unlock()
	if stopped {
		return nil, false
	}
	release, err := st.admitted.Admit(src)
	return release, err == nil
}

// serveStream sniffs a new connection, runs the TLS handshake if it is
// TLS, and serves it until it closes.
func (s *Server) serveStream(nc net.Conn, l *streamListener, remote netip.AddrPort, release func()) {
	defer s.stream.wg.Done()
	defer release()
	st := &s.stream
	_ = nc.SetDeadline(time.Now().Add(st.limits.HandshakeTimeout))
	var first [1]byte
	if _, err := nc.Read(first[:]); err != nil {
		st.ctr.handshakeFailed.Add(1)
		_ = nc.Close()
		return
	}
	var prefix []byte
	transport, ms := stats.TransportTCP, false
	switch {
	case first[0] == tlsRecordHandshake:
		// Real TLS, or the pseudo-TLS of [MS-TURN] §2.1.1, told apart by
		// the record header.
		var head [msturn.ClientHelloPrefixSize]byte
		head[0] = first[0]
		if _, err := io.ReadFull(nc, head[1:]); err != nil {
			st.ctr.handshakeFailed.Add(1)
			_ = nc.Close()
			return
		}
		switch {
		case s.env.msTurn && msturn.IsClientHelloPrefix(head[:]):
			if !pseudoTLSHandshake(nc, head[:]) {
				st.ctr.handshakeFailed.Add(1)
				_ = nc.Close()
				return
			}
			transport, ms = stats.TransportPseudoTLS, true
		case l.tls != nil:
			tc := tls.Server(&netx.PrefixConn{Conn: nc, Prefix: head[:]}, l.tls)
			if err := tc.Handshake(); err != nil {
				st.ctr.handshakeFailed.Add(1)
				_ = nc.Close()
				return
			}
			nc, transport = tc, stats.TransportTLS
		default:
			st.ctr.notTURN.Add(1)
			_ = nc.Close()
			return
		}
	case (first[0] == msturn.FrameControl || first[0] == msturn.FrameData) && s.env.msTurn && l.plain:
		// [MS-TURN] framing without pseudo-TLS, in the clear as plain TURN
		// is (a TLS-only listener takes the dialect after pseudo-TLS
		// only, as [MS-TURN] §2.1.1 has it on 443). No STUN message starts
		// with 0x03 (a method above 0x07F): an opening data frame is
		// libnice's stray connection, which the reader closes (msOpening).
		prefix, ms = first[:], true
	case first[0] < 0x50 && l.plain:
		// STUN (first two bits 00) or ChannelData on a valid channel
		// number, 0x4000-0x4FFF (RFC 8656 §12).
		prefix = first[:]
	default:
		st.ctr.notTURN.Add(1)
		_ = nc.Close()
		return
	}
	_ = nc.SetDeadline(time.Time{})
	local := nc.LocalAddr().(*net.TCPAddr).AddrPort()
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	wl := s.workers[maphash.Comparable(st.seed, remote)%uint64(len(s.workers))]
	c := newStreamConn(s, nc, wl, remote, local, transport)
	c.ms = ms
	if !st.conns.Add(c) {
		_ = c.Close()
		return
	}
	go c.writeLoop()
	c.readLoop(prefix)
	_ = c.Close()
	st.conns.Remove(c)
	// The allocation of the connection ends with it (RFC 8656 §3.1).
	doOn(wl.dp, func() { wl.w.streamClosed(c) }, st.stop)
}

// pseudoTLSHandshake completes the pseudo-TLS handshake of [MS-TURN]
// §2.1.1 on nc, whose first bytes head (the record header) were read:
// the rest of the fixed ClientHello, then ServerHello and ServerHelloDone
// in one record and one write (clients read them in one go). It reports
// false when the ClientHello is not the fixed one or the connection
// fails.
func pseudoTLSHandshake(nc net.Conn, head []byte) bool {
	var hello [msturn.ClientHelloSize]byte
	copy(hello[:], head)
	if _, err := io.ReadFull(nc, hello[len(head):]); err != nil || !msturn.IsClientHello(hello[:]) {
		return false
	}
	var random, session [32]byte
	_, _ = rand.Read(random[:]) // never fails (crypto/rand)
	_, _ = rand.Read(session[:])
	var answer [msturn.ServerHelloSize]byte
	msturn.PutServerHello(answer[:], &random, &session)
	_, err := nc.Write(answer[:])
	return err == nil
}

// doOn runs fn on the goroutine of dp. When the worker's queue is full it
// waits and retries, which slows the calling connection's reader down (the
// TCP window then pushes back on the client), until cancel is closed. It
// returns false when fn was not queued.
func doOn(dp *datapath.Worker, fn func(), cancel <-chan struct{}) bool {
	for {
		err := dp.Do(fn)
		if err == nil {
			return true
		}
		if !errors.Is(err, datapath.ErrBusy) {
			return false
		}
		t := time.NewTimer(time.Millisecond)
		select {
		case <-cancel:
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// streamClosed ends the allocation of a closed client connection (RFC 8656
// §3.1: over TCP and TLS the allocation is tied to the connection). It runs
// on the worker goroutine.
func (w *worker) streamClosed(c *streamConn) {
	if s := w.lookup(c.l, c.remote); s != nil && s.client == c.l {
		w.closeSession(s, stats.EndConnectionClosed)
	}
	// A ConnectionBind whose connection closed before the reader saw it
	// leaves its peer connection to close here (c.bound is the worker's
	// to read; when the reader did relay, this is a no-op).
	if c.bound != nil {
		c.bound.abandon()
	}
}
