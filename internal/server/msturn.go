package server

import (
	"crypto/rand"
	"net/netip"
	"slices"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
)

// msMaxVersion is the highest MS-VERSION the edge speaks ([MS-TURN]
// §2.2.2.17): 3 adds HMAC-SHA256 message integrity, 4 IPv6 relayed
// addresses (REQUESTED-ADDRESS-FAMILY). Versions 5 and 6 add the
// multiplexed TURN format, which the edge does not speak: clients that
// offer them are answered 4, the version both sides then use.
const msMaxVersion = 4

// msMaxDests bounds the peer transport addresses one allocation may
// send to: an ICE agent sends to each of its peer's candidates, a
// handful.
const msMaxDests = 64

// msResponseRoom is the room for one answer: the largest is an Allocate
// success (header, cookie, two IPv6 addresses, lifetime, sequence number,
// version and an HMAC-SHA256 integrity: about 180 bytes) or a 401 with
// realm and nonce, behind a frame header.
const msResponseRoom = 512

// msSession is the dialect's state of an allocation made with [MS-TURN].
type msSession struct {
	// integ checks and signs with the allocation's key.
	integ *msturn.Integrity
	// nonce is the NONCE the allocation was created with; refreshes
	// carry it for the allocation's whole life (clients never ask again).
	nonce   string
	version uint32
	// seq is the allocation's MS-SEQUENCE-NUMBER: the connection ID it
	// gave the client and the last number the client used.
	seq msturn.Sequence
	// numbered: the client has numbered a request; from then on every
	// request must be.
	numbered bool
	// sad is the answer to the last Set Active Destination, success or
	// error, and sadID its transaction ID, for its retransmissions (same
	// sequence number, same transaction ID).
	sad   []byte
	sadID msturn.TxID
	// active is the active destination: data to and from it travels
	// raw (UDP) or in end-to-end frames (TCP). Invalid when unset.
	active netip.AddrPort
	// dests are the peer transport addresses the client has sent to or
	// made active: the dialect's permissions, by transport address, at
	// most msMaxDests of them (and each peer IP also holds an ordinary
	// permission, which expires).
	dests []netip.AddrPort
	// keepUntil is the expiry of the credential that made the
	// allocation (zero for a static user): Send and Set Active
	// Destination are refused after it, and an allocation over TCP lives
	// while its connection is open, but not beyond it (msKeepAlive).
	keepUntil time.Time
}

// permits reports whether the client has sent to peer (see dests).
func (ms *msSession) permits(peer netip.AddrPort) bool {
	for _, d := range ms.dests {
		if d == peer {
			return true
		}
	}
	return false
}

// msRequest is one [MS-TURN] request from a client.
type msRequest struct {
	// s is the session of the client's 5-tuple when the request arrived
	// (nil: none), of either dialect.
	s    *session
	l    *listener
	from netip.AddrPort
	m    *msturn.Message
	now  time.Time
	tos  uint8
	// integ signs the answers once the request has authenticated (nil
	// before: unsigned).
	integ *msturn.Integrity
	// out is the last answer sent, for the answer cache.
	out []byte
}

// errorType is the error response type of q's request.
func (q *msRequest) errorType() msturn.Type {
	if q.m.Type == msturn.SetActiveDestination {
		return msturn.SetActiveDestError
	}
	return msturn.AllocateError
}

// ft is the request's client 5-tuple.
func (q *msRequest) ft() allocation.FiveTuple {
	return allocation.FiveTuple{Client: q.from, Server: q.l.addr, Proto: q.l.proto()}
}

