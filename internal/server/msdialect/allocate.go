package msdialect

import (
	"errors"
	"net/netip"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
	"github.com/avedge/avedge/internal/stunproto"
)

// allocate implements [MS-TURN] §3.3.5.1, the Allocate request, which
// also refreshes an allocation of the same 5-tuple (there is no Refresh
// method) and, with LIFETIME 0, deletes it:
//
//  1. A retransmission (same 5-tuple and transaction ID) gets the cached
//     answer.
//  2. No MESSAGE-INTEGRITY: 401 with REALM, NONCE and MS-VERSION, unsigned
//     ("MUST NOT contain Message Integrity").
//  3. MESSAGE-INTEGRITY without USERNAME: 432; without REALM: 434; without
//     NONCE: 435. A realm not ours gets the 401 challenge again, naming
//     ours.
//  4. Authentication with the key MD5(username:realm:password), or for
//     HMAC-SHA256 (MS-VERSION 3 on) the nonce-derived key: an unknown or
//     expired username is 436, a failed integrity check 431, a stale
//     nonce 438 with a fresh one.
//  5. Unknown comprehension-required attributes: 420 with
//     UNKNOWN-ATTRIBUTES, signed.
//  6. An allocation of the 5-tuple is refreshed (same relayed address) or
//     deleted; otherwise one is made, subject to the same quotas, policy
//     and capacity as RFC TURN, and answered with MAPPED-ADDRESS (the
//     relayed address), XOR-MAPPED-ADDRESS (the client's reflexive one),
//     LIFETIME, MS-SEQUENCE-NUMBER and MS-VERSION, signed.
func (h *Handler) allocate(q *request) {
	m := q.m
	if !h.core.Fresh(q.l, q.from, m.IntegritySize() != 0, m.TxID, q.now) {
		return
	}
	v := version(m)
	if m.IntegritySize() == 0 {
		h.core.Authenticated(stats.AuthChallenge)
		h.challenge(q, msturn.CodeUnauthorized, "Unauthorized", v)
		return
	}
	s, res, ok := h.authenticate(q, v)
	if !ok {
		return
	}
	var out []byte
	h.unknown = m.Unknown(h.unknown[:0])
	switch {
	case len(h.unknown) > 0:
		// After authentication, as RFC 8489 §6.3.1 orders it: an
		// unauthenticated source gets no answer larger than a 401.
		b := h.begin(q, msturn.AllocateError)
		b.AddErrorCode(msturn.CodeUnknownAttribute, "Unknown Attribute")
		b.AddUnknown(h.unknown)
		out = h.finish(q, msturn.NewIntegrity(res.Key))
		h.answer(q, out)
	case s != nil:
		out = h.refresh(q, s)
	default:
		out = h.newAllocation(q, res, v)
	}
	if out != nil {
		h.core.Remember(q.l, q.from, m.TxID, out, q.now)
	}
}

// challenge answers q with an unsigned error carrying REALM, a fresh NONCE
// and MS-VERSION: the 401 of [MS-TURN] §3.3.5.1, or the 438 of a stale
// nonce.
func (h *Handler) challenge(q *request, code int, reason string, v uint32) {
	b := h.begin(q, msturn.AllocateError)
	b.AddErrorCode(code, reason)
	authn := h.core.Auth(q.l)
	b.AddString(msturn.AttrRealm, authn.Realm())
	b.AddString(msturn.AttrNonce, authn.Nonce(q.from))
	b.AddUint32(msturn.AttrMSVersion, v)
	h.answer(q, h.finish(q, nil))
}

