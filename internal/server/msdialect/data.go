package msdialect

import (
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
)

// send implements the Send request ([MS-TURN] §3.3.5.2): authenticated
// with the allocation's key and numbered with its MS-SEQUENCE-NUMBER, it
// carries DATA for DESTINATION-ADDRESS, which it also permits (the peer
// policy and the permission limit allowing). It is never answered: "the
// TURN server MUST NOT send" a Send response; what cannot be done is
// dropped and counted.
func (h *Handler) send(q *request) {
	s := h.authenticated(q)
	if s == nil {
		return
	}
	if ok, retry := s.MS().sequence(q.m); !ok || retry {
		h.core.Drop(stats.DropBadSequence)
		return
	}
	dest, err := q.m.Address(msturn.AttrDestinationAddress)
	data, errD := q.m.Get(msturn.AttrData)
	if err != nil || errD != nil {
		h.core.Drop(stats.DropBadIndication)
		return
	}
	if cause, ok := h.permit(s, dest, q.now); !ok {
		h.core.Refused(cause)
		return
	}
	h.core.ToPeer(s, data, netip.AddrPortFrom(dest.Addr().Unmap(), dest.Port()), q.tos, q.now)
}

// setActive implements Set Active Destination ([MS-TURN] §3.3.5.3): after
// it, the client's data for DESTINATION-ADDRESS travels raw (UDP) or in
// end-to-end frames (TCP), and so does the destination's data to the
// client. The destination takes effect at once ("the TURN server SHOULD
// NOT implement" the transition delay of the older drafts), before the
// answer; a refused request leaves the active destination as it was. A
// retransmission (the same sequence number and transaction ID) gets the
// same answer; the last number again in another transaction is dropped,
// as an older one is.
func (h *Handler) setActive(q *request) {
	s := h.authenticated(q)
	if s == nil {
		return
	}
	ms := s.MS()
	switch ok, retry := ms.sequence(q.m); {
	case retry && len(ms.sad) > 0 && q.m.TxID == ms.sadID:
		h.core.Answered()
		h.core.Reply(q.l, q.from, ms.sad)
		return
	case !ok || retry:
		h.core.Drop(stats.DropBadSequence)
		return
	}
	ms.keepSAD(q.m.TxID, h.setActiveAnswer(q, s))
}

// setActiveAnswer carries out the Set Active Destination q of s and
// returns the answer it sent.
func (h *Handler) setActiveAnswer(q *request, s Session) []byte {
	ms := s.MS()
	dest, err := q.m.Address(msturn.AttrDestinationAddress)
	if err != nil {
		return h.fail(q, msturn.SetActiveDestError, msturn.CodeBadRequest, "Bad Request", ms.integ)
	}
	if cause, ok := h.permit(s, dest, q.now); !ok {
		q.integ = ms.integ
		h.core.Refuse(q, cause)
		return q.out
	}
	ms.active = netip.AddrPortFrom(dest.Addr().Unmap(), dest.Port())
	b := h.begin(q, msturn.SetActiveDestResponse)
	b.AddSequence(ms.seq)
	out := h.finish(q, ms.integ)
	h.answer(q, out)
	return out
}

// authenticated finds the allocation of the dialect on q's 5-tuple for a
// Send or Set Active Destination and checks that the request comes from
// its owner: the USERNAME of the allocation (when present) and its key's
// integrity (the allocation never outlives its keepUntil, so the
// credential's expiry needs no check of its own). It counts a drop and
// returns nil otherwise.
func (h *Handler) authenticated(q *request) Session {
	s := q.s
	if s != nil && s.MS() == nil {
		h.core.Drop(stats.DropUnexpected)
		return nil
	}
	if !h.Live(s, q.now) {
		return nil
	}
	ms, a := s.MS(), s.Alloc()
	if u, err := q.m.Get(msturn.AttrUsername); err == nil && string(u) != a.Username {
		h.core.Drop(stats.DropBadIntegrity)
		return nil
	}
	if ms.integ.Check(q.m) != nil {
		h.core.Drop(stats.DropBadIntegrity)
		return nil
	}
	return s
}

