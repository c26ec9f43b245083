package server

import (
	"errors"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// handleChannelData relays a ChannelData message from a client to the peer
// bound to its channel (RFC 8656 §12.6): a message on a channel that is not
// bound, or whose peer lacks a permission, is silently discarded. s is the
// session of the client's 5-tuple (nil: none), tos the TOS byte the message
// arrived with.
func (w *worker) handleChannelData(s *session, b []byte, tos uint8) {
	num, payload, err := stunproto.ParseChannelData(b)
	if err != nil {
		w.p.drop(stats.DropMalformed)
		return
	}
	now := w.env.clock.Now()
	if !w.live(s, now) {
		return
	}
	peer, ok := s.alloc.ChannelPeer(num, now)
	if !ok {
		w.p.drop(stats.DropNoChannel)
		return
	}
	if !s.alloc.HasPermission(peer.Addr(), now) {
		w.p.drop(stats.DropNoPermission)
		return
	}
	w.toPeer(s, payload, peer, tos, false, now)
}

// live reports whether s is a session whose allocation has not expired
// at now, for the forwarders; it counts a DropNoAllocation otherwise (an
// allocation expired but not yet reaped by the tick is gone).
func (w *worker) live(s *session, now time.Time) bool {
	if s == nil || s.alloc.Expired(now) {
		w.p.drop(stats.DropNoAllocation)
		return false
	}
	return true
}

// handleSend relays the DATA of a Send indication (RFC 8656 §11.2): the
// indication is discarded when there is no allocation, when XOR-PEER-ADDRESS
// or DATA is missing, when it carries an unknown comprehension-required
// attribute or a malformed DONT-FRAGMENT, or when the peer has no
// permission. Indications are never answered. s is the session of the
// client's 5-tuple (nil: none), tos the TOS byte the indication arrived
// with.
func (w *worker) handleSend(s *session, m *stun.Message, tos uint8) {
	now := w.env.clock.Now()
	if !w.live(s, now) {
		return
	}
	if s.tcp != nil {
		// A TCP allocation relays over peer data connections only
		// (RFC 6062 §5).
		w.p.drop(stats.DropBadIndication)
		return
	}
	w.unknown = stunproto.UnknownComprehensionRequired(m, knownSend, w.unknown[:0])
	if len(w.unknown) > 0 {
		w.p.drop(stats.DropBadIndication)
		return
	}
	var peer stunproto.XORPeerAddress
	if err := peer.GetFrom(m); err != nil {
		w.p.drop(stats.DropBadIndication)
		return
	}
	var data stunproto.Data
	if err := data.GetFrom(m); err != nil {
		w.p.drop(stats.DropBadIndication)
		return
	}
	// RFC 8656 §11.2: DONT-FRAGMENT asks for the datagram to the peer to
	// be sent with DF.
	df := false
	switch err := (stunproto.DontFragment{}).GetFrom(m); {
	case err == nil:
		df = true
	case !errors.Is(err, stun.ErrAttributeNotFound):
		w.p.drop(stats.DropBadIndication)
		return
	}
	if !s.alloc.HasPermission(peer.Addr.Addr(), now) {
		w.p.drop(stats.DropNoPermission)
		return
	}
	if w.env.peers.Load().refused(peer.Addr) {
		w.p.drop(stats.DropPeerDenied)
		return
	}
	w.toPeer(s, data, peer.Addr, tos, df, now)
}

// toPeer sends payload to peer from the relayed address of the peer's family,
// with the TOS byte the client's datagram carried (RFC 8656 §14: DSCP and
// ECN "set the outgoing value to the incoming value"). With df, the relay
// socket is switched to DF for good first: Linux sets DF on IPv4 only per
// socket, so once a client asks for it, every later datagram of that relayed
// address goes out with DF (RFC 8656 §14 prefers copying the client's DF bit
// otherwise, which a socket cannot do either). Payload over the bandwidth
// caps at now is dropped (see allowBandwidth).
func (w *worker) toPeer(s *session, payload []byte, peer netip.AddrPort, tos uint8, df bool, now time.Time) {
	if !w.allowBandwidth(s, dirToPeer, len(payload), now) {
		return
	}
	rl := s.relayFor(peer.Addr())
	if rl == nil {
		// Unreachable while permissions are installed only for the
		// families the allocation has (checkPeer); kept so that a broken
		// invariant drops a packet instead of crashing the worker.
		w.p.drop(stats.DropNoPermission)
		return
	}
	if df && !rl.df {
		if err := rl.sock.SetDontFragment(true); err != nil {
			w.p.drop(stats.DropSendFailed)
			return
		}
		rl.df = true
	}
	if err := rl.sock.QueueTo(payload, peer, tos); err != nil {
		w.p.drop(stats.DropSendFailed)
		return
	}
	w.p.toPeerPackets++
	w.p.toPeerBytes += uint64(len(payload))
	w.touch(s)
	s.pend.toPeerPackets++
	s.pend.toPeerBytes += uint64(len(payload))
}

// handlePeer relays a datagram that reached a relay socket to the client
// (RFC 8656 §11.5 and §12.6): only from peers with a permission; as ChannelData
// when a channel is bound to the peer, else as a Data indication. Both are
// written in place, in the headroom and tailroom that the data path leaves
// around the payload, and sent with the TOS byte tos of the peer's datagram
// (RFC 8656 §14). Payload over the bandwidth caps is dropped (see
// allowBandwidth).
func (w *worker) handlePeer(s *session, from netip.AddrPort, buf []byte, off, n int, tos uint8) {
	now := w.env.clock.Now()
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if s.ms != nil {
		w.msToClient(s, from, buf, off, n, tos, now)
		return
	}
	if !w.live(s, now) {
		return
	}
	if !s.alloc.HasPermission(from.Addr(), now) {
		w.p.drop(stats.DropNoPermission)
		return
	}
	if !w.allowBandwidth(s, dirToClient, n, now) {
		return
	}
	var msg []byte
	if num, ok := s.alloc.PeerChannel(from, now); ok {
		start := off - stunproto.ChannelDataHeaderSize
		stunproto.PutChannelDataHeader(buf[start:], num, n)
		msg = buf[start : off+n]
	} else {
		w.indicationSeq++
		var id [12]byte
		putTxID(&id, w.indicationSeq)
		var err error
		msg, err = stunproto.BuildDataIndication(buf, off, n, from, id)
		if err != nil {
			w.p.drop(stats.DropMalformed)
			return
		}
	}
	w.sendToClient(s, msg, n, tos)
}

// sendToClient sends msg, which carries n bytes of a peer's data, to the
// client of s with the TOS byte tos and counts it.
func (w *worker) sendToClient(s *session, msg []byte, n int, tos uint8) {
	if err := s.client.sock.QueueTo(msg, s.alloc.FiveTuple.Client, tos); err != nil {
		w.p.drop(sendDropReason(err))
		return
	}
	w.p.toClientPackets++
	w.p.toClientBytes += uint64(n)
	w.touch(s)
	s.pend.toClientPackets++
	s.pend.toClientBytes += uint64(n)
}

// putTxID fills a Data indication's transaction ID from a per-worker
// sequence number: the first 8 bytes are the number multiplied by an odd
// constant and XORed with a per-process random key (a bijection, so the IDs
// of one worker never repeat), the last 4 a second mix of those 8. An
// indication is never answered, so the ID only has to be hard to predict
// without the key, not unique across workers; it costs no allocation.
func putTxID(id *[12]byte, seq uint64) {
	x := seq*0x9E3779B97F4A7C15 ^ indicationIDKey
	for i := 0; i < 8; i++ {
		id[i] = byte(x >> (8 * i))
	}
	y := (x ^ x>>31) * 0xBF58476D1CE4E5B9
	id[8], id[9], id[10], id[11] = byte(y>>32), byte(y>>40), byte(y>>48), byte(y>>56)
}
