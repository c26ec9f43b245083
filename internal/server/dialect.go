package server

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/msdialect"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// The core's side of the [MS-TURN] dialect (internal/server/msdialect):
// which datagrams go to it, and msCore, through which its handlers reach
// the core's table, quotas, refusals and forwarders.

// fromMSClient handles a datagram from the UDP client of the [MS-TURN]
// session s: a message of the dialect goes to its handlers; anything else
// is raw data for the active destination. Before there is one, the
// client's other STUN traffic is RFC STUN on a 5-tuple held by an
// allocation RFC TURN cannot use (see handleSTUN): Binding is answered,
// other requests get 437, Send indications are dropped; ChannelData is
// dropped for want of a destination, and the rest as malformed. s is live
// at now (msUnlessExpired).
func (w *worker) fromMSClient(s *session, l *listener, from netip.AddrPort, b []byte, tos uint8, now time.Time) {
	if msturn.Is(b) {
		w.ms.Message(l, from, b, tos, s)
		return
	}
	if s.ms.Active().IsValid() {
		w.msRaw(s, b, tos, now)
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
	case w.ms.Live(asSession(s), now):
		w.msRaw(s, b, 0, now)
	}
}

// msRaw relays raw data of the client of the [MS-TURN] session s to its
// active destination (see msdialect.Handler.Raw).
func (w *worker) msRaw(s *session, b []byte, tos uint8, now time.Time) {
	if to, ok := w.ms.Raw(s.ms); ok {
		w.toPeer(s, b, to, tos, false, now)
	}
}

// msToClient relays a datagram from peer to the client of the [MS-TURN]
// session s: the dialect's checks (msdialect.Handler.FromPeer), the
// bandwidth caps, then the dialect's framing (ToClient).
func (w *worker) msToClient(s *session, from netip.AddrPort, buf []byte, off, n int, tos uint8, now time.Time) {
	if !s.ms.FromActive(from, now) && !w.ms.FromPeer(s.ms, from, now) || !w.allowBandwidth(s, dirToClient, n, now) {
		return
	}
	if msg, ok := w.ms.ToClient(s.ms, from, buf, off, n); ok {
		w.sendToClient(s, msg, n, tos)
	}
}

// msUnlessExpired returns the [MS-TURN] session s, or nil when its
// allocation expired (and may not live on, KeepAlive) but the tick has not
// reaped it yet: it ends here, and the datagram finds its 5-tuple free, as
// an RFC Allocate finds an expired RFC allocation's.
func (w *worker) msUnlessExpired(s *session, now time.Time) *session {
	if s.alloc.Expired(now) && !w.ms.KeepAlive(s, now) {
		w.closeSession(s, s.expiry())
		return nil
	}
	return s
}

// lookupSession is lookup for the dialect: nil (not a nil *session) when
// the 5-tuple has no session.
func (w *worker) lookupSession(l *listener, from netip.AddrPort) msdialect.Session {
	return asSession(w.lookup(l, from))
}

// asSession returns s as a msdialect.Session: nil for a nil s.
func asSession(s *session) msdialect.Session {
	if s == nil {
		return nil
	}
	return s
}

// Alloc implements msdialect.Session.
func (s *session) Alloc() *allocation.Allocation { return s.alloc }

// MS implements msdialect.Session.
func (s *session) MS() *msdialect.State { return s.ms }

// Stream implements msdialect.Session: the client is on a TCP connection.
func (s *session) Stream() bool { return s.client.conn != nil }

// HasRelay implements msdialect.Session.
func (s *session) HasRelay(ip netip.Addr) bool { return s.relayFor(ip) != nil }

// Addr implements msdialect.Listener.
func (l *listener) Addr() netip.AddrPort { return l.addr }

// Stream implements msdialect.Listener: l is a TCP connection.
func (l *listener) Stream() bool { return l.conn != nil }

// Transport implements msdialect.Listener: the client's transport, as
// the allocation metrics name it ("udp", "tcp", "tls", "pseudo-tls").
func (l *listener) Transport() string {
	if l.conn == nil {
		return stats.TransportUDP.String()
	}
	return l.conn.c.Transport().String()
}

// msCore is the core as the dialect's handlers see it (msdialect.Core):
// one per worker, on its goroutine.
type msCore struct{ w *worker }

var _ msdialect.Core = msCore{}

// Now implements msdialect.Core.
func (c msCore) Now() time.Time { return c.w.env.clock.Now() }

// Drop implements msdialect.Core.
func (c msCore) Drop(r stats.DropReason) { c.w.p.drop(r) }

// Answered implements msdialect.Core.
func (c msCore) Answered() { c.w.p.requests++ }

// Authenticated implements msdialect.Core.
func (c msCore) Authenticated(r stats.AuthResult) { c.w.c.auth[r].Add(1) }

// AuthFailed implements msdialect.Core.
func (c msCore) AuthFailed(err error) { c.w.c.auth[authResultOf(err)].Add(1) }

// Refused implements msdialect.Core.
func (c msCore) Refused(cause stats.RefusalCause) { c.w.c.refusals[cause].Add(1) }

// Fresh implements msdialect.Core.
func (c msCore) Fresh(l msdialect.Listener, from netip.AddrPort, signed bool, id [16]byte, now time.Time) bool {
	cl := l.(*listener)
	return c.w.fresh(cl, from, signed, answerKey{client: from, server: cl.addr, proto: cl.proto(), id: id}, now)
}

// Remember implements msdialect.Core.
func (c msCore) Remember(l msdialect.Listener, from netip.AddrPort, id [16]byte, answer []byte, now time.Time) {
	cl := l.(*listener)
	c.w.answers.put(answerKey{client: from, server: cl.addr, proto: cl.proto(), id: id}, answer, now)
}

