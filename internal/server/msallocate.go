package server

import (
	"errors"
	"time"

	"github.com/avedge/avedge/internal/auth"
	"github.com/avedge/avedge/internal/msturn"
	"github.com/avedge/avedge/internal/server/stats"
)

// msAllocate implements [MS-TURN] §3.3.5.1, the Allocate request, which
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
func (w *worker) msAllocate(q *msRequest) {
	m := q.m
	key := answerKey{client: q.from, server: q.l.addr, proto: q.l.proto(), id: m.TxID}
	if !w.fresh(q.l, q.from, m.IntegritySize() != 0, key, q.now) {
		return
	}
	version := msVersion(m)
	if m.IntegritySize() == 0 {
		w.c.auth[stats.AuthChallenge].Add(1)
		w.msChallenge(q, msturn.CodeUnauthorized, "Unauthorized", version)
		return
	}
	s, res, ok := w.msAuthenticate(q, version)
	if !ok {
		return
	}
	var out []byte
	w.msUnknown = m.Unknown(w.msUnknown[:0])
	switch {
	case len(w.msUnknown) > 0:
		// After authentication, as RFC 8489 §6.3.1 orders it: an
		// unauthenticated source gets no answer larger than a 401.
		b := w.msBegin(q, msturn.AllocateError)
		b.AddErrorCode(msturn.CodeUnknownAttribute, "Unknown Attribute")
		b.AddUnknown(w.msUnknown)
		out = w.msFinish(q, msturn.NewIntegrity(res.Key))
		w.msAnswer(q, out)
	case s != nil:
		out = w.msRefresh(q, s)
	default:
		out = w.msNewAllocation(q, res, version)
	}
	if out != nil {
		w.answers.put(key, out, q.now)
	}
}

// msChallenge answers q with an unsigned error carrying REALM, a fresh
// NONCE and MS-VERSION: the 401 of [MS-TURN] §3.3.5.1, or the 438 of a
// stale nonce.
func (w *worker) msChallenge(q *msRequest, code int, reason string, version uint32) {
	b := w.msBegin(q, msturn.AllocateError)
	b.AddErrorCode(code, reason)
	b.AddString(msturn.AttrRealm, w.env.auth.Realm())
	b.AddString(msturn.AttrNonce, w.env.auth.Nonce(q.from))
	b.AddUint32(msturn.AttrMSVersion, version)
	w.msAnswer(q, w.msFinish(q, nil))
}

