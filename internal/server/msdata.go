package server

import (
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/datapath"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// The data path leaves room in front of each datagram for the largest
// framed Data Indication (a compile-time check: negative if not).
const _ = uint(datapath.Headroom - msturn.DataIndicationHeadroom)

// msSend implements the Send request ([MS-TURN] §3.3.5.2): authenticated
// with the allocation's key and numbered with its MS-SEQUENCE-NUMBER, it
// carries DATA for DESTINATION-ADDRESS, which it also permits (the peer
// policy and the permission limit allowing). It is never answered: "the
// TURN server MUST NOT send" a Send response; what cannot be done is
// dropped and counted.
func (w *worker) msSend(q *msRequest) {
	s := w.msAuthenticated(q)
	if s == nil {
		return
	}
	if ok, retry := s.ms.sequence(q.m); !ok || retry {
		w.p.drop(stats.DropBadSequence)
		return
	}
	dest, err := q.m.Address(msturn.AttrDestinationAddress)
	data, errD := q.m.Get(msturn.AttrData)
	if err != nil || errD != nil {
		w.p.drop(stats.DropBadIndication)
		return
	}
	if cause, ok := w.msPermit(s, dest, q.now); !ok {
		w.c.refusals[cause].Add(1)
		return
	}
	w.toPeer(s, data, netip.AddrPortFrom(dest.Addr().Unmap(), dest.Port()), q.tos, false, q.now)
}

// msSetActive implements Set Active Destination ([MS-TURN] §3.3.5.3):
// after it, the client's data for DESTINATION-ADDRESS travels raw (UDP)
// or in end-to-end frames (TCP), and so does the destination's data to
// the client. The destination takes effect at once ("the TURN server
// SHOULD NOT implement" the transition delay of the older drafts), before
// the answer; a refused request leaves the active destination as it was.
// A retransmission (the same sequence number and transaction ID) gets the
// same answer; the last number again in another transaction is dropped,
// as an older one is.
func (w *worker) msSetActive(q *msRequest) {
	s := w.msAuthenticated(q)
	if s == nil {
		return
	}
	ms := s.ms
	switch ok, retry := ms.sequence(q.m); {
	case retry && len(ms.sad) > 0 && q.m.TxID == ms.sadID:
		w.p.requests++
		w.reply(q.l, q.from, ms.sad)
		return
	case !ok || retry:
		w.p.drop(stats.DropBadSequence)
		return
	}
	ms.keepSAD(q.m.TxID, w.msSetActiveAnswer(q, s))
}

// msSetActiveAnswer carries out the Set Active Destination q of s and
// returns the answer it sent.
func (w *worker) msSetActiveAnswer(q *msRequest, s *session) []byte {
	ms := s.ms
	dest, err := q.m.Address(msturn.AttrDestinationAddress)
	if err != nil {
		return w.msError(q, msturn.SetActiveDestError, msturn.CodeBadRequest, "Bad Request", ms.integ)
	}
	if cause, ok := w.msPermit(s, dest, q.now); !ok {
		q.integ = ms.integ
		w.refuse(q, cause)
		return q.out
	}
	ms.active = netip.AddrPortFrom(dest.Addr().Unmap(), dest.Port())
	b := w.msBegin(q, msturn.SetActiveDestResponse)
	b.AddSequence(ms.seq)
	out := w.msFinish(q, ms.integ)
	w.msAnswer(q, out)
	return out
}

// keepSAD keeps the answer out to the Set Active Destination id for its
// retransmissions.
func (ms *msSession) keepSAD(id msturn.TxID, out []byte) {
	ms.sad, ms.sadID = append(ms.sad[:0], out...), id
}

// msRaw relays data that the client of s sent outside the dialect's
// messages (a datagram without MAGIC-COOKIE, or an end-to-end frame) to
// its active destination; without one it is dropped.
func (w *worker) msRaw(s *session, b []byte, tos uint8, now time.Time) {
	if !s.ms.active.IsValid() {
		w.p.drop(stats.DropNoPermission)
		return
	}
	w.toPeer(s, b, s.ms.active, tos, false, now)
}

// fromMSClient handles a datagram from the UDP client of the [MS-TURN]
// session s: a message of the dialect goes to its handlers; anything else
// is raw data for the active destination. Before there is one, the
// client's other STUN traffic is RFC STUN on a 5-tuple held by an
// allocation RFC TURN cannot use (see handleSTUN): Binding is answered,
// other requests get 437, Send indications are dropped; ChannelData is
// dropped for want of a destination, and the rest as malformed.
func (w *worker) fromMSClient(s *session, l *listener, from netip.AddrPort, b []byte, tos uint8) {
	if msturn.Is(b) {
		w.handleMS(l, from, b, tos, s)
		return
	}
	now := w.env.clock.Now()
	if s.ms.active.IsValid() {
		if w.msLive(s, now) {
			w.msRaw(s, b, tos, now)
		}
		return
	}
	switch stunproto.Classify(b) {
	case stunproto.KindSTUN:
		w.handleSTUN(nil, true, l, from, b, tos)
	case stunproto.KindChannelData:
		w.p.drop(stats.DropNoPermission)
	default:
		w.p.drop(stats.DropMalformed)
	}
}

// msRawFromStream relays an end-to-end frame of a TCP client of the
// dialect.
func (w *worker) msRawFromStream(l *listener, from netip.AddrPort, b []byte) {
	now := w.env.clock.Now()
	s := w.lookup(l, from)
	switch {
	case s != nil && s.ms == nil:
		w.p.drop(stats.DropMalformed)
	case w.msLive(s, now):
		w.msRaw(s, b, 0, now)
	}
}

// msUnlessExpired returns the [MS-TURN] session s, or nil when its
// allocation expired (and may not live on, msKeepAlive) but the tick has
// not reaped it yet: it ends here, and the datagram finds its 5-tuple
// free, as an RFC Allocate finds an expired RFC allocation's.
func (w *worker) msUnlessExpired(s *session) *session {
	now := w.env.clock.Now()
	if s.alloc.Expired(now) && !w.msKeepAlive(s, now) {
		w.closeSession(s, stats.EndExpired)
		return nil
	}
	return s
}

// msLive reports whether s is an [MS-TURN] session that is live at now,
// re-armed when it may be (msKeepAlive); it counts a DropNoAllocation
// otherwise.
func (w *worker) msLive(s *session, now time.Time) bool {
	if s == nil || (s.alloc.Expired(now) && !w.msKeepAlive(s, now)) {
		w.p.drop(stats.DropNoAllocation)
		return false
	}
	return true
}

// msToClient relays a datagram from peer to the client of the MS-TURN
// session s: from the active destination raw (over TCP in an end-to-end
// frame), from another peer the client has sent to as a Data Indication
// (0x0115), written in place in the room the data path leaves in front of
// the payload. The active destination needs no other permission: clients
// send nothing but raw data to it, which cannot refresh one.
func (w *worker) msToClient(s *session, from netip.AddrPort, buf []byte, off, n int, tos uint8, now time.Time) {
	if !w.msLive(s, now) {
		return
	}
	ms := s.ms
	active := from == ms.active
	if !active && !(ms.permits(from) && s.alloc.HasPermission(from.Addr(), now)) {
		w.p.drop(stats.DropNoPermission)
		return
	}
	if !w.allowBandwidth(s, dirToClient, n, now) {
		return
	}
	stream := s.client.conn != nil
	var msg []byte
	switch {
	case active && stream:
		msg = buf[off-msturn.FrameHeaderSize : off+n]
		msturn.PutFrameHeader(msg, msturn.FrameData, n)
	case active:
		msg = buf[off : off+n]
	default:
		w.indicationSeq++
		var id msturn.TxID
		putTxID((*[12]byte)(id[:12]), w.indicationSeq)
		var err error
		if msg, err = msturn.BuildDataIndication(buf, off, n, from, id, stream); err != nil {
			w.p.drop(stats.DropMalformed)
			return
		}
	}
	w.sendToClient(s, msg, n, tos)
}
