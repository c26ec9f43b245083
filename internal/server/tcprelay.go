package server

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/policy"
	"github.com/avedge/avedge/internal/server/tcprelay"
	"github.com/avedge/avedge/internal/stunproto"
)

// tcpRelay is the relayed transport address of an RFC 6062 TCP allocation:
// a listener for peers and the peer connections of the allocation. Its
// fields after owner belong to the owner worker's goroutine; a goroutine
// of its own accepts peers and hands each one to the owner.
//
// It stands in session.relays as the allocation's socket so that the
// family rules apply unchanged; it sends no datagrams.
type tcpRelay struct {
	ln    *net.TCPListener
	addr  netip.AddrPort
	owner *worker

	s      *session
	conns  map[netip.AddrPort]*peerConn // connecting, pending or bound, by peer
	closed bool
	// bw are the allocation's bandwidth buckets by direction, shared by
	// its data connections' goroutines (see shaper).
	bw [directions]policy.SharedBucket
}

// WriteTo is not applicable: a TCP relay sends no datagrams.
func (t *tcpRelay) WriteTo([]byte, netip.AddrPort) error { return errNotApplicable }

// QueueTo is not applicable: a TCP relay sends no datagrams.
func (t *tcpRelay) QueueTo([]byte, netip.AddrPort, uint8) error { return errNotApplicable }

// SetDontFragment is not applicable: RFC 6062 §5.1 refuses DONT-FRAGMENT.
func (t *tcpRelay) SetDontFragment(bool) error { return errNotApplicable }

// LocalAddr returns the relayed transport address.
func (t *tcpRelay) LocalAddr() netip.AddrPort { return t.addr }

// Close closes the listener and every peer connection of the allocation.
// It runs on the owner, or after the workers stopped.
func (t *tcpRelay) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	err := t.ln.Close()
	for _, p := range t.conns {
		t.owner.env.tcp.pending.Remove(p.PeerConn)
		p.Shutdown()
	}
	t.conns = nil
	return err
}

// peerConn is the core's side of a peer data connection of a TCP
// allocation (tcprelay.PeerConn, whose Owner it is): the TCP relay it
// belongs to, and the release that makes the owner forget it.
type peerConn struct {
	*tcprelay.PeerConn
	relay       *tcpRelay
	releaseOnce sync.Once
}

// newPeerConn returns a peer connection of t to peer.
func newPeerConn(t *tcpRelay, peer netip.AddrPort) *peerConn {
	p := &peerConn{relay: t, PeerConn: &tcprelay.PeerConn{
		Peer: peer, Username: t.s.alloc.Username, Control: t.s.alloc.FiveTuple.Client, User: t.s.owner,
	}}
	p.Owner = p
	return p
}

// release closes p from a goroutine other than the owner and has the
// owner forget it, once.
func (p *peerConn) release() {
	p.releaseOnce.Do(func() {
		p.Shutdown()
		w := p.relay.owner
		w.env.tcp.pending.Remove(p.PeerConn)
		doOn(w.dp, func() { p.relay.forget(p) }, w.env.tcp.ctx.Done())
	})
}

// abandon closes p, which was bound to a client connection that closed
// before it could relay, from any worker: the owner forgets it if its
// queue has room, else when the allocation ends.
func (p *peerConn) abandon() {
	p.Shutdown()
	w := p.relay.owner
	w.env.tcp.pending.Remove(p.PeerConn)
	_ = w.dp.Do(func() { p.relay.forget(p) })
}

// forget drops p from the allocation's connections. On the owner.
func (t *tcpRelay) forget(p *peerConn) {
	if t.conns[p.Peer] == p {
		delete(t.conns, p.Peer)
	}
}