// msAuthenticate runs steps 3 and 4 of msAllocate. It returns the live
// MS-TURN allocation of the 5-tuple when the request is a refresh by its
// owner (nil for a new allocation) and the authentication result; ok is
// false when it answered (or dropped) the request instead.
func (w *worker) msAuthenticate(q *msRequest, version uint32) (s *session, res auth.Result, ok bool) {
	m := q.m
	username, errU := m.Get(msturn.AttrUsername)
	realm, errR := m.Get(msturn.AttrRealm)
	nonce, errN := m.Get(msturn.AttrNonce)
	switch {
	case errU != nil:
		w.msRefuseAuth(q, stats.AuthBadRequest, msturn.CodeMissingUsername, "Missing Username")
		return nil, res, false
	case errR != nil:
		w.msRefuseAuth(q, stats.AuthBadRequest, msturn.CodeMissingRealm, "Missing Realm")
		return nil, res, false
	case errN != nil:
		w.msRefuseAuth(q, stats.AuthBadRequest, msturn.CodeMissingNonce, "Missing Nonce")
		return nil, res, false
	case string(realm) != w.env.auth.Realm():
		if w.msOverLimit(q) {
			return nil, res, false
		}
		w.c.auth[stats.AuthUnknownUser].Add(1)
		w.msChallenge(q, msturn.CodeUnauthorized, "Unauthorized", version)
		return nil, res, false
	}
	sha := m.IntegritySize() == 32 && version >= 3
	if !sha && m.IntegritySize() != 20 {
		w.msRefuseAuth(q, stats.AuthBadRequest, msturn.CodeBadRequest, "Bad Request")
		return nil, res, false
	}
	u, rlm, n := string(username), string(realm), string(nonce)
	res, err := w.env.auth.AuthenticateWith(u, rlm, n, q.from, func(pw string) []byte {
		key := msturn.Key(u, rlm, pw)
		if sha {
			key = msturn.KeySHA256(u, rlm, pw, n)
		}
		if msturn.NewIntegrity(key).Check(m) != nil {
			return nil
		}
		return key
	})
	if s = q.s; s != nil && s.alloc.Expired(q.now) {
		w.msKeepAlive(s, q.now) // one over TCP lives on
	}
	s = w.unlessExpired(s, q.now)
	// A refresh carries the nonce of the allocation's 401 for the
	// allocation's whole life: clients of the dialect never ask for a
	// new one. It authenticated with the allocation's key on its 5-tuple.
	if (errors.Is(err, auth.ErrStaleNonce) || errors.Is(err, auth.ErrBadNonce)) &&
		s != nil && s.ms != nil && n == s.ms.nonce && res.Username == s.alloc.Username {
		err = nil
	}
	if err != nil {
		if w.msOverLimit(q) {
			return nil, res, false
		}
		w.c.auth[authResultOf(err)].Add(1)
		switch {
		case errors.Is(err, auth.ErrStaleNonce), errors.Is(err, auth.ErrBadNonce):
			w.msChallenge(q, msturn.CodeStaleNonce, "Stale Nonce", version)
		case errors.Is(err, auth.ErrBadIntegrity):
			w.msError(q, msturn.AllocateError, msturn.CodeIntegrityFailure, "Integrity Check Failure", nil)
		default:
			w.msError(q, msturn.AllocateError, msturn.CodeUnknownUsername, "Unknown Username", nil)
		}
		return nil, res, false
	}
	w.c.auth[stats.AuthOK].Add(1)
	if s != nil && (s.ms == nil || s.alloc.Username != res.Username) {
		// The 5-tuple holds an RFC TURN allocation, or another user's.
		integ := msturn.NewIntegrity(res.Key)
		if s.ms == nil {
			w.msError(q, msturn.AllocateError, msturn.CodeNoBinding, "Allocation Mismatch", integ)
		} else {
			w.msError(q, msturn.AllocateError, msturn.CodeWrongUsername, "Wrong Username", integ)
		}
		return nil, res, false
	}
	return s, res, true
}

// msRefuseAuth counts a failed authentication under result and answers
// code, unless the source is over its limit.
func (w *worker) msRefuseAuth(q *msRequest, result stats.AuthResult, code int, reason string) {
	if w.msOverLimit(q) {
		return
	}
	w.c.auth[result].Add(1)
	w.msError(q, msturn.AllocateError, code, reason, nil)
}

// msOverLimit is overLimit for the dialect: an Allocate with integrity
// about to get an error answer takes a token from its UDP source's limit,
// and is dropped (counted) over it.
func (w *worker) msOverLimit(q *msRequest) bool {
	if !w.overLimit(q.l, q.from, true) {
		return false
	}
	w.p.drop(stats.DropRateLimited)
	return true
}

// msLifetime is the lifetime an Allocate asks for: LIFETIME, or the
// default without it ([MS-TURN] §2.2.2.6), within the configured bounds;
// zero reports LIFETIME 0, a request to delete the allocation.
// Over TCP an allocation lives as long as its connection (msKeepAlive),
// so it is granted the longest lifetime: clients then refresh seldom.
func (w *worker) msLifetime(q *msRequest) (d time.Duration, zero bool) {
	v, err := q.m.Uint32(msturn.AttrLifetime)
	present := err == nil
	switch {
	case present && v == 0:
		return 0, true
	case q.l.conn != nil:
		return w.env.alloc.MaxLifetime, false
	}
	return w.env.alloc.Lifetime(time.Duration(v)*time.Second, present), false
}