// handleMS handles a message of the [MS-TURN] dialect (the first attribute
// is MAGIC-COOKIE, msturn.Is): Allocate (which also refreshes and
// deallocates), Send and Set Active Destination. Anything else a client
// sends in the dialect (responses, indications) is dropped. s is the
// session of the client's 5-tuple (nil: none).
func (w *worker) handleMS(l *listener, from netip.AddrPort, b []byte, tos uint8, s *session) {
	m := &w.msMsg
	if m.Decode(b) != nil {
		w.p.drop(stats.DropMalformed)
		return
	}
	q := &w.msReq // the worker's: an answerer would escape to the heap
	*q = msRequest{s: s, l: l, from: from, m: m, now: w.env.clock.Now(), tos: tos}
	switch m.Type {
	case msturn.AllocateRequest:
		// The one request of the dialect that may come unauthenticated:
		// it is subject to the limit in force (see takeLimit).
		w.takeLimit()
		w.msAllocate(q)
	case msturn.SendRequest:
		w.msSend(q)
	case msturn.SetActiveDestination:
		w.msSetActive(q)
	default:
		w.p.drop(stats.DropUnexpected)
	}
}

// msBegin starts the answer to q of type t in the worker's response
// buffer, behind a frame header for a TCP client.
func (w *worker) msBegin(q *msRequest, t msturn.Type) *msturn.Builder {
	dst := w.msOut[:0]
	if q.l.conn != nil {
		dst = dst[:msturn.FrameHeaderSize]
	}
	w.msB.Start(dst, t, q.m.TxID)
	return &w.msB
}

// msFinish signs the answer with integ (nil: unsigned), frames it for a
// TCP client and returns its bytes, or nil when it did not fit.
func (w *worker) msFinish(q *msRequest, integ *msturn.Integrity) []byte {
	if integ != nil {
		w.msB.Sign(integ)
	}
	if w.msB.Err() != nil {
		w.env.log.Error("building an MS-TURN response", "err", w.msB.Err())
		return nil
	}
	b := w.msB.Bytes()
	if q.l.conn != nil {
		msturn.PutFrameHeader(b, msturn.FrameControl, len(b)-msturn.FrameHeaderSize)
	}
	return b
}

// msAnswer sends an answer msFinish built.
func (w *worker) msAnswer(q *msRequest, b []byte) {
	if b == nil {
		return
	}
	w.p.requests++
	q.out = b
	w.reply(q.l, q.from, b)
}

// msError answers q with an error response of type t carrying code and
// reason, signed with integ when the request authenticated (nil
// otherwise), and returns the bytes sent.
func (w *worker) msError(q *msRequest, t msturn.Type, code int, reason string, integ *msturn.Integrity) []byte {
	b := w.msBegin(q, t)
	b.AddErrorCode(code, reason)
	out := w.msFinish(q, integ)
	w.msAnswer(q, out)
	return out
}

// msVersion is the MS-VERSION the edge answers a request with: the
// client's (1 when it sends none, [MS-TURN] §2.2.2.17), at most
// msMaxVersion.
func msVersion(m *msturn.Message) uint32 {
	v, err := m.Uint32(msturn.AttrMSVersion)
	if err != nil || v == 0 {
		return 1
	}
	return min(v, msMaxVersion)
}

// newMSSession returns the dialect's state for an allocation whose
// requests verify with key: a fresh random connection ID for
// MS-SEQUENCE-NUMBER, numbered from 0.
func newMSSession(key []byte, nonce string, version uint32) *msSession {
	ms := &msSession{integ: msturn.NewIntegrity(key), nonce: nonce, version: version}
	_, _ = rand.Read(ms.seq.ConnID[:]) // never fails (crypto/rand)
	return ms
}

// sequence applies the MS-SEQUENCE-NUMBER rules to a Send or Set Active
// Destination request of the allocation ([MS-TURN] §2.2.2.21): a request
// must carry the allocation's connection ID and a number above the last
// one (serial number arithmetic); the last number again is a
// retransmission (retry true). Until the client has numbered a request,
// requests without the attribute pass (the dialect's first clients do
// not number them); once it has, every request must be numbered, so that
// none can be replayed. It reports false for a request to drop.
func (ms *msSession) sequence(m *msturn.Message) (ok, retry bool) {
	seq, err := m.Sequence()
	switch {
	case err == msturn.ErrNotFound:
		return !ms.numbered, false
	case err != nil || seq.ConnID != ms.seq.ConnID:
		return false, false
	case ms.numbered && seq.Number == ms.seq.Number:
		return true, true
	case ms.numbered && int32(seq.Number-ms.seq.Number) < 0:
		return false, false
	}
	ms.seq.Number, ms.numbered = seq.Number, true
	return true, false
}

