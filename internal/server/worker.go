package server

import (
	"net/netip"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/stunproto"
)

// socket is what the handlers need of a UDP socket. *datapath.Conn satisfies
// it; tests and fuzz targets use fakes.
type socket interface {
	WriteTo(b []byte, to netip.AddrPort) error
	LocalAddr() netip.AddrPort
	Close() error
}

// listener is one worker's client-facing socket for one configured address.
type listener struct {
	sock socket
	addr netip.AddrPort
}

// session ties an allocation to its relay socket and to the listener that
// answers its client.
type session struct {
	alloc  *allocation.Allocation
	relay  socket
	client *listener
	port   int
	owner  string // whom the allocation counts against in the quota
}

// relayOpener binds relay sockets for a worker and registers them so that
// datagrams reaching them come back to handlePeer.
type relayOpener interface {
	// open binds a UDP socket on addr whose packets are delivered with s as owner.
	open(addr netip.AddrPort, s *session) (socket, error)
	// close deregisters and closes the relay socket of s.
	close(s *session)
}

// worker is the per-core request handler and forwarder. Everything in it is
// owned by one goroutine: the datapath worker's loop.
type worker struct {
	env    *shared
	table  *allocation.Table
	tx     *txCache
	relays relayOpener

	req, resp *stun.Message
	unknown   []stun.AttrType
	peers     []netip.AddrPort
	ips       []netip.Addr
	txSeq     uint64

	c counters
}

func newWorker(env *shared, relays relayOpener) *worker {
	return &worker{
		env:     env,
		table:   allocation.NewTable(env.alloc),
		tx:      newTxCache(txCacheSize, txCacheTTL),
		relays:  relays,
		req:     new(stun.Message),
		resp:    new(stun.Message),
		unknown: make([]stun.AttrType, 0, 8),
		peers:   make([]netip.AddrPort, 0, 8),
	}
}

// HandlePacket implements datapath.Handler: it routes a datagram to the
// client side or the peer side by the socket it arrived on.
func (w *worker) HandlePacket(c *datapath.Conn, from netip.AddrPort, buf []byte, off, n int) {
	switch o := c.Owner.(type) {
	case *session:
		w.handlePeer(o, from, buf, off, n)
	case *listener:
		w.handleClient(o, from, buf, off, n)
	}
}

// handleClient handles one datagram from a client: ChannelData is forwarded
// without STUN parsing; STUN goes to the request and indication handlers;
// anything else is dropped and counted.
func (w *worker) handleClient(l *listener, from netip.AddrPort, buf []byte, off, n int) {
	b := buf[off : off+n]
	switch stunproto.Classify(b) {
	case stunproto.KindChannelData:
		w.handleChannelData(l, from, b)
	case stunproto.KindSTUN:
		w.handleSTUN(l, from, b)
	default:
		w.c.drop(DropMalformed)
	}
}

func (w *worker) handleSTUN(l *listener, from netip.AddrPort, b []byte) {
	req := w.req
	req.Raw = append(req.Raw[:0], b...)
	if err := req.Decode(); err != nil {
		w.c.drop(DropMalformed)
		return
	}
	// RFC 8489 §7.3: a FINGERPRINT that does not match means the datagram is
	// not (or no longer) a STUN message: discard it.
	if req.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(req) != nil {
		w.c.drop(DropBadFingerprint)
		return
	}
	switch req.Type.Class {
	case stun.ClassRequest:
		w.handleRequest(l, from, req)
	case stun.ClassIndication:
		if req.Type.Method == stun.MethodSend {
			w.handleSend(l, from, req)
			return
		}
		w.c.drop(DropUnexpected)
	default:
		w.c.drop(DropUnexpected)
	}
}

// lookup returns the live session of the client 5-tuple, or nil.
func (w *worker) lookup(l *listener, from netip.AddrPort) *session {
	a := w.table.Get(allocation.FiveTuple{Client: from, Server: l.addr, Proto: allocation.UDP})
	if a == nil {
		return nil
	}
	s, _ := a.Relay.(*session)
	return s
}
