package server

import (
	"errors"

	"github.com/pion/stun/v3"

	"github.com/avedge/avedge/internal/server/tcprelay"
	"github.com/avedge/avedge/internal/stunproto"
)

// authenticateBind authenticates a ConnectionBind. Nonces are bound to
// the client's transport address, and a ConnectionBind comes on a new
// connection with the nonce the client holds for its control connection
// (pion's client does so and does not retry a 438). So when the
// CONNECTION-ID names a pending connection, the nonce is checked against
// the address of its allocation's control connection first; the integrity
// check is the same either way. Otherwise, or if that fails, the request
// is authenticated as any other (401 or 438 with a nonce for this
// connection). The allocation's username may have expired: the
// connection is one more of the allocation it made (auth.Authenticate).
func (w *worker) authenticateBind(r *request) bool {
	var id stunproto.ConnectionID
	held := ""
	if id.GetFrom(r.m) == nil {
		if ctl, username, ok := w.env.tcp.pending.Control(id, r.now); ok {
			held = username
			if res, err := r.l.auth.Authenticate(r.m, ctl, held); err == nil {
				w.c.auth[authOK(res)].Add(1)
				r.auth = &res
				ignoreAfterIntegrity(r.m)
				return true
			}
		}
	}
	return w.authenticate(r, held)
}

// connectionBind implements RFC 6062 §5.4 "Receiving a ConnectionBind
// Request". It runs on the worker of the new client connection, which may
// not own the allocation: it takes the peer connection out of the shared
// registry and touches no allocation state. On success the connection's
// reader leaves the framer and relays raw bytes (streamConn.relayData).
func (w *worker) connectionBind(r *request) {
	c := r.l.conn
	// "If the client connection transport is not TCP or TLS, the server
	// MUST return a 400". A connection that holds an allocation (a
	// control connection) cannot become a data connection either.
	if c == nil || c.c.Held() {
		w.env.tcp.ctr.BadBinds.Add(1)
		w.fail(r, stun.CodeBadRequest)
		return
	}
	// "If the request does not contain the CONNECTION-ID attribute, or if
	// this attribute does not refer to an existing pending connection, the
	// server MUST return a 400".
	var id stunproto.ConnectionID
	if id.GetFrom(r.m) != nil {
		w.env.tcp.ctr.BadBinds.Add(1)
		w.fail(r, stun.CodeBadRequest)
		return
	}
	pc, err := w.env.tcp.pending.Claim(id, r.auth.Username, r.now)
	switch {
	case errors.Is(err, tcprelay.ErrOtherCredentials):
		// The same credentials as the allocation, as for every request
		// about it (RFC 8656 §7.2): 441.
		w.env.tcp.ctr.BadBinds.Add(1)
		w.fail(r, stun.CodeWrongCredentials)
		return
	case err != nil:
		w.env.tcp.ctr.BadBinds.Add(1)
		w.fail(r, stun.CodeBadRequest)
		return
	}
	p := pc.Owner.(*peerConn)
	nc, ok := p.Bind(c)
	if !ok {
		// Closed between the claim and now (its allocation ended).
		w.env.tcp.ctr.BadBinds.Add(1)
		w.fail(r, stun.CodeBadRequest)
		return
	}
	c.bound, c.peerNC = p, nc
	w.env.tcp.ctr.Bound.Add(1)
	w.succeed(r)
}
