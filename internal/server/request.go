package server

import (
	"errors"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/allocation"
	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/server/stream"
	"github.com/avedge/avedge/internal/stunproto"
)

const (
	// answerCacheSize bounds the retransmission cache of one worker.
	answerCacheSize = 4096
	// answerCacheTTL is how long a response is replayed for retransmissions:
	// RFC 8489 §6.2.1 makes a client give up after Rc retransmissions, 39.5 s
	// with the default RTO.
	answerCacheTTL = 40 * time.Second
)

// request is the state one request handler works on.
type request struct {
	w    *worker // the worker handling it
	ft   allocation.FiveTuple
	l    *listener
	m    *stun.Message
	resp *stun.Message
	auth *auth.Result // nil until authenticated
	now  time.Time
	// s is the session of ft when the request arrived (nil: none); held
	// tells that ft is held by an allocation of another dialect, which
	// RFC TURN requests cannot use.
	s    *session
	held bool
	// deferred: the handler answers later (Connect, RFC 6062 §5.2, or
	// a request waiting for an external credential lookup).
	deferred bool
	// waiting: the request waits for a credential lookup and runs
	// again (see worker.await); it is counted then.
	waiting bool
	// limited: the answer would be a 401 or 438 over the source's limit;
	// the request is dropped unanswered.
	limited bool
}

// handleRequest answers one STUN request from the 5-tuple whose session is
// s (nil: none; see request.held for held). Responses to authenticated
// requests are cached, so a retransmission on the same 5-tuple with the
// same transaction ID gets the same bytes without running the request
// twice.
func (w *worker) handleRequest(l *listener, from netip.AddrPort, m *stun.Message, s *session, held bool) {
	now := w.env.clock.Now()
	key := answerKey{client: from, server: l.addr, proto: l.proto()}
	copy(key.id[:], m.TransactionID[:])
	if !w.fresh(l, from, !unauthenticated(m), key, now) {
		return
	}
	r := &w.request // the worker's: an answerer would escape to the heap
	*r = request{
		w:    w,
		ft:   allocation.FiveTuple{Client: from, Server: l.addr, Proto: l.proto()},
		l:    l,
		m:    m,
		resp: w.resp,
		now:  now,
		s:    s,
		held: held,
	}
	w.dispatch(r)
	if r.limited {
		w.p.drop(stats.DropRateLimited)
		return
	}
	if r.waiting {
		return
	}
	w.p.requests++
	if r.deferred {
		return
	}
	if r.auth != nil {
		w.answers.put(key, r.resp.Raw, now)
	}
	w.reply(l, from, r.resp.Raw)
}

// fresh is how every request starts, in either dialect: an unsigned one
// over its UDP source's limit is dropped (counted), and a retransmission of
// one already answered gets the answer from the cache. It reports whether
// the request is to be handled.
func (w *worker) fresh(l *listener, from netip.AddrPort, signed bool, key answerKey, now time.Time) bool {
	if l.conn == nil && !signed && !w.allowSource(from) {
		w.p.drop(stats.DropRateLimited)
		return false
	}
	if cached, ok := w.answers.get(key, now); ok {
		w.p.requests++
		w.reply(l, from, cached)
		return false
	}
	return true
}

// limited is for a request about to get an error answer without having
// authenticated (see overLimit): over its source's limit, it sets
// r.limited (the request is dropped unanswered) and reports true.
func (w *worker) limited(r *request) bool {
	r.limited = w.overLimit(r.l, r.ft.Client, !unauthenticated(r.m))
	return r.limited
}

// reply sends the answer b to a request. Its client waits for it before
// its next request, so the worker's next wait for packets skips the batch
// delay (datapath.Worker.Hurry).
func (w *worker) reply(l *listener, to netip.AddrPort, b []byte) {
	if w.dp != nil {
		w.dp.Hurry()
	}
	if err := l.sock.QueueTo(b, to, 0); err != nil {
		w.p.drop(sendDropReason(err))
	}
}

