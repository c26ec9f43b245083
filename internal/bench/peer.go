package bench

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// peerBatch is the number of datagrams the echo peer reads and writes per
// system call.
const peerBatch = 64

// echoPeer is the built-in peer: it echoes every datagram to its source and
// counts the measured ones.
type echoPeer struct {
	r    *run
	sock *socket
	addr netip.AddrPort
	stop atomic.Bool
	done chan struct{}
}

// startPeer opens the echo peer on local and starts echoing.
func startPeer(r *run, local netip.AddrPort, maxPacket int) (*echoPeer, error) {
	s, err := listen(local)
	if err != nil {
		return nil, err
	}
	addr := s.conn.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort()
	if addr.Addr().IsUnspecified() {
		lo := netip.IPv6Loopback()
		if addr.Addr().Unmap().Is4() || local.Addr().Is4() {
			lo = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		addr = netip.AddrPortFrom(lo, addr.Port())
	}
	p := &echoPeer{r: r, sock: s, addr: netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()), done: make(chan struct{})}
	go p.loop(maxPacket)
	return p, nil
}

// loop echoes batches until close.
func (p *echoPeer) loop(maxPacket int) {
	defer close(p.done)
	ms := newMessages(peerBatch, maxPacket)
	bufs := make([][]byte, len(ms))
	for i := range ms {
		bufs[i] = ms[i].Buffers[0]
	}
	for !p.stop.Load() {
		for i := range ms {
			ms[i].Buffers[0] = bufs[i]
		}
		n, err := p.sock.batch.ReadBatch(ms, 0)
		if err != nil {
			if !p.stop.Load() && !isTimeout(err) {
				p.r.errs.addN("peer: read", 1)
			}
			continue
		}
		var measured uint64
		for i := range n {
			b := bufs[i][:ms[i].N]
			ms[i].Buffers[0] = b
			if _, _, ts, ok := parsePayload(b); ok && p.r.inWindow(ts) {
				measured++
			}
		}
		p.r.toPeer.Add(measured)
		p.r.toPeerAll.Add(uint64(n))
		for off := 0; off < n; {
			w, err := p.sock.batch.WriteBatch(ms[off:n], 0)
			if err != nil {
				p.r.errs.addN("peer: write", uint64(n-off))
				break
			}
			off += w
		}
	}
}

// close stops the peer and waits for its goroutine.
func (p *echoPeer) close() error {
	p.stop.Store(true)
	_ = p.sock.conn.SetReadDeadline(time.Now())
	<-p.done
	return p.sock.conn.Close()
}