// TakeLimit implements msdialect.Core.
func (c msCore) TakeLimit() { c.w.takeLimit() }

// OverLimit implements msdialect.Core.
func (c msCore) OverLimit(l msdialect.Listener, from netip.AddrPort) bool {
	return c.w.overLimit(l.(*listener), from, true)
}

// Reply implements msdialect.Core.
func (c msCore) Reply(l msdialect.Listener, to netip.AddrPort, b []byte) {
	c.w.reply(l.(*listener), to, b)
}

// Auth implements msdialect.Core.
func (c msCore) Auth(l msdialect.Listener) *auth.Authenticator { return l.(*listener).auth }

// PeerAllowed implements msdialect.Core: the peer policy (with the
// additions of s's tenant) and the peer rule.
func (c msCore) PeerAllowed(s msdialect.Session, peer netip.AddrPort) bool {
	return c.w.env.tenants.peerAllowed(c.w.env.policy.Load(), s.(*session).owner, peer.Addr()) && !c.w.env.peers.Load().refused(peer)
}

// Lifetime implements msdialect.Core.
func (c msCore) Lifetime(d time.Duration, present bool) time.Duration {
	return c.w.env.alloc.Lifetime(d, present)
}

// MaxLifetime implements msdialect.Core.
func (c msCore) MaxLifetime() time.Duration { return c.w.env.alloc.MaxLifetime }

// KeepUntil implements msdialect.Core: the allocation's deadline (see
// session.deadline), or with strict expiry the credential's expiry if it
// comes first.
func (c msCore) KeepUntil(res auth.Result, now time.Time) time.Time {
	until := now.Add(c.w.env.maxAge)
	if c.w.env.auth.StrictExpiry() && !res.Expires.IsZero() && res.Expires.Before(until) {
		return res.Expires
	}
	return until
}

// Offers implements msdialect.Core.
func (c msCore) Offers(ipv6 bool) bool { return c.w.env.families[family(ipv6)].offered() }

// family is the family index of ipv6 (false: IPv4).
func family(ipv6 bool) int {
	if ipv6 {
		return famV6
	}
	return famV4
}

// Advertise implements msdialect.Core.
func (c msCore) Advertise(addr netip.AddrPort) netip.AddrPort { return c.w.env.advertise(addr) }

// Allocate implements msdialect.Core: admission (quotas and capacity,
// step 10 of RFC 8656 §7.2), then a session with the dialect's state (so
// it is counted under its dialect), one relayed address and its table
// entry.
func (c msCore) Allocate(l msdialect.Listener, from netip.AddrPort, res auth.Result, ipv6 bool,
	lifetime time.Duration, ms *msdialect.State, now time.Time) (msdialect.Session, stats.RefusalCause) {
	w, cl, fam := c.w, l.(*listener), family(ipv6)
	owner := quotaOwner(&res)
	s, cause := w.admit(owner, allocPlan{primary: fam}, now, func() (*session, error) {
		ft := allocation.FiveTuple{Client: from, Server: cl.addr, Proto: cl.proto()}
		s := w.newSession(ft, cl, res.Username, owner, lifetime, now)
		s.ms = ms
		ms.Attach(s)
		if err := w.openRelay(s, fam, anyPort, false); err != nil {
			return nil, err
		}
		if err := w.insertSession(s); err != nil {
			w.closeRelays(s)
			return nil, err
		}
		return s, nil
	})
	return asSession(s), cause
}

// UnlessExpired implements msdialect.Core.
func (c msCore) UnlessExpired(s msdialect.Session, now time.Time) msdialect.Session {
	if s == nil {
		return nil
	}
	return asSession(c.w.unlessExpired(s.(*session), now))
}

// Close implements msdialect.Core.
func (c msCore) Close(s msdialect.Session, reason stats.EndReason) {
	c.w.closeSession(s.(*session), reason)
}

// InTable implements msdialect.Core.
func (c msCore) InTable(s msdialect.Session) bool {
	a := s.Alloc()
	if c.w.table.Get(a.FiveTuple) == a {
		return true
	}
	return c.w.table.Insert(a) == nil
}

// Refuse implements msdialect.Core.
func (c msCore) Refuse(a msdialect.Answerer, cause stats.RefusalCause) { c.w.refuse(a, cause) }

// RefuseFull implements msdialect.Core: to a sibling of the pool, or 508.
func (c msCore) RefuseFull(a msdialect.Answerer, l msdialect.Listener, cause stats.RefusalCause) {
	c.w.refuseFull(a, l.(*listener), &c.w.env.pool, cause)
}

// RedirectFront implements msdialect.Core.
func (c msCore) RedirectFront(a msdialect.Answerer, l msdialect.Listener) bool {
	return c.w.redirectFront(a, l.(*listener))
}

// RefuseDraining implements msdialect.Core.
func (c msCore) RefuseDraining(a msdialect.Answerer, l msdialect.Listener) bool {
	return c.w.refuseDraining(a, l.(*listener))
}

// ToPeer implements msdialect.Core.
func (c msCore) ToPeer(s msdialect.Session, payload []byte, peer netip.AddrPort, tos uint8, now time.Time) {
	c.w.toPeer(s.(*session), payload, peer, tos, false, now)
}

// IndicationID implements msdialect.Core.
func (c msCore) IndicationID(id *[12]byte) {
	c.w.indicationSeq++
	putTxID(id, c.w.indicationSeq)
}

// Log implements msdialect.Core.
func (c msCore) Log() *slog.Logger { return c.w.env.log }

// Await implements msdialect.Core (see worker.waitFor).
func (c msCore) Await(l msdialect.Listener, from netip.AddrPort, raw []byte, done <-chan struct{}) bool {
	return c.w.waitFor(l.(*listener), from, raw, done, c.w.retryMS)
}
