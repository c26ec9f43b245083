package server

import (
	"net/netip"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/stats"
)

// answerer writes the answer to one request in the dialect it came in:
// the core decides what to refuse, redirect or drop and counts it; the
// dialect words the answer. *request (RFC TURN) implements it, and so do
// the [MS-TURN] requests (msdialect.Answerer is the same interface).
type answerer interface {
	// Deny answers with the dialect's error for cause.
	Deny(cause stats.RefusalCause)
	// TryAlternate answers 300 Try Alternate naming to.
	TryAlternate(to netip.AddrPort)
}

// rfcRefusals are the error codes and reason phrases of RFC TURN for each
// refusal cause; a nil reason is the code's standard one. While draining
// without a sibling of the client's family, an Allocate gets 508
// "draining": RFC 8656 §7.2 has no 503, and 508 Insufficient Capacity is
// what a client already handles.
var rfcRefusals = [stats.NumRefusalCauses]struct {
	code   stun.ErrorCode
	reason []byte
}{
	stats.RefusedPeerDenied:          {code: stun.CodeForbidden},
	stats.RefusedUserQuota:           {code: stun.CodeAllocQuotaReached},
	stats.RefusedPortsPerUser:        {code: stun.CodeAllocQuotaReached},
	stats.RefusedAllocationsTotal:    {code: stun.CodeInsufficientCapacity},
	stats.RefusedBandwidthCapacity:   {code: stun.CodeInsufficientCapacity},
	stats.RefusedNoRelayPort:         {code: stun.CodeInsufficientCapacity},
	stats.RefusedReservation:         {code: stun.CodeInsufficientCapacity},
	stats.RefusedPermissionsLimit:    {code: stun.CodeInsufficientCapacity},
	stats.RefusedChannelsLimit:       {code: stun.CodeInsufficientCapacity},
	stats.RefusedTCPConnectionsLimit: {code: stun.CodeInsufficientCapacity},
	stats.RefusedDraining:            {code: stun.CodeInsufficientCapacity, reason: []byte("draining")},
	stats.RefusedRedirected:          {code: stun.CodeTryAlternate},
}

// refuse counts a refusal for cause and answers a with the dialect's
// error for it.
func (w *worker) refuse(a answerer, cause stats.RefusalCause) {
	w.c.refusals[cause].Add(1)
	a.Deny(cause)
}

// redirectTo answers a with 300 Try Alternate naming to, counted as
// redirected.
func (w *worker) redirectTo(a answerer, to netip.AddrPort) {
	w.c.refusals[stats.RefusedRedirected].Add(1)
	a.TryAlternate(to)
}

// refuseFull answers a request that reached l and that this edge does
// not take for cause (full, draining): 300 Try Alternate with the next
// sibling of alts (see alternate), counted under cause and as redirected,
// or without one the dialect's error for cause.
func (w *worker) refuseFull(a answerer, l *listener, alts *alternates, cause stats.RefusalCause) {
	alt, ok := w.alternate(alts, l)
	if !ok {
		w.refuse(a, cause)
		return
	}
	w.c.refusals[cause].Add(1)
	w.redirectTo(a, alt)
}

// redirectFront answers an authenticated Allocate that reached l, a front
// listener, with 300 Try Alternate to the listener it names, counted as
// redirected. It reports false for other listeners.
func (w *worker) redirectFront(a answerer, l *listener) bool {
	to := l.redirect
	if !to.IsValid() {
		return false
	}
	w.redirectTo(a, to)
	return true
}

// refuseDraining answers an authenticated Allocate while draining, RFC
// 8489 §10 and RFC 8656 §7.2: 300 Try Alternate with ALTERNATE-SERVER, a
// sibling (see refuseFull), or the dialect's 508 without one. It reports
// false when not draining.
func (w *worker) refuseDraining(a answerer, l *listener) bool {
	d := w.env.drain
	if !d.on.Load() {
		return false
	}
	w.refuseFull(a, l, &d.alternate, stats.RefusedDraining)
	return true
}

// overLimit reports whether a request from the UDP source from that
// carried integrity, and so was not counted against its source's limit on
// arrival, is over that limit now that it is about to get an error answer
// without having authenticated: it takes a token. Only UDP sources are
// limited: their addresses can be forged, while a TCP or TLS source has
// completed a handshake and its connections are bounded per address.
func (w *worker) overLimit(l *listener, from netip.AddrPort, signed bool) bool {
	return l.conn == nil && signed && !w.allowSource(from)
}

// advertise returns the address peers reach the relayed address addr at:
// behind a 1:1 NAT, the NAT's address of addr's family
// (Options.RelayAdvertised, RelayAdvertisedV6) with addr's port.
func (e *shared) advertise(addr netip.AddrPort) netip.AddrPort {
	if a := e.advertised[familyOf(addr.Addr())]; a.IsValid() {
		return netip.AddrPortFrom(a, addr.Port())
	}
	return addr
}

// Deny implements answerer for RFC TURN.
func (r *request) Deny(cause stats.RefusalCause) {
	w := r.w
	e := rfcRefusals[cause]
	if e.reason == nil {
		w.fail(r, e.code)
		return
	}
	w.begin(r, stun.ClassErrorResponse)
	_ = (&stun.ErrorCodeAttribute{Code: e.code, Reason: e.reason}).AddTo(r.resp)
	w.finish(r)
}

// TryAlternate implements answerer for RFC TURN.
func (r *request) TryAlternate(to netip.AddrPort) {
	r.w.fail(r, stun.CodeTryAlternate, &stun.AlternateServer{IP: to.Addr().AsSlice(), Port: int(to.Port())})
}