// authenticate runs steps 3 and 4 of allocate. It returns the live
// allocation of the dialect on the 5-tuple when the request is a refresh
// by its owner (nil for a new allocation) and the authentication result;
// ok is false when it answered (or dropped) the request instead.
func (h *Handler) authenticate(q *request, v uint32) (s Session, res auth.Result, ok bool) {
	m := q.m
	username, errU := m.Get(msturn.AttrUsername)
	realm, errR := m.Get(msturn.AttrRealm)
	nonce, errN := m.Get(msturn.AttrNonce)
	authn := h.core.Auth(q.l)
	switch {
	case errU != nil:
		h.refuseAuth(q, stats.AuthBadRequest, msturn.CodeMissingUsername, "Missing Username")
		return nil, res, false
	case errR != nil:
		h.refuseAuth(q, stats.AuthBadRequest, msturn.CodeMissingRealm, "Missing Realm")
		return nil, res, false
	case errN != nil:
		h.refuseAuth(q, stats.AuthBadRequest, msturn.CodeMissingNonce, "Missing Nonce")
		return nil, res, false
	case string(realm) != authn.Realm():
		if h.overLimit(q) {
			return nil, res, false
		}
		h.core.Authenticated(stats.AuthUnknownUser)
		h.challenge(q, msturn.CodeUnauthorized, "Unauthorized", v)
		return nil, res, false
	}
	sha := m.IntegritySize() == 32 && v >= 3
	if !sha && m.IntegritySize() != 20 {
		h.refuseAuth(q, stats.AuthBadRequest, msturn.CodeBadRequest, "Bad Request")
		return nil, res, false
	}
	u, rlm, n := string(username), string(realm), string(nonce)
	// An allocation past its lifetime (and not kept alive by its
	// connection) is gone, and holds no username whose expiry is waived:
	// at its maximum age the expired credential makes no new one.
	if s = q.s; s != nil && s.Alloc().Expired(q.now) {
		h.KeepAlive(s, q.now) // one over TCP lives on
	}
	s = h.core.UnlessExpired(s, q.now)
	held := ""
	if s != nil && s.MS() != nil {
		held = s.Alloc().Username
	}
	res, err := authn.AuthenticateWith(q.l.Transport(), u, rlm, n, q.from, held, func(c auth.Credential) []byte {
		// The MD5 key is RFC 8489's (a users file's HA1 serves); the
		// SHA-256 one needs the password.
		key := c.LongTermKey(stunproto.AlgMD5, u, rlm)
		if sha && c.Password != "" {
			key = msturn.KeySHA256(u, rlm, c.Password, n)
		} else if sha {
			key = nil
		}
		if key == nil || msturn.NewIntegrity(key).Check(m) != nil {
			return nil
		}
		return key
	})
	// A refresh carries the nonce of the allocation's 401 for the
	// allocation's whole life: clients of the dialect never ask for a
	// new one. It authenticated with the allocation's key on its 5-tuple.
	if (errors.Is(err, auth.ErrStaleNonce) || errors.Is(err, auth.ErrBadNonce)) &&
		s != nil && s.MS() != nil && n == s.MS().nonce && res.Username == s.Alloc().Username {
		err = nil
	}
	// An external lookup of the username under way: no answer yet, the
	// request runs again when it ends.
	var pending *auth.Pending
	if errors.As(err, &pending) && h.core.Await(q.l, q.from, q.m.Raw, pending.Done) {
		return nil, res, false
	}
	if err != nil {
		if h.overLimit(q) {
			return nil, res, false
		}
		h.core.AuthFailed(err)
		switch {
		case errors.Is(err, auth.ErrStaleNonce), errors.Is(err, auth.ErrBadNonce):
			h.challenge(q, msturn.CodeStaleNonce, "Stale Nonce", v)
		case errors.Is(err, auth.ErrBadIntegrity):
			h.fail(q, msturn.AllocateError, msturn.CodeIntegrityFailure, "Integrity Check Failure", nil)
		default:
			h.fail(q, msturn.AllocateError, msturn.CodeUnknownUsername, "Unknown Username", nil)
		}
		return nil, res, false
	}
	if res.PastExpiry {
		h.core.Authenticated(stats.AuthPastExpiry)
	} else {
		h.core.Authenticated(stats.AuthOK)
	}
	if s != nil && (s.MS() == nil || s.Alloc().Username != res.Username) {
		// The 5-tuple holds an RFC TURN allocation, or another user's.
		integ := msturn.NewIntegrity(res.Key)
		if s.MS() == nil {
			h.fail(q, msturn.AllocateError, msturn.CodeNoBinding, "Allocation Mismatch", integ)
		} else {
			h.fail(q, msturn.AllocateError, msturn.CodeWrongUsername, "Wrong Username", integ)
		}
		return nil, res, false
	}
	return s, res, true
}

// refuseAuth counts a failed authentication under result and answers
// code, unless the source is over its limit.
func (h *Handler) refuseAuth(q *request, result stats.AuthResult, code int, reason string) {
	if h.overLimit(q) {
		return
	}
	h.core.Authenticated(result)
	h.fail(q, msturn.AllocateError, code, reason, nil)
}

// lifetime is the lifetime an Allocate asks for: LIFETIME, or the default
// without it ([MS-TURN] §2.2.2.6), within the configured bounds; zero
// reports LIFETIME 0, a request to delete the allocation. Over TCP an
// allocation lives as long as its connection (KeepAlive), so it is granted
// the longest lifetime, re-armed while the connection is open, and told
// it lives until its keepUntil (allocateSuccess).
func (h *Handler) lifetime(q *request) (d time.Duration, zero bool) {
	v, err := q.m.Uint32(msturn.AttrLifetime)
	present := err == nil
	switch {
	case present && v == 0:
		return 0, true
	case q.l.Stream():
		return h.core.MaxLifetime(), false
	}
	return h.core.Lifetime(time.Duration(v)*time.Second, present), false
}