// sendDropReason is the reason a message that could not be sent is counted
// under: a stream client whose queue is full is stalled; anything else is
// a failed send.
func sendDropReason(err error) stats.DropReason {
	if errors.Is(err, stream.ErrFull) {
		return stats.DropClientStalled
	}
	return stats.DropSendFailed
}

// dispatch builds the response to r in r.resp.
func (w *worker) dispatch(r *request) {
	switch r.m.Type.Method {
	case stun.MethodBinding:
		w.binding(r)
		return
	case stun.MethodAllocate, stun.MethodRefresh, stun.MethodCreatePermission, stun.MethodChannelBind,
		stun.MethodConnect, stun.MethodConnectionBind:
		if !r.l.stunOnly {
			break
		}
		// A STUN-only listener knows Binding alone.
		fallthrough
	default:
		// RFC 8489 §6.3.1: a request for a method the server does not
		// know gets 400.
		if !w.limited(r) {
			w.fail(r, stun.CodeBadRequest)
		}
		return
	}
	var authenticated bool
	if r.m.Type.Method == stun.MethodConnectionBind {
		authenticated = w.authenticateBind(r)
	} else {
		authenticated = w.authenticate(r, w.heldUsername(r))
	}
	if !authenticated {
		return
	}
	// RFC 8489 §6.3.1.1: after the authentication checks, unknown
	// comprehension-required attributes get 420 with UNKNOWN-ATTRIBUTES.
	w.unknown = stunproto.UnknownComprehensionRequired(r.m, knownTURN, w.unknown[:0])
	if len(w.unknown) > 0 {
		w.fail(r, stun.CodeUnknownAttribute, stun.UnknownAttributes(w.unknown))
		return
	}
	switch r.m.Type.Method {
	case stun.MethodAllocate:
		w.allocate(r)
	case stun.MethodRefresh:
		w.refresh(r)
	case stun.MethodCreatePermission:
		w.createPermission(r)
	case stun.MethodChannelBind:
		w.channelBind(r)
	case stun.MethodConnect:
		w.connect(r)
	case stun.MethodConnectionBind:
		w.connectionBind(r)
	}
}

// heldUsername is the username of the live RFC TURN allocation r's
// 5-tuple holds, whose expiry does not bar r (auth.Authenticate), or "".
// An allocation past its lifetime (not reaped yet) holds nothing: an
// Allocate on its 5-tuple with the expired credential would otherwise
// start a new allocation beyond the maximum age.
func (w *worker) heldUsername(r *request) string {
	if r.s == nil || r.s.ms != nil || r.s.alloc.Expired(r.now) {
		return ""
	}
	return r.s.alloc.Username
}

// authenticate runs the long-term credential checks of RFC 8489 §9.2.4,
// waiving the expiry of held. On failure it writes the error response (401
// or 438 with a fresh challenge, or 400) and returns false, unless the
// source is over its limit (overLimit). A request whose username an
// external hook is looking up is deferred (worker.await): it runs again
// when the answer is in, and the worker serves other packets meanwhile.
func (w *worker) authenticate(r *request, held string) bool {
	res, err := r.l.auth.AuthenticateOn(r.l.Transport(), r.m, r.ft.Client, held)
	if err == nil {
		w.c.auth[authOK(res)].Add(1)
		r.auth = &res
		ignoreAfterIntegrity(r.m)
		return true
	}
	if errors.Is(err, auth.ErrPending) {
		var pending *auth.Pending
		if errors.As(err, &pending) && w.await(r, pending.Done) {
			return false
		}
	}
	// A 438 to a request whose integrity verified is no amplification: the
	// nonce's MAC proves its client saw an answer at this address. It is
	// answered whatever the source's limit, so that spoofed requests
	// "from" a busy NAT cannot keep its users from refreshing.
	verified := res.Key != nil && errors.Is(err, auth.ErrStaleNonce)
	if !verified && w.limited(r) {
		return false // dropped unanswered: counted as a drop
	}
	w.c.auth[authResultOf(err)].Add(1)
	switch {
	case errors.Is(err, auth.ErrBadRequest):
		w.fail(r, stun.CodeBadRequest)
	case errors.Is(err, auth.ErrStaleNonce), errors.Is(err, auth.ErrBadNonce):
		// A nonce minted for another client address (a replayed request)
		// or an old one: a fresh nonce lets a genuine client retry.
		w.fail(r, stun.CodeStaleNonce, r.l.auth.Challenge(r.ft.Client)...)
	default:
		w.fail(r, stun.CodeUnauthorized, r.l.auth.Challenge(r.ft.Client)...)
	}
	return false
}