// msAuthenticated finds the MS-TURN allocation of q's 5-tuple for a Send
// or Set Active Destination and checks that the request comes from its
// owner: the USERNAME of the allocation (when present), its key's
// integrity and a credential that has not expired. It counts a drop and
// returns nil otherwise.
func (w *worker) msAuthenticated(q *msRequest) *session {
	s := q.s
	if s != nil && s.ms == nil {
		w.p.drop(stats.DropUnexpected)
		return nil
	}
	if !w.msLive(s, q.now) {
		return nil
	}
	if u, err := q.m.Get(msturn.AttrUsername); err == nil && string(u) != s.alloc.Username {
		w.p.drop(stats.DropBadIntegrity)
		return nil
	}
	if s.ms.integ.Check(q.m) != nil {
		w.p.drop(stats.DropBadIntegrity)
		return nil
	}
	// The credential's expiry is checked on every authenticated request,
	// as for RFC TURN: an expired one sends and sets nothing more.
	if k := s.ms.keepUntil; !k.IsZero() && !q.now.Before(k) {
		w.p.drop(stats.DropExpiredCredential)
		return nil
	}
	return s
}

// msPermit checks that a Send or Set Active Destination to peer may be
// carried out for s: the allocation has a relayed address of the peer's
// family, the peer policy allows it and there is room for one more
// permission. It installs the permission (the peer's IP for the
// allocation's lifetime rules, its transport address for the dialect)
// and reports whether it did; cause is the refusal otherwise.
func (w *worker) msPermit(s *session, peer netip.AddrPort, now time.Time) (cause stats.RefusalCause, ok bool) {
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	if s.relayFor(peer.Addr()) == nil || !w.env.policy.Load().Allowed(peer.Addr()) {
		return stats.RefusedPeerDenied, false
	}
	if !s.ms.permits(peer) {
		if len(s.ms.dests) >= msMaxDests {
			return stats.RefusedPermissionsLimit, false
		}
	}
	if s.alloc.AddPermission(peer.Addr(), now) != nil {
		return stats.RefusedPermissionsLimit, false
	}
	if !s.ms.permits(peer) {
		s.ms.dests = append(s.ms.dests, peer)
	}
	return 0, true
}

// msKeepAlive re-arms the expired allocation of s, for another lifetime,
// when it is an [MS-TURN] allocation over a TCP connection (after
// pseudo-TLS or without it) whose credential has not expired, and reports
// whether it did (the allocation is in the table, live). The expiry tick
// calls it, and so do the forwarders when a packet beats the tick. Such an
// allocation ends with its connection: libnice 0.1.21 never refreshes
// over pseudo-TLS and cannot take the answer to a refresh over TCP, so
// the lifetime alone would cut its calls. The credential's expiry still
// bounds it, as it bounds RFC TURN refreshes.
func (w *worker) msKeepAlive(s *session, now time.Time) bool {
	ms := s.ms
	if ms == nil || s.client.conn == nil {
		return false
	}
	d := w.env.alloc.MaxLifetime
	if !ms.keepUntil.IsZero() {
		d = min(d, ms.keepUntil.Sub(now))
	}
	if d <= 0 {
		return false
	}
	s.alloc.Refresh(d, now)
	w.msRecheck(s)
	if w.table.Get(s.alloc.FiveTuple) == s.alloc {
		return true
	}
	return w.table.Insert(s.alloc) == nil
}

// msRecheck applies the current peer policy (SetPolicy may have changed
// it) to the peers the client of s has sent to, on every refresh of the
// allocation: a peer the policy now denies loses its permission and, if
// it was the active destination, that role. RFC TURN permissions get the
// same check when they are refreshed.
func (w *worker) msRecheck(s *session) {
	ms, pol := s.ms, w.env.policy.Load()
	ms.dests = slices.DeleteFunc(ms.dests, func(p netip.AddrPort) bool { return !pol.Allowed(p.Addr()) })
	if ms.active.IsValid() && !pol.Allowed(ms.active.Addr()) {
		ms.active = netip.AddrPort{}
	}
}