// refresh refreshes (or with LIFETIME 0 deletes) the allocation s and
// answers with its addresses, as the Allocate that created it was.
func (h *Handler) refresh(q *request, s Session) []byte {
	d, zero := h.lifetime(q)
	ms := s.MS()
	if zero {
		h.core.Close(s, stats.EndRefreshZero)
		b := h.begin(q, msturn.AllocateResponse)
		b.AddUint32(msturn.AttrLifetime, 0)
		out := h.finish(q, ms.integ)
		h.answer(q, out)
		return out
	}
	// Not beyond the credential's expiry (strict) or the allocation's
	// maximum age: the expiry tick then ends it.
	s.Alloc().Refresh(max(min(d, ms.keepUntil.Sub(q.now)), 0), q.now)
	ms.recheck(func(peer netip.AddrPort) bool { return h.core.PeerAllowed(s, peer) })
	return h.allocateSuccess(q, s)
}

// newAllocation makes an allocation for an authenticated Allocate with no
// allocation on its 5-tuple.
func (h *Handler) newAllocation(q *request, res auth.Result, v uint32) []byte {
	q.integ = msturn.NewIntegrity(res.Key)
	d, zero := h.lifetime(q)
	if zero {
		return h.fail(q, msturn.AllocateError, msturn.CodeNoBinding, "No Binding", q.integ)
	}
	if h.core.RedirectFront(q, q.l) || h.core.RefuseDraining(q, q.l) {
		return q.out
	}
	// MS-VERSION 4: REQUESTED-ADDRESS-FAMILY picks IPv4 or IPv6; without
	// it, IPv4 (§3.2.5.1).
	ipv6 := false
	if v >= 4 {
		switch f, err := q.m.RequestedFamily(); {
		case err == nil && f == msturn.FamilyIPv6:
			ipv6 = true
		case err != nil && err != msturn.ErrNotFound:
			return h.fail(q, msturn.AllocateError, msturn.CodeBadRequest, "Bad Request", q.integ)
		}
	}
	if !h.core.Offers(ipv6) {
		return h.fail(q, msturn.AllocateError, msturn.CodeAddressFamily, "Address Family not Supported", q.integ)
	}
	nonce, _ := q.m.Get(msturn.AttrNonce) // present: authenticate checked
	keep := h.core.KeepUntil(res, q.now)
	ms := newState(res.Key, string(nonce), v, keep)
	// Not beyond its last moment, as refresh grants: over TCP, with
	// strict expiry, the longest lifetime would outlast the credential.
	d = min(d, keep.Sub(q.now))
	h.NewConnID(&ms.seq.ConnID)
	s, cause := h.core.Allocate(q.l, q.from, res, ipv6, d, ms, q.now)
	switch {
	case s != nil:
	case cause == stats.RefusedUserQuota || cause == stats.RefusedPortsPerUser:
		h.core.Refuse(q, cause)
		return q.out
	default:
		h.core.RefuseFull(q, q.l, cause)
		return q.out
	}
	h.core.Log().Debug("allocation created", "dialect", "ms-turn", "client", q.from, "relayed", s.Alloc().Relayed,
		"user", res.Identity, "version", v, "lifetime", d)
	return h.allocateSuccess(q, s)
}

// allocateSuccess answers an Allocate of s ([MS-TURN] §3.3.5.1): the
// relayed address in MAPPED-ADDRESS (the address peers send to, behind a
// 1:1 NAT the advertised one), the client's reflexive address in
// XOR-MAPPED-ADDRESS, LIFETIME, MS-SEQUENCE-NUMBER (the connection ID and
// the last number the client used: it numbers its requests from there)
// and MS-VERSION, signed with the allocation's key. Nothing else: a
// comprehension-required attribute the client does not expect makes it
// discard the whole answer. Over TCP LIFETIME is all the allocation may
// live (to keepUntil), as it lives with its connection (KeepAlive), so the
// client never needs to refresh it: libnice 0.1.21 refreshes a minute
// before LIFETIME ends and, over TCP, hands the answer to its refresh to
// its application as media, which breaks its stream.
func (h *Handler) allocateSuccess(q *request, s Session) []byte {
	ms := s.MS()
	b := h.begin(q, msturn.AllocateResponse)
	b.AddAddress(msturn.AttrMappedAddress, h.core.Advertise(s.Alloc().Relayed))
	b.AddXORMappedAddress(q.from)
	life := s.Alloc().Expires()
	if ms.stream {
		life = ms.keepUntil
	}
	b.AddUint32(msturn.AttrLifetime, uint32(life.Sub(q.now)/time.Second))
	b.AddSequence(ms.seq)
	b.AddUint32(msturn.AttrMSVersion, ms.version)
	out := h.finish(q, ms.integ)
	h.answer(q, out)
	return out
}