// ignoreAfterIntegrity drops from m.Attributes everything after the first
// integrity attribute: RFC 8489 §14.5 and §14.6 make a server ignore what
// follows MESSAGE-INTEGRITY(-SHA256) but FINGERPRINT, which is not signed and
// so could have been appended by anyone on the path.
func ignoreAfterIntegrity(m *stun.Message) {
	for i, a := range m.Attributes {
		if a.Type == stun.AttrMessageIntegrity || a.Type == stun.AttrMessageIntegritySHA256 {
			m.Attributes = m.Attributes[:i]
			return
		}
	}
}

// session returns the live allocation of r's 5-tuple and checks that r uses
// the credentials that created it. Otherwise it answers 437 or 441 (RFC 8656
// §7.3, §9.2, §11.2 and the "same username" rule of §7.2). A 5-tuple held
// by an allocation of another dialect has none RFC requests can use: 437.
func (w *worker) session(r *request) *session {
	s := r.s
	if s == nil || s.alloc.Expired(r.now) {
		w.fail(r, stun.CodeAllocMismatch)
		return nil
	}
	if r.auth.Username != s.alloc.Username {
		w.fail(r, stun.CodeWrongCredentials)
		return nil
	}
	return s
}

// begin starts the response to r with the given class.
func (w *worker) begin(r *request, class stun.MessageClass) {
	resp := r.resp
	resp.Reset()
	resp.Type = stun.NewType(r.m.Type.Method, class)
	resp.TransactionID = r.m.TransactionID
	resp.WriteHeader()
}

// finish adds SOFTWARE and the integrity the request used (if it was
// authenticated) and FINGERPRINT. Answers to unauthenticated requests (401,
// 438, Binding) leave SOFTWARE out, which RFC 8489 §14.14 makes optional:
// they stay small, as they can be sent to a forged source address.
func (w *worker) finish(r *request) {
	if w.env.software != nil && r.auth != nil {
		_ = w.env.software.AddTo(r.resp)
	}
	if r.auth != nil {
		if err := r.auth.Sign(r.resp); err != nil {
			w.env.log.Error("signing response", "err", err)
		}
	}
	_ = stun.Fingerprint.AddTo(r.resp)
}

// succeed answers r with a success response carrying attrs.
func (w *worker) succeed(r *request, attrs ...stun.Setter) {
	w.begin(r, stun.ClassSuccessResponse)
	for _, a := range attrs {
		if err := a.AddTo(r.resp); err != nil {
			w.env.log.Error("building response", "method", r.m.Type.Method.String(), "err", err)
		}
	}
	w.finish(r)
}

// fail answers r with an error response with code and extra attributes.
func (w *worker) fail(r *request, code stun.ErrorCode, extra ...stun.Setter) {
	w.begin(r, stun.ClassErrorResponse)
	_ = code.AddTo(r.resp)
	for _, a := range extra {
		_ = a.AddTo(r.resp)
	}
	w.finish(r)
}

// binding answers a Binding request with the client's reflexive address
// (RFC 8489 §6.3.1 and §14.2). Binding needs no credentials.
func (w *worker) binding(r *request) {
	w.unknown = stunproto.UnknownComprehensionRequired(r.m, knownBinding, w.unknown[:0])
	if len(w.unknown) > 0 {
		w.fail(r, stun.CodeUnknownAttribute, stun.UnknownAttributes(w.unknown))
		return
	}
	w.succeed(r, &stunproto.XORMappedAddress{Addr: r.ft.Client})
}