// msRefresh refreshes (or with LIFETIME 0 deletes) the allocation s and
// answers with its addresses, as the Allocate that created it was.
func (w *worker) msRefresh(q *msRequest, s *session) []byte {
	d, zero := w.msLifetime(q)
	if zero {
		integ := s.ms.integ
		w.closeSession(s, stats.EndRefreshZero)
		b := w.msBegin(q, msturn.AllocateResponse)
		b.AddUint32(msturn.AttrLifetime, 0)
		out := w.msFinish(q, integ)
		w.msAnswer(q, out)
		return out
	}
	s.alloc.Refresh(d, q.now)
	w.msRecheck(s)
	return w.msAllocateSuccess(q, s)
}

// msNewAllocation makes an allocation for an authenticated Allocate with
// no allocation on its 5-tuple.
func (w *worker) msNewAllocation(q *msRequest, res auth.Result, version uint32) []byte {
	q.integ = msturn.NewIntegrity(res.Key)
	d, zero := w.msLifetime(q)
	if zero {
		return w.msError(q, msturn.AllocateError, msturn.CodeNoBinding, "No Binding", q.integ)
	}
	if w.redirectFront(q) || w.refuseDraining(q) {
		return q.out
	}
	// MS-VERSION 4: REQUESTED-ADDRESS-FAMILY picks IPv4 or IPv6; without
	// it, IPv4 (§3.2.5.1).
	fam := famV4
	if version >= 4 {
		switch f, err := q.m.RequestedFamily(); {
		case err == nil && f == msturn.FamilyIPv6:
			fam = famV6
		case err != nil && err != msturn.ErrNotFound:
			return w.msError(q, msturn.AllocateError, msturn.CodeBadRequest, "Bad Request", q.integ)
		}
	}
	if !w.env.families[fam].offered() {
		return w.msError(q, msturn.AllocateError, msturn.CodeAddressFamily, "Address Family not Supported", q.integ)
	}
	owner := quotaOwner(&res)
	nonce, _ := q.m.Get(msturn.AttrNonce) // present: msAuthenticate checked
	s, cause := w.admit(owner, allocPlan{primary: fam}, q.now, func() (*session, error) {
		s := w.newSession(q.ft(), q.l, res.Username, owner, d, q.now)
		// The dialect first: the allocation is counted by its kind.
		s.ms = newMSSession(res.Key, string(nonce), version)
		s.ms.keepUntil = res.Expires
		if err := w.openRelay(s, fam, anyPort, false); err != nil {
			return nil, err
		}
		if err := w.insertSession(s); err != nil {
			w.closeRelays(s)
			return nil, err
		}
		return s, nil
	})
	switch {
	case s != nil:
	case cause == stats.RefusedUserQuota || cause == stats.RefusedPortsPerUser:
		w.refuse(q, cause)
		return q.out
	default:
		w.refuseFull(q, &w.env.pool, cause)
		return q.out
	}
	w.env.log.Debug("allocation created", "dialect", "ms-turn", "client", q.from, "relayed", s.alloc.Relayed,
		"user", res.Identity, "version", version, "lifetime", d)
	return w.msAllocateSuccess(q, s)
}

// msAllocateSuccess answers an Allocate of s ([MS-TURN] §3.3.5.1): the
// relayed address in MAPPED-ADDRESS (the address peers send to, behind a
// 1:1 NAT the advertised one), the client's reflexive address in
// XOR-MAPPED-ADDRESS, LIFETIME, MS-SEQUENCE-NUMBER (the connection ID and
// the last number the client used: it numbers its requests from there)
// and MS-VERSION, signed with the allocation's key. Nothing else: a
// comprehension-required attribute the client does not expect makes it
// discard the whole answer.
func (w *worker) msAllocateSuccess(q *msRequest, s *session) []byte {
	b := w.msBegin(q, msturn.AllocateResponse)
	b.AddAddress(msturn.AttrMappedAddress, w.env.advertise(s.alloc.Relayed))
	b.AddXORMappedAddress(q.from)
	b.AddUint32(msturn.AttrLifetime, uint32(s.alloc.Expires().Sub(q.now)/time.Second))
	b.AddSequence(s.ms.seq)
	b.AddUint32(msturn.AttrMSVersion, s.ms.version)
	out := w.msFinish(q, s.ms.integ)
	w.msAnswer(q, out)
	return out
}