// permit checks that a Send or Set Active Destination to peer may be
// carried out for s: the allocation has a relayed address of the peer's
// family, the peer policy allows it and there is room for one more
// permission. It installs the permission (the peer's IP for the
// allocation's lifetime rules, its transport address for the dialect)
// and reports whether it did; cause is the refusal otherwise.
func (h *Handler) permit(s Session, peer netip.AddrPort, now time.Time) (cause stats.RefusalCause, ok bool) {
	ms := s.MS()
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	if !s.HasRelay(peer.Addr()) || !h.core.PeerAllowed(s, peer) {
		return stats.RefusedPeerDenied, false
	}
	known := ms.permits(peer)
	if !known && len(ms.dests) >= maxDests {
		return stats.RefusedPermissionsLimit, false
	}
	if s.Alloc().AddPermission(peer.Addr(), now) != nil {
		return stats.RefusedPermissionsLimit, false
	}
	if !known {
		ms.dests = append(ms.dests, peer)
	}
	return 0, true
}

// Live reports whether s is a session of the dialect that is live at now,
// re-armed when it may be (KeepAlive); it counts a DropNoAllocation
// otherwise.
func (h *Handler) Live(s Session, now time.Time) bool {
	if s == nil || (s.Alloc().Expired(now) && !h.KeepAlive(s, now)) {
		h.core.Drop(stats.DropNoAllocation)
		return false
	}
	return true
}

// KeepAlive re-arms the expired allocation of s, for another lifetime,
// when it is an allocation of the dialect over a TCP connection (after
// pseudo-TLS or without it) whose credential has not expired, and reports
// whether it did (the allocation is in the table, live). The core's
// expiry tick calls it, and so do the forwarders when a packet beats the
// tick. Such an allocation ends with its connection: libnice 0.1.21 never
// refreshes over pseudo-TLS and cannot take the answer to a refresh over
// TCP, so the lifetime alone would cut its calls. Its keepUntil still
// bounds it, as the maximum age bounds RFC TURN refreshes.
func (h *Handler) KeepAlive(s Session, now time.Time) bool {
	ms := s.MS()
	if ms == nil || !s.Stream() {
		return false
	}
	d := min(h.core.MaxLifetime(), ms.keepUntil.Sub(now))
	if d <= 0 {
		return false
	}
	s.Alloc().Refresh(d, now)
	ms.recheck(func(peer netip.AddrPort) bool { return h.core.PeerAllowed(s, peer) })
	return h.core.InTable(s)
}

// Raw returns where data that the client of the allocation of ms sent
// outside the dialect's messages (a datagram without MAGIC-COOKIE, or an
// end-to-end frame) goes: its active destination, which the core relays
// it to. Without one, ok is false and the data is dropped (counted).
func (h *Handler) Raw(ms *State) (to netip.AddrPort, ok bool) {
	if !ms.active.IsValid() {
		h.core.Drop(stats.DropNoPermission)
		return netip.AddrPort{}, false
	}
	return ms.active, true
}

// FromPeer is the first half of relaying a datagram from peer to the
// client of the allocation of ms: it reports whether the datagram may go
// (the allocation is live, re-armed when it may be; from is the active
// destination, or a peer the client has sent to and that holds a
// permission), counting a drop otherwise. The active destination needs no
// other permission: clients send nothing but raw data to it, which cannot
// refresh one. The core then applies its bandwidth caps and has ToClient
// frame the datagram.
func (h *Handler) FromPeer(ms *State, from netip.AddrPort, now time.Time) bool {
	if ms.FromActive(from, now) {
		return true
	}
	a := ms.alloc
	if a.Expired(now) && !h.KeepAlive(ms.session, now) {
		h.core.Drop(stats.DropNoAllocation)
		return false
	}
	if from != ms.active && !(ms.permits(from) && a.HasPermission(from.Addr(), now)) {
		h.core.Drop(stats.DropNoPermission)
		return false
	}
	return true
}

// ToClient frames a datagram from peer that FromPeer let through, in
// place, as the message to send to the client: from the active destination
// raw (over TCP in an end-to-end frame), from another peer as a Data
// Indication (0x0115), written in the room the data path leaves in front
// of the payload. ok is false (counted) when it cannot be framed.
func (h *Handler) ToClient(ms *State, from netip.AddrPort, buf []byte, off, n int) (msg []byte, ok bool) {
	active, stream := from == ms.active, ms.stream
	switch {
	case active && stream:
		msg = buf[off-msturn.FrameHeaderSize : off+n]
		msturn.PutFrameHeader(msg, msturn.FrameData, n)
	case active:
		msg = buf[off : off+n]
	default:
		// The ID goes through the handler's scratch: a local's address
		// passed through Core would escape to the heap.
		h.core.IndicationID((*[12]byte)(h.indicationID[:12]))
		var err error
		if msg, err = msturn.BuildDataIndication(buf, off, n, from, h.indicationID, stream); err != nil {
			h.core.Drop(stats.DropMalformed)
			return nil, false
		}
	}
	return msg, true
}