// openTCPRelay takes a port of family fam and listens on it for the TCP
// allocation of s (RFC 6062 §5.1). The port comes from the same pool as
// UDP relayed ports: one numbering, so a port is relayed over UDP or over
// TCP, never both.
func (w *worker) openTCPRelay(s *session, fam int) error {
	f := &w.env.families[fam]
	for range bindAttempts {
		port, err := f.pool.Take()
		if err != nil {
			return err
		}
		addr := netip.AddrPortFrom(f.addr, uint16(port))
		ln, err := datapath.ListenTCP(addr)
		if err != nil {
			w.giveBack(fam, addr, err)
			if !errors.Is(err, datapath.ErrAddrInUse) {
				return err
			}
			continue
		}
		t := &tcpRelay{ln: ln, addr: addr, owner: w, s: s, conns: make(map[netip.AddrPort]*peerConn)}
		s.relays[fam] = relay{sock: t, addr: addr}
		s.tcp = t
		w.env.tcp.wg.Add(1)
		go t.accept()
		return nil
	}
	return errNoBindablePort
}

// accept runs on a goroutine of its own until the listener closes: it
// hands every peer connection to the owner worker.
func (t *tcpRelay) accept() {
	tcp := t.owner.env.tcp
	defer tcp.wg.Done()
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like.
			select {
			case <-tcp.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		remote := nc.RemoteAddr().(*net.TCPAddr).AddrPort()
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
		if t.owner.dp.Do(func() { t.owner.peerArrived(t, nc, remote) }) != nil {
			tcp.ctr.RefusedLimit.Add(1)
			_ = nc.Close()
		}
	}
}

// peerArrived handles a peer connection accepted on a TCP relayed address
// (RFC 6062 §5.3): "If no permission for this peer has been installed for
// this allocation, the server MUST close the connection with the peer
// immediately after it has been accepted. Otherwise, the server sends a
// ConnectionAttempt indication to the client over the control connection.
// The indication MUST include an XOR-PEER-ADDRESS attribute containing the
// peer's address, as well as a CONNECTION-ID attribute uniquely identifying
// the peer data connection." On the owner.
func (w *worker) peerArrived(t *tcpRelay, nc net.Conn, peer netip.AddrPort) {
	ctr := &w.env.tcp.ctr
	now := w.env.clock.Now()
	switch {
	case t.closed:
		_ = nc.Close()
		return
	case t.s.alloc.Expired(now) || !t.s.alloc.HasPermission(peer.Addr(), now) || w.env.peers.Load().selfRefused(peer):
		ctr.RefusedNoPermission.Add(1)
		_ = nc.Close()
		return
	case len(t.conns) >= w.env.tcp.perAlloc || t.conns[peer] != nil:
		ctr.RefusedLimit.Add(1)
		_ = nc.Close()
		return
	}
	p := newPeerConn(t, peer)
	p.SetConn(nc)
	if err := w.env.tcp.pending.Add(p.PeerConn, now); err != nil {
		ctr.RefusedLimit.Add(1)
		_ = nc.Close()
		return
	}
	t.conns[peer] = p
	ctr.Inbound.Add(1)
	w.indicationSeq++
	var id [stun.TransactionIDSize]byte
	putTxID(&id, w.indicationSeq)
	m, err := stun.Build(stun.NewTransactionIDSetter(id),
		stun.NewType(stun.MethodConnectionAttempt, stun.ClassIndication),
		&stunproto.XORPeerAddress{Addr: peer}, p.ID, stun.Fingerprint)
	if err == nil {
		err = t.s.client.sock.WriteTo(m.Raw, t.s.alloc.FiveTuple.Client)
	}
	if err != nil {
		w.env.log.Debug("connection attempt not sent", "client", t.s.alloc.FiveTuple.Client, "err", err)
	}
}

// ownsPeer reports whether pc belongs to an allocation of w.
func (w *worker) ownsPeer(pc *tcprelay.PeerConn) bool { return pc.Owner.(*peerConn).relay.owner == w }

// expireTCP closes the peer connections of this worker that waited for
// their ConnectionBind too long.
func (w *worker) expireTCP(now time.Time) {
	w.expiredConns = w.env.tcp.pending.Expire(now, w.ownsPeer, w.expiredConns[:0])
	for i, pc := range w.expiredConns {
		w.env.tcp.ctr.BindsExpired.Add(1)
		p := pc.Owner.(*peerConn)
		p.Shutdown()
		p.relay.forget(p)
		w.expiredConns[i] = nil
	}
}
